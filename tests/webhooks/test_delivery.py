"""Delivery, run in the test's own thread (`delivery.run`, what a worker's task calls): the
signed POST, retries after failures then success, giving up and disabling, per-webhook order,
`where` filters, redelivery with the same webhook-id, and SSRF refusals at delivery time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from standardwebhooks import Webhook as StandardWebhook

from apps.webhooks import delivery
from apps.webhooks.dispatcher import wake
from apps.webhooks.models import Delivery, Webhook
from models_registry.events import events_committed

from .conftest import create_task, make_webhook, statuses


@pytest.fixture(autouse=True)
def only_this_thread_delivers(settings):
    """No background dispatch: each test runs delivery itself, step by step."""
    events_committed.disconnect(wake, dispatch_uid="webhooks.wake")
    settings.MORTAR_WEBHOOK_RETRY_SCHEDULE = [0.001] * 8
    yield
    events_committed.connect(wake, dispatch_uid="webhooks.wake")


def run_until_settled(webhook: Webhook, limit: int = 50) -> None:
    """Run deliveries until nothing waits (retries are due after a millisecond)."""
    for _ in range(limit):
        wait = delivery.run(webhook.pk)
        if wait is None:
            return
    pytest.fail("deliveries still waiting")


def test_an_event_is_posted_signed_as_standard_webhooks_says(hooks_app, hooks_api, receiver):
    hook = make_webhook(hooks_app, receiver.url)
    task_id = create_task(hooks_api, "write tests")
    run_until_settled(hook)
    assert statuses(hook) == ["succeeded"]
    [got] = receiver.received
    # the reference library verifies it (signature, and a timestamp within 5 minutes) ...
    body = StandardWebhook(hook.secret).verify(got.body, got.headers)
    # ... and so does an independent HMAC over "{id}.{timestamp}.{body}"
    key = base64.b64decode(hook.secret.removeprefix("whsec_"))
    signed = f"{got.headers['webhook-id']}.{got.headers['webhook-timestamp']}.".encode()
    expected = base64.b64encode(hmac.new(key, signed + got.body, hashlib.sha256).digest())
    assert got.headers["webhook-signature"] == "v1," + expected.decode()
    assert got.headers["content-type"] == "application/json"
    assert body["type"] == "record.created"
    data = body["data"]
    seq = data.pop("seq")
    assert got.headers["webhook-id"] == f"evt_{hooks_app.pk}_{seq}"
    assert data == {"app": "hooks", "model": "Task", "id": task_id,
                    "nodeId": base64.b64encode(f"gid://hooks/Task/{task_id}".encode()).decode(),
                    "operation": "create", "fields": ["name", "done"]}
    row = Delivery.objects.get(webhook=hook)
    assert (row.attempts, row.response_status, row.response_excerpt) == (1, 200, "ok")


def test_failures_are_retried_until_one_succeeds(hooks_app, hooks_api, receiver, settings):
    settings.MORTAR_WEBHOOK_RETRY_SCHEDULE = [3600] * 8
    receiver.plan = [500, 503, 500]
    hook = make_webhook(hooks_app, receiver.url)
    create_task(hooks_api, "retry me")
    wait = delivery.run(hook.pk)
    row = Delivery.objects.get(webhook=hook)
    assert (row.status, row.attempts, row.response_status) == ("failed", 1, 500)
    assert row.response_excerpt == "receiver says no" and 1800 <= wait <= 3600
    assert delivery.run(hook.pk) == pytest.approx(wait, abs=5)  # not due: nothing sent
    assert len(receiver.received) == 1
    while row.status != "succeeded":  # as if each retry's time had come
        Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        delivery.run(hook.pk)
        row.refresh_from_db()
    assert (row.status, row.attempts, row.response_status) == ("succeeded", 4, 200)
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert len(receiver.received) == 4 and len(ids) == 1  # one idempotency key throughout


def test_the_retry_schedule_spans_at_least_half_its_length(settings):
    settings.MORTAR_WEBHOOK_RETRY_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000]
    delays = [delivery.retry_delay(n) for n in range(1, 10)]
    assert delays[-1] is None and len([d for d in delays if d is not None]) == 8
    assert sum(delays[:-1]) >= sum(settings.MORTAR_WEBHOOK_RETRY_SCHEDULE) / 2 > 24 * 3600
    for delay, planned in zip(delays, settings.MORTAR_WEBHOOK_RETRY_SCHEDULE, strict=False):
        assert planned / 2 <= delay <= planned


def test_deliveries_that_fail_every_attempt_disable_the_webhook(hooks_app, hooks_api,
                                                                receiver, settings):
    settings.MORTAR_WEBHOOK_RETRY_SCHEDULE = [0.001, 0.001]  # three attempts each
    settings.MORTAR_WEBHOOK_DISABLE_AFTER = 2
    receiver.plan = [500] * 100
    hook = make_webhook(hooks_app, receiver.url)
    for name in ("a", "b", "c"):
        create_task(hooks_api, name)
    run_until_settled(hook)
    hook.refresh_from_db()
    assert statuses(hook) == ["gave_up", "gave_up", "pending"]
    assert len(receiver.received) == 6
    assert not hook.enabled and hook.disabled_at is not None
    assert "2 deliveries in a row failed every attempt" in hook.disabled_reason
    assert "HTTP 500" in hook.disabled_reason
    # enabled again, it goes on with what it had not delivered
    receiver.plan = []
    hook.enabled = True
    hook.save()
    hook.refresh_from_db()
    assert (hook.consecutive_failures, hook.disabled_reason) == (0, "")
    run_until_settled(hook)
    assert statuses(hook) == ["gave_up", "gave_up", "succeeded"]


def test_a_success_resets_the_run_of_failures(hooks_app, hooks_api, receiver, settings):
    settings.MORTAR_WEBHOOK_RETRY_SCHEDULE = [0.001]
    settings.MORTAR_WEBHOOK_DISABLE_AFTER = 2
    receiver.plan = [500, 500, 200, 500, 500]
    hook = make_webhook(hooks_app, receiver.url)
    for name in ("a", "b", "c"):
        create_task(hooks_api, name)
    run_until_settled(hook)
    hook.refresh_from_db()
    assert statuses(hook) == ["gave_up", "succeeded", "gave_up"]
    assert hook.enabled and hook.consecutive_failures == 1


def test_each_webhook_delivers_in_order_and_waits_for_a_failed_one(hooks_app, hooks_api,
                                                                    receiver, settings):
    settings.MORTAR_WEBHOOK_RETRY_SCHEDULE = [3600]
    receiver.plan = [500]
    hook = make_webhook(hooks_app, receiver.url)
    ids = [create_task(hooks_api, f"t{n}") for n in range(5)]
    wait = delivery.run(hook.pk)
    assert wait is not None  # the first failed: the others wait behind it
    assert statuses(hook) == ["failed"] + ["pending"] * 4
    Delivery.objects.filter(webhook=hook, status="failed").update(
        next_attempt_at=timezone.now())
    run_until_settled(hook)
    got = [r.json["data"]["id"] for r in receiver.received]
    assert got == [ids[0], *ids]  # the first twice (failed, then retried), then the rest


def test_models_operations_and_where_choose_the_events(hooks_app, hooks_api, receiver):
    every = make_webhook(hooks_app, receiver.url + "/every", name="every")
    deletes = make_webhook(hooks_app, receiver.url + "/deletes", name="deletes",
                           operations=["delete"])
    done = make_webhook(hooks_app, receiver.url + "/done", name="done", model_names=["Task"],
                        operations=["create", "update"], where={"done": {"eq": True}})
    other = make_webhook(hooks_app, receiver.url + "/other", name="other",
                         model_names=["Nothing"])
    first = create_task(hooks_api, "open")
    second = create_task(hooks_api, "closed", done=True)
    hooks_api.data("mutation($id: Int!) { updateTask(id: $id, input: {done: true}) { id } }",
                   {"id": first})
    hooks_api.data("mutation($id: Int!) { deleteTask(id: $id) { id } }", {"id": second})
    for hook in (every, deletes, done, other):
        run_until_settled(hook)

    def seen(hook):
        return [(r.json["data"]["operation"], r.json["data"]["id"]) for r in receiver.received
                if r.path == "/hook/" + hook.name]

    assert seen(every) == [("create", first), ("create", second), ("update", first),
                           ("delete", second)]
    assert seen(deletes) == [("delete", second)]
    # records are judged as they are at dispatch (here, after all four mutations): `first`
    # is done by then, also for its create; `second` is gone, so its create matches nothing
    assert seen(done) == [("create", first), ("update", first)]
    assert seen(other) == []


def test_a_where_is_read_in_one_statement_per_model_and_batch(hooks_app, hooks_api, receiver):
    from apps.webhooks.matching import collect

    hook = make_webhook(hooks_app, receiver.url, model_names=["Task"], operations=["create"],
                        where={"name": {"starts_with": "x"}})
    for n in range(20):
        create_task(hooks_api, f"x{n}" if n % 2 else f"y{n}")
    hook = Webhook.objects.select_related("application").get(pk=hook.pk)
    collect(hook)  # builds the runtime models once (not counted below)
    Delivery.objects.all().delete()
    Webhook.objects.filter(pk=hook.pk).update(last_dispatched_seq=0)
    hook.last_dispatched_seq = 0
    with CaptureQueriesContext(connection) as statements:
        collect(hook)
    kinds = [q["sql"].split()[0] for q in statements.captured_queries
             if q["sql"].split()[0] in ("SELECT", "INSERT", "UPDATE", "DELETE")]
    # the counter, the events, the where's one SELECT; INSERT the deliveries, move the cursor
    assert kinds == ["SELECT", "SELECT", "SELECT", "INSERT", "UPDATE"]
    assert Delivery.objects.filter(webhook=hook).count() == 10


def test_redelivering_an_event_reuses_its_id_and_the_receiver_does_it_once(
        hooks_app, hooks_api, receiver):
    hook = make_webhook(hooks_app, receiver.url)
    create_task(hooks_api, "once")
    run_until_settled(hook)
    first = Delivery.objects.get(webhook=hook)
    delivery.redeliver(first)
    delivery.redeliver(first)
    run_until_settled(hook)
    assert statuses(hook) == ["succeeded"] * 3
    assert len(receiver.received) == 3
    assert {r.headers["webhook-id"] for r in receiver.received} == {first.message_id}
    assert receiver.effects == [first.message_id]


def test_a_new_webhook_fires_on_what_happens_after_it_is_made(hooks_app, hooks_api, receiver):
    create_task(hooks_api, "before")
    hook = make_webhook(hooks_app, receiver.url)
    create_task(hooks_api, "after")
    run_until_settled(hook)
    assert [r.json["data"]["operation"] for r in receiver.received] == ["create"]
    assert len(receiver.received) == 1


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://[::1]/x",
                                 "http://localhost:9/x"])
def test_private_targets_are_refused_at_delivery_unless_allowed(hooks_app, hooks_api, url,
                                                                settings):
    settings.MORTAR_WEBHOOK_RETRY_SCHEDULE = []
    hook = make_webhook(hooks_app, url)  # saved while allowed ...
    hooks_app.webhook_private_targets = False  # ... then the setting was turned off
    hooks_app.save()
    create_task(hooks_api, "x")
    run_until_settled(hook)
    row = Delivery.objects.get(webhook=hook)
    assert row.status == "gave_up" and row.response_status is None
    assert row.error.startswith("refused: ") and "address" in row.error


def test_a_redirect_is_a_failure_not_followed(hooks_app, hooks_api, receiver, settings):
    settings.MORTAR_WEBHOOK_RETRY_SCHEDULE = []
    receiver.plan = [302]
    hook = make_webhook(hooks_app, receiver.url)
    create_task(hooks_api, "x")
    run_until_settled(hook)
    row = Delivery.objects.get(webhook=hook)
    assert (row.status, row.response_status) == ("gave_up", 302)
    assert "redirects are not followed" in row.error
    assert len(receiver.received) == 1


def test_events_pruned_before_a_webhook_saw_them_are_skipped(hooks_app, hooks_api, receiver):
    from models_registry.models import ChangeEvent

    hook = make_webhook(hooks_app, receiver.url)
    create_task(hooks_api, "pruned")
    ChangeEvent.objects.filter(application=hooks_app).delete()  # as past the retention
    assert delivery.run(hook.pk) is None
    hook.refresh_from_db()
    assert statuses(hook) == [] and hook.last_dispatched_seq == 1
    create_task(hooks_api, "kept")
    run_until_settled(hook)
    assert [r.json["data"]["seq"] for r in receiver.received] == [2]


def test_a_target_that_does_not_answer_in_time_fails_the_attempt(hooks_app, hooks_api,
                                                                 receiver, settings):
    settings.MORTAR_WEBHOOK_TIMEOUT = 0.3
    settings.MORTAR_WEBHOOK_RETRY_SCHEDULE = []
    receiver.gate = threading.Event()  # it holds its answer until the test ends
    hook = make_webhook(hooks_app, receiver.url)
    create_task(hooks_api, "slow")
    run_until_settled(hook)
    row = Delivery.objects.get(webhook=hook)
    assert row.status == "gave_up" and row.error.startswith("timed out: no complete answer")


def test_workers_running_one_webhook_at_once_deliver_each_event_once_in_order(
        hooks_app, hooks_api, receiver):
    hook = make_webhook(hooks_app, receiver.url)
    ids = [create_task(hooks_api, f"t{n}") for n in range(8)]
    errors = []

    def worker():
        try:
            for _ in range(200):
                if statuses(hook) == ["succeeded"] * 8:
                    return
                delivery.run(hook.pk)
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert statuses(hook) == ["succeeded"] * 8
    assert [r.json["data"]["id"] for r in receiver.received] == ids  # each once, in order
    assert receiver.most_in_flight == 1
