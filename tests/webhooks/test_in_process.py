"""Without a broker (`make run`: CELERY_TASK_ALWAYS_EAGER), one background thread of the web
process delivers after commit, in order; the mutation never waits for a target, and a broken
target neither fails nor holds it."""

from __future__ import annotations

import threading

import pytest

from .conftest import create_task, make_webhook, statuses, wait_for


@pytest.fixture(autouse=True)
def no_broker(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.MORTAR_WEBHOOK_RETRY_SCHEDULE = [0.01, 0.01]


def test_the_mutation_returns_before_the_delivery_and_the_thread_delivers(
        hooks_app, hooks_api, receiver):
    hook = make_webhook(hooks_app, receiver.url)
    receiver.gate = gate = threading.Event()
    ids = [create_task(hooks_api, f"t{n}") for n in range(3)]
    # every mutation has returned while the receiver still holds its first answer
    assert not receiver.received
    gate.set()
    wait_for(lambda: statuses(hook) == ["succeeded"] * 3, "three deliveries")
    assert [r.json["data"]["id"] for r in receiver.received] == ids


def test_a_broken_webhook_does_not_fail_the_mutation(hooks_app, hooks_api, receiver):
    broken = make_webhook(hooks_app, "http://127.0.0.1:9/nobody-listens", name="broken")
    good = make_webhook(hooks_app, receiver.url, name="good")
    task_id = create_task(hooks_api, "still saved")
    assert task_id
    wait_for(lambda: statuses(broken) == ["gave_up"], "the broken webhook gave up")
    wait_for(lambda: statuses(good) == ["succeeded"], "the good one delivered")
    assert "could not deliver" in broken.deliveries.get().error
