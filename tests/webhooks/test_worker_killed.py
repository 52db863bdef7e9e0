"""Issue 17, point 1: "a worker killed mid-delivery loses none", with real processes.

A Celery worker (`celery -A mortar worker --pool=solo`, as in test_worker.py) is killed with
SIGKILL while its POST is held by the receiver: the request arrived, no answer went back.
Nothing tells anybody: the task was acknowledged when it started, the Delivery row stays
`delivering`, and the dead worker's lease on the webhook holds until it expires. A second
event is committed while no worker runs. Then a new worker and `celery beat` start, as
docker-compose.yml runs them: the wake-up the new worker gets finds the lease still held and
does nothing; beat's `sweep` finds the webhook once the lease has expired, and the new worker
delivers the interrupted event again (same webhook-id) and then the second, in order. The
workers run with a lease and a sweep of seconds (MORTAR_WEBHOOK_LEASE_SECONDS and _SWEEP_
SECONDS, a minute each in production), so that the test waits seconds, not minutes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from apps.webhooks.models import Delivery, Webhook

from . import processes
from .conftest import create_task, make_webhook, statuses, wait_for
from .test_worker import broker_mode  # noqa: F401 (a fixture used here)

pytestmark = pytest.mark.skipif(not settings.REDIS_URL,
                                reason="needs Redis (scripts/test_services.py starts one)")

# the processes' lease and sweep (the timeout must fit in the lease: half of it at most)
LEASE_SECONDS, SWEEP_SECONDS, TIMEOUT_SECONDS = 10, 1, 5
LEASES = {"MORTAR_WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS),
          "MORTAR_WEBHOOK_SWEEP_SECONDS": str(SWEEP_SECONDS),
          "MORTAR_WEBHOOK_TIMEOUT": str(TIMEOUT_SECONDS)}
# From the kill: the lease runs out, then at most two sweeps (one may come just before the
# lease expires), plus room for starting processes and delivering.
RECOVERY_DEADLINE = LEASE_SECONDS + 2 * SWEEP_SECONDS + 30


class FirstRequestGate:
    """The receiver's gate (Receiver.answer waits on it before answering): holds the first
    request until `set`; every later one passes at once. `entered`: the first one waits."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._taken = False

    def wait(self, timeout: float | None = None) -> bool:
        with self._lock:
            first, self._taken = not self._taken, True
        if not first:
            return True
        self.entered.set()
        return self._release.wait(timeout)

    def set(self) -> None:
        self._release.set()


def worker(log: Path):
    return processes.worker(log, **LEASES)


@pytest.mark.usefixtures("broker_mode")
def test_a_worker_killed_mid_delivery_loses_no_event(hooks_app, hooks_api, receiver, tmp_path):
    from mortar.celery import app

    app.control.purge()  # wake-ups other tests' writes sent with no worker to take them
    hook = make_webhook(hooks_app, receiver.url)
    receiver.gate = gate = FirstRequestGate()

    with worker(tmp_path / "worker-1.log") as doomed:
        first_id = create_task(hooks_api, "first")
        # the worker has sent its POST and waits for the answer: kill it there
        wait_for(gate.entered.is_set, "the receiver holds the first request")
        assert receiver.received == []  # received, not answered (recorded once answered)
        doomed.kill()  # SIGKILL: no handler runs, nothing is released or rescheduled
        doomed.wait(10)
    assert doomed.returncode == -9

    [interrupted] = Delivery.objects.filter(webhook=hook)
    assert (interrupted.status, interrupted.attempts) == (Delivery.Status.DELIVERING, 1)
    hook.refresh_from_db()
    dead_lease = hook.lease_until
    assert hook.lease_owner and dead_lease > timezone.now()  # the dead worker's, still held
    killed_at = time.monotonic()

    # The receiver now acts on the held request and answers it; nobody reads the answer.
    gate.set()
    wait_for(lambda: len(receiver.received) == 1 and receiver.in_flight == 0,
             "the receiver has finished the held request")

    second_id = create_task(hooks_api, "second")  # committed while no worker runs

    with worker(tmp_path / "worker-2.log"), processes.celery(
            ["beat", "-l", "INFO", "-s", str(tmp_path / "beat-schedule"),
             "--pidfile", str(tmp_path / "beat.pid")], tmp_path / "beat.log", **LEASES) as beat:
        wait_for(lambda: statuses(hook) == ["succeeded", "succeeded"],
                 "both events delivered after the kill", deadline=RECOVERY_DEADLINE)
        assert beat.poll() is None, (tmp_path / "beat.log").read_text()
    recovered_in = time.monotonic() - killed_at

    first, second = Delivery.objects.filter(webhook=hook).order_by("id")
    assert first.pk == interrupted.pk  # the interrupted row itself finished, not a copy
    assert (first.attempts, first.response_status, first.error) == (2, 200, "")
    assert first.last_attempt_at >= dead_lease  # no one delivered while the dead lease held
    assert (second.attempts, second.response_status) == (1, 200)
    assert second.event_seq > first.event_seq

    got = [(r.headers["webhook-id"], r.json["data"]["id"]) for r in receiver.received]
    assert got == [(first.message_id, first_id),  # the held request (the killed attempt)
                   (first.message_id, first_id),  # delivered again: the same webhook-id
                   (second.message_id, second_id)]  # then the second, in order
    assert receiver.effects == [first.message_id, second.message_id]  # each acted on once
    hook.refresh_from_db()
    assert (hook.lease_owner, hook.lease_until) == ("", None)
    assert Webhook.objects.get(pk=hook.pk).enabled
    print(f"recovered {recovered_in:.1f} s after the kill "
          f"(lease {LEASE_SECONDS} s, sweep every {SWEEP_SECONDS:g} s)")
