"""Waking delivery when events commit, without the writer waiting for any of it.

`wake` receives `events_committed` in the writer's thread after its commit and only puts the
application's id on a queue. One daemon thread per process takes it from there: with a
broker it sends the Celery task `dispatch`; with none (`make run`: CELERY_TASK_ALWAYS_EAGER)
it delivers itself, in order, and also retries and sweeps as the worker and beat would. A
slow or broken target therefore never slows or fails a mutation."""

from __future__ import annotations

import logging
import math
import os
import queue
import threading
import time

from django.conf import settings
from django.db import connections

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60.0
_queue: queue.SimpleQueue[int] = queue.SimpleQueue()
_thread: threading.Thread | None = None
_pid: int | None = None
_start = threading.Lock()


def wake(sender=None, application_id: int | None = None, **kwargs) -> None:
    """events_committed's receiver: no I/O here, and nothing it could raise."""
    try:
        _queue.put(application_id)
        _ensure_thread()
    except Exception:  # noqa: BLE001 (the writer's response must not fail on it)
        log.exception("webhooks: could not wake the dispatcher")


class HookedApplications:
    """The applications with an enabled webhook, read at most once every HOOKED_SECONDS: a
    task sent to the broker costs the writing process about 0.4 ms, so writes of applications
    without webhooks send none. A webhook enabled in this process is seen at once (`forget`,
    on save); one enabled elsewhere within HOOKED_SECONDS, and in any case by the sweep."""

    HOOKED_SECONDS = 1.0

    def __init__(self):
        self._ids: frozenset[int] = frozenset()
        self._read_at = -math.inf

    def applications(self) -> frozenset[int]:
        if time.monotonic() - self._read_at >= self.HOOKED_SECONDS:
            from .models import Webhook

            self._read_at = time.monotonic()
            self._ids = frozenset(Webhook.objects.filter(enabled=True)
                                  .values_list("application_id", flat=True).distinct())
        return self._ids

    def forget(self, **kwargs) -> None:
        self._read_at = -math.inf


_hooked = HookedApplications()
forget_hooked_applications = _hooked.forget


def in_process() -> bool:
    return bool(settings.CELERY_TASK_ALWAYS_EAGER)


def _ensure_thread() -> None:
    global _thread, _pid
    if _thread is not None and _thread.is_alive() and _pid == os.getpid():
        return
    with _start:
        if _thread is None or not _thread.is_alive() or _pid != os.getpid():
            _pid = os.getpid()
            _thread = threading.Thread(target=_loop, name="webhook-dispatcher", daemon=True)
            _thread.start()


def wait_seconds(here: bool, next_sweep: float, due: dict[int, float], now: float
                 ) -> float | None:
    """How long the thread may sleep for a wake-up: delivering here, until the next retry or
    sweep is due; with a broker, for ever (the worker retries, beat sweeps), so that an idle
    process never spins."""
    if not here:
        return None
    return max(min([next_sweep, *due.values()]) - now, 0)


def _loop() -> None:
    due: dict[int, float] = {}  # webhook id -> when its next retry is due (monotonic)
    next_sweep = time.monotonic() + SWEEP_SECONDS
    while True:
        applications: set[int] = set()
        try:
            applications.add(_queue.get(
                timeout=wait_seconds(in_process(), next_sweep, due, time.monotonic())))
            while True:
                applications.add(_queue.get_nowait())
        except queue.Empty:
            pass
        try:
            if in_process():
                sweep = time.monotonic() >= next_sweep
                if sweep:
                    next_sweep = time.monotonic() + SWEEP_SECONDS
                _deliver_here(applications, due, sweep)
            else:
                from .tasks import dispatch

                for application_id in applications & _hooked.applications():
                    dispatch.delay(application_id)
        except Exception:  # noqa: BLE001 (the thread must live on; the sweep catches up)
            log.exception("webhooks: dispatch failed")
            now, later = time.monotonic(), time.monotonic() + SWEEP_SECONDS
            overdue = [webhook_id for webhook_id, at in due.items() if at <= now]
            due.update(dict.fromkeys(overdue, later))  # not again at once: no spinning
        finally:
            connections.close_all()  # this thread's own connections


def _deliver_here(applications: set[int], due: dict[int, float], sweep: bool) -> None:
    from . import delivery
    from .models import Webhook
    from .tasks import webhooks_with_work

    now = time.monotonic()
    wanted = set(Webhook.objects.filter(application_id__in=applications, enabled=True)
                 .values_list("pk", flat=True)) if applications else set()
    wanted |= {webhook_id for webhook_id, at in due.items() if at <= now}
    if sweep:
        wanted |= set(webhooks_with_work())
    for webhook_id in sorted(wanted):
        wait = delivery.run(webhook_id)
        if wait is None:
            due.pop(webhook_id, None)
        else:
            due[webhook_id] = time.monotonic() + wait
