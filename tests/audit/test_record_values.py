"""Record changes keep the record's values: each event the values after it, so each change
reads with its values before and after (the previous event's); never a password, a file by its
reference. The record browser lists them and restores an earlier version, as a change of its
own, audited; a version that cannot be restored changes nothing."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.models import AuditEntry
from models_registry import changes
from models_registry.admin_records import record_url
from models_registry.events import CREATE, ChangeBatch
from models_registry.models import ChangeEvent
from models_registry.snapshots import readable, restorable

from ..data_api.conftest import Api, demo, demo_open_to_anyone  # noqa: F401
from .test_audit_log import OPS_TOKEN, ops_token  # noqa: F401


@pytest.fixture
def api(demo_open_to_anyone) -> Api:  # noqa: F811
    return Api()


def events_of(model: str, record_id: int) -> list[ChangeEvent]:
    return list(ChangeEvent.objects.filter(model=model, record_id=record_id).order_by("seq"))


def audit_entries(client, **params) -> list[dict]:
    response = client.get("/ops/audit", params, HTTP_AUTHORIZATION=f"Bearer {OPS_TOKEN}")
    assert response.status_code == 200, response.content
    return response.json()["entries"]


def test_each_event_keeps_the_values_after_it_and_reads_with_those_before(api, client):
    created = api.data('mutation { createTask(input: { name: "Draft", done: false, '
                       'endDate: "2026-12-24", project: { id: 1 } }) { id } }')["createTask"]["id"]
    api.data(f'mutation {{ updateTask(id: {created}, input: {{ name: "Final", done: true }}) '
             '{ id } }')
    api.data(f"mutation {{ deleteTask(id: {created}) {{ id }} }}")
    create, update, delete = events_of("Task", created)
    assert create.after["name"] == "Draft" and create.after["project"] == 1
    assert update.after == {"name": "Final", "done": True}  # what the update set
    assert delete.after is None
    newest_first = audit_entries(client, model="Task", record=str(created))
    assert [entry["action"] for entry in newest_first] == [
        "record.delete", "record.update", "record.create"]
    deleted, updated, made = (entry["details"] for entry in newest_first)
    assert made["before"] is None
    assert made["after"]["endDate"] == "2026-12-24" and made["after"]["done"] is False
    assert updated["before"] == {"name": "Draft", "done": False}
    assert updated["after"] == {"name": "Final", "done": True}
    assert updated["fields"] == ["name", "done"]
    assert deleted["before"] == {**made["after"], **updated["after"]}  # all it had
    assert deleted["after"] is None


def test_passwords_are_never_kept_and_files_are_kept_by_reference(api, demo):  # noqa: F811
    user = api.data('mutation { createWebUser(input: { email: "new@example.com", '
                    'password: "s3cret-enough-1" }) { id } }')["createWebUser"]["id"]
    (event,) = events_of("WebUser", user)
    assert event.fields == ["email", "password"]  # the event says it was set ...
    assert "password" not in event.after  # ... never to what, not even as a hash
    assert "s3cret" not in json.dumps(event.after) and "pbkdf2" not in json.dumps(event.after)
    song = demo.data_models.get(name="Song")
    stored = ChangeEvent.objects.filter(data_model=song, after__isnull=False).first()
    assert set(stored.after["art"]) == {"name", "key", "size", "contentType"}  # no bytes


def test_keeping_values_costs_no_statement(api):
    def create(count: int) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            api.data("mutation { createManyTask(input: [" + ", ".join(
                f'{{ name: "t{n}", project: {{ id: 1 }} }}' for n in range(count))
                + "]) { id } }")
        return [query["sql"] for query in captured.captured_queries]

    create(1)  # the schema read once
    one, many = create(1), create(50)
    assert len(one) == len(many)
    table = ChangeEvent._meta.db_table
    assert len([sql for sql in many if f'INSERT INTO "{table}"' in sql]) == 1  # values inside
    created = ChangeEvent.objects.filter(model="Task", operation="create").order_by("-seq")[:50]
    assert {event.after["name"] for event in created} == {f"t{n}" for n in range(50)}


def history_rows(admin_client, task, record_id: int) -> list[str]:
    page = admin_client.get(record_url("change", task.pk, record_id)).content.decode()
    return page[page.index('id="record-history"'):].split('<tr class="version"')[1:]


def restore_url(task, record_id: int, seq: int) -> str:
    return record_url("change", task.pk, record_id) + f"restore/{seq}/"


def told(response) -> str:
    """The messages the admin page shows after a redirect."""
    return " ".join(str(message) for message in response.context["messages"])


def test_the_record_browser_restores_an_earlier_version_as_an_audited_change(
        api, admin_client, demo):  # noqa: F811
    task = demo.data_models.get(name="Task")
    record_id = api.data('mutation { createTask(input: { name: "One", done: false, '
                         'project: { id: 1 } }) { id } }')["createTask"]["id"]
    api.data(f'mutation {{ updateTask(id: {record_id}, input: {{ name: "Two", done: true, '
             'project: { id: 2 } }) { id } }')
    first = events_of("Task", record_id)[0]
    rows = history_rows(admin_client, task, record_id)
    assert "Restore this version" not in rows[0]  # the newest is what the record is now
    assert "Restore this version" in rows[1]
    response = admin_client.post(restore_url(task, record_id, first.seq),
                                 REMOTE_ADDR="192.0.2.44", follow=True)
    assert told(response) == f"Version {first.seq} restored: name, done, project."
    assert api.data(f"{{ oneTask(where: {{ id: {{ eq: {record_id} }} }}) "
                    "{ name done project { id } } }")["oneTask"] == {
        "name": "One", "done": False, "project": {"id": 1}}
    restored = events_of("Task", record_id)[-1]
    assert (restored.operation, restored.fields, restored.actor["kind"], restored.ip) == (
        "update", ["name", "done", "project"], "admin", "192.0.2.44")
    entry = AuditEntry.objects.get(action="record.restore")
    assert (entry.application, entry.model, entry.record_id, entry.details) == (
        "demo", "Task", record_id, {"version": first.seq,
                                    "fields": ["name", "done", "project"]})
    assert "<del>Two</del> → <ins>One</ins>" in history_rows(admin_client, task, record_id)[0]


def test_a_version_that_cannot_be_restored_changes_nothing(api, admin_client, demo):  # noqa: F811
    task = demo.data_models.get(name="Task")
    first = api.data('mutation { createTask(input: { name: "A", externalId: "ext-1" }) '
                     '{ id } }')["createTask"]["id"]
    api.data(f'mutation {{ updateTask(id: {first}, input: {{ externalId: "ext-2" }}) {{ id }} }}')
    api.data('mutation { createTask(input: { name: "B", externalId: "ext-1" }) { id } }')
    version = events_of("Task", first)[0].seq
    count = ChangeEvent.objects.count()
    response = admin_client.post(restore_url(task, first, version), follow=True)
    assert "one of its unique values is taken" in told(response)
    assert api.data(f"{{ oneTask(where: {{ id: {{ eq: {first} }} }}) {{ externalId }} }}")[
        "oneTask"] == {"externalId": "ext-2"}

    response = admin_client.post(restore_url(task, first, 999999), follow=True)
    assert told(response).startswith(f"Task {first} has no version 999999")
    deleted = api.data('mutation { createTask(input: { name: "C" }) { id } }')["createTask"]["id"]
    api.data(f"mutation {{ deleteTask(id: {deleted}) {{ id }} }}")
    gone = events_of("Task", deleted)[-1].seq
    response = admin_client.post(restore_url(task, first, gone), follow=True)
    assert told(response).startswith(f"Task {first} has no version {gone}")
    assert ChangeEvent.objects.count() == count + 2  # the create and delete of C only
    assert not AuditEntry.objects.filter(action="record.restore").exists()


def test_values_an_update_many_gave_read_as_those_read_back_from_the_rows(api):
    """updateMany keeps the values it gave (one parameter), an update reads its record's back
    from the row: both read the same."""
    change = 'endDate: "2027-01-31", done: false, priority: "high", project: { id: 2 }'
    api.data(f"mutation {{ updateManyTask(where: {{ id: {{ in: [1, 2] }} }}, "
             f"input: {{ {change} }}) {{ id }} }}")
    api.data(f"mutation {{ updateTask(id: 3, input: {{ {change} }}) {{ id }} }}")
    many = [events_of("Task", record_id)[-1] for record_id in (1, 2)]
    (one,) = events_of("Task", 3)[-1:]
    assert many[0].after == many[1].after == one.after == {
        "endDate": "2027-01-31", "done": False, "priority": "high", "project": 2}


@pytest.mark.django_db(transaction=True)
def test_decimals_read_exactly_and_a_text_turned_password_is_no_more_shown(
        make_app, classes):
    app = make_app()
    item = changes.create_model(app, "Item")
    price = changes.add_property(item, "price", "decimal", decimal_places=2)
    secret = changes.add_property(item, "secret", "text")
    cls = classes(app).by_name["Item"]
    record = cls.objects.create(**{price.attname: Decimal("0.10"), secret.attname: "hunter2"})
    batch = ChangeBatch()
    batch.add(cls, [record.pk], CREATE)
    batch.flush(app.pk, {"kind": "loader"})
    event = ChangeEvent.objects.get(model="Item", record_id=record.pk)
    # not 0.100000000000000005551115123126, the float a JSON number reads as
    assert readable(cls, event.after) == {"price": "0.10", "secret": "hunter2"}
    assert restorable(cls, event.after)[price.attname] == Decimal("0.10")
    changes.alter_property(secret, kind="password")  # what it held before: no more shown
    assert readable(classes(app).by_name["Item"], event.after) == {"price": "0.10"}
