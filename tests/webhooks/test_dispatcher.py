"""The web process's dispatcher thread sleeps until there is work: with a broker it blocks
until a write wakes it (the worker retries and beat sweeps), and delivering in-process it
wakes for the next retry or sweep due, never sooner. (It once spun with a broker, its sweep
always overdue, and took a core of every web process a minute after it started.)"""

from __future__ import annotations

import queue
import threading

import pytest

from apps.webhooks import dispatcher, tasks

from .conftest import make_webhook


class Stop(BaseException):
    """Ends the dispatcher's loop from inside its queue."""


class WatchedQueue:
    """The wake-up queue, noting the timeout of every wait; its `stop_after`-th wait ends the
    loop."""

    def __init__(self, stop_after: int):
        self.inner, self.timeouts, self.stop_after = queue.SimpleQueue(), [], stop_after

    def put(self, item) -> None:
        self.inner.put(item)

    def get_nowait(self):
        return self.inner.get_nowait()

    def get(self, timeout=None):
        self.timeouts.append(timeout)
        if len(self.timeouts) == self.stop_after:
            raise Stop
        return self.inner.get(timeout=timeout)


def test_with_a_broker_it_sends_the_task_then_blocks_however_overdue_a_sweep_is(
        monkeypatch, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(dispatcher, "SWEEP_SECONDS", 0)  # a sweep is always overdue
    sent = []
    monkeypatch.setattr(tasks.dispatch, "delay", sent.append)
    monkeypatch.setattr(dispatcher._hooked, "applications", lambda: frozenset({7}))
    watched = WatchedQueue(stop_after=2)  # the wait after the wake-up ends it
    monkeypatch.setattr(dispatcher, "_queue", watched)
    watched.put(7)  # a write of application 7 committed
    monkeypatch.setattr(threading, "excepthook", lambda args: None)  # Stop ends the thread
    thread = threading.Thread(target=dispatcher._loop, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert sent == [7]
    assert watched.timeouts == [None, None]  # blocks: no timeout, before and after


@pytest.mark.parametrize("due_in, sweep_in, expected", [
    ({}, 60.0, 60.0),  # nothing to retry: until the sweep
    ({3: 2.5, 4: 9.0}, 60.0, 2.5),  # the first retry due
    ({3: -1.0}, 60.0, 0),  # overdue: at once, once
])
def test_delivering_in_process_it_waits_for_the_next_retry_or_sweep(due_in, sweep_in,
                                                                    expected):
    now = 1000.0
    due = {webhook_id: now + seconds for webhook_id, seconds in due_in.items()}
    assert dispatcher.wait_seconds(True, now + sweep_in, due, now) == expected
    assert dispatcher.wait_seconds(False, now + sweep_in, due, now) is None


def _run_loop(watched: WatchedQueue) -> None:
    """The dispatcher's loop in a thread of its own until the queue's Stop."""
    thread = threading.Thread(target=dispatcher._loop, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()


@pytest.mark.django_db(transaction=True)  # the loop's thread reads the webhooks
def test_with_a_broker_only_applications_with_an_enabled_webhook_are_sent_a_task(
        monkeypatch, settings, make_app):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    hooked, quiet, paused = make_app("hooked"), make_app("quiet"), make_app("paused")
    make_webhook(hooked, "http://127.0.0.1:9/hooked")
    make_webhook(paused, "http://127.0.0.1:9/paused", enabled=False)
    sent = []
    monkeypatch.setattr(tasks.dispatch, "delay", sent.append)
    monkeypatch.setattr(threading, "excepthook", lambda args: None)  # Stop ends the thread
    watched = WatchedQueue(stop_after=2)
    monkeypatch.setattr(dispatcher, "_queue", watched)
    for application in (hooked, quiet, paused):
        watched.put(application.pk)  # writes of all three committed
    _run_loop(watched)
    assert sent == [hooked.pk]
    # a webhook added in this process is seen by the next write at once
    make_webhook(quiet, "http://127.0.0.1:9/quiet")
    sent.clear()
    watched = WatchedQueue(stop_after=2)
    monkeypatch.setattr(dispatcher, "_queue", watched)
    watched.put(quiet.pk)
    _run_loop(watched)
    assert sent == [quiet.pk]
