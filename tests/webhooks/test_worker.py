"""End to end with a real Celery worker on the test Redis (`celery -A mortar worker`, a
process of its own on the test database): a mutation commits, the web process's dispatcher
sends `dispatch`, the worker delivers to a receiver on loopback. Retries are shrunk to
milliseconds for the worker (MORTAR_WEBHOOK_RETRY_SCHEDULE)."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from standardwebhooks import Webhook as StandardWebhook

from apps.webhooks import delivery
from apps.webhooks.dispatcher import wake
from apps.webhooks.models import Delivery, Webhook

from . import processes
from .conftest import create_task, make_webhook, statuses, wait_for

pytestmark = pytest.mark.skipif(not settings.REDIS_URL,
                                reason="needs Redis (scripts/test_services.py starts one)")
RETRIES = 3  # in the worker: 4 attempts, milliseconds apart
DISABLE_AFTER = 2


@pytest.fixture(scope="module")
def worker(django_db_setup, tmp_path_factory):
    from mortar.celery import app

    app.control.purge()  # wake-ups other tests' writes sent with no worker to take them
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with processes.worker(log, MORTAR_WEBHOOK_RETRY_SCHEDULE=",".join(["0.02"] * RETRIES),
                          MORTAR_WEBHOOK_DISABLE_AFTER=str(DISABLE_AFTER)) as process:
        yield process


@pytest.fixture
def broker_mode(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # as in production: the dispatcher sends tasks


def delivered(webhook: Webhook, count: int = 1):
    return lambda: statuses(webhook) == ["succeeded"] * count


def test_the_worker_delivers_a_signed_event_after_the_mutation_returns(
        worker, broker_mode, hooks_app, hooks_api, receiver):
    hook = make_webhook(hooks_app, receiver.url)
    receiver.gate = gate = threading.Event()  # the receiver answers when told
    task_id = create_task(hooks_api, "hello")
    # the mutation has returned: the receiver has answered nothing yet (it waits for the gate)
    assert not any(s == "succeeded" for s in statuses(hook))
    gate.set()
    wait_for(delivered(hook), "the delivery succeeded")
    [got] = receiver.received
    body = StandardWebhook(hook.secret).verify(got.body, got.headers)
    assert (body["type"], body["data"]["id"]) == ("record.created", task_id)


def test_the_worker_retries_after_500s_until_it_succeeds(worker, broker_mode, hooks_app,
                                                         hooks_api, receiver):
    receiver.plan = [500, 502, 500]
    hook = make_webhook(hooks_app, receiver.url)
    create_task(hooks_api, "flaky")
    wait_for(delivered(hook), "the delivery succeeded")
    row = Delivery.objects.get(webhook=hook)
    assert (row.attempts, row.response_status) == (4, 200)
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1


def test_the_worker_gives_up_and_disables_the_webhook(worker, broker_mode, hooks_app,
                                                      hooks_api, receiver):
    receiver.plan = [500] * 100
    hook = make_webhook(hooks_app, receiver.url)
    for name in ("a", "b", "c"):
        create_task(hooks_api, name)
    wait_for(lambda: not Webhook.objects.get(pk=hook.pk).enabled, "the webhook is disabled")
    hook.refresh_from_db()
    assert statuses(hook) == ["gave_up", "gave_up", "pending"]
    assert len(receiver.received) == DISABLE_AFTER * (RETRIES + 1)
    assert "failed every attempt" in hook.disabled_reason


def test_redelivered_events_keep_their_id_and_the_receiver_acts_once(
        worker, broker_mode, hooks_app, hooks_api, receiver):
    hook = make_webhook(hooks_app, receiver.url)
    create_task(hooks_api, "once")
    wait_for(delivered(hook), "the first delivery")
    first = Delivery.objects.get(webhook=hook)
    for _ in range(2):
        delivery.redeliver(first)
    wake(application_id=hooks_app.pk)
    wait_for(delivered(hook, 3), "both redeliveries")
    assert [r.headers["webhook-id"] for r in receiver.received] == [first.message_id] * 3
    assert receiver.effects == [first.message_id]


def test_the_worker_keeps_each_webhooks_order(worker, broker_mode, hooks_app, hooks_api,
                                              receiver):
    receiver.plan = [500, 200, 500]
    hook = make_webhook(hooks_app, receiver.url)
    ids = [create_task(hooks_api, f"t{n}") for n in range(6)]
    wait_for(delivered(hook, 6), "all six delivered")
    got = [r.json["data"]["id"] for r in receiver.received]
    succeeded_order = []
    for record_id in got:  # each id as often as attempted; the order of first successes:
        if record_id not in succeeded_order:
            succeeded_order.append(record_id)
    assert succeeded_order == ids
    assert got[:3] == [ids[0], ids[0], ids[1]]  # the first retried before the second went


def test_the_sweep_delivers_what_no_wake_up_announced(worker, broker_mode, hooks_app,
                                                      hooks_api, receiver):
    from apps.webhooks.tasks import sweep
    from models_registry.events import events_committed

    hook = make_webhook(hooks_app, receiver.url)
    events_committed.disconnect(wake, dispatch_uid="webhooks.wake")
    try:
        create_task(hooks_api, "lost wake-up")
    finally:
        events_committed.connect(wake, dispatch_uid="webhooks.wake")
    assert statuses(hook) == []
    sweep.delay()  # what beat sends every minute
    wait_for(delivered(hook), "the swept delivery")
