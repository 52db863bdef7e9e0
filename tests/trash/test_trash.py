"""A model's trash: deleteX and deleteManyX move records there; reads, filters, counts,
relations and unique checks no longer see them; allX(trashed: ONLY | WITH) shows them to those
who may delete; restoreX and restoreManyX bring them back with their relations, or refuse
with CONFLICT when their unique values are taken; the purge task deletes them for good after
the application's trash period. Off by default: deletions stay final."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.identity.models import Permission
from models_registry import changes
from models_registry.admin_records import record_url
from models_registry.admin_trash import trash_url
from models_registry.definitions import DefinitionError, export_definition, load_definition
from models_registry.models import ChangeEvent
from models_registry.runtime import runtime_models
from models_registry.tasks import purge_trash
from models_registry.trash import in_trash

from ..data_api.conftest import Api, demo, open_to_anyone  # noqa: F401
from ..identity.conftest import LOGIN, Caller, profile  # noqa: F401


@pytest.fixture
def api(demo) -> Api:  # noqa: F811
    open_to_anyone(demo)
    for name in ("Task", "WebUser"):
        changes.set_trash(demo.data_models.get(name=name), True)
    return Api()


def task_ids(api: Api, extra: str = "") -> list[int]:
    found = api.data(f"{{ allTask(take: 200{extra}) {{ totalCount results {{ id }} }} }}")
    assert found["allTask"]["totalCount"] == len(found["allTask"]["results"])
    return [record["id"] for record in found["allTask"]["results"]]


def test_a_deleted_record_leaves_every_read_and_waits_in_the_trash(api):
    project = api.data("{ oneProject(where: { id: { eq: 1 } }) { tasks { id name } } }")[
        "oneProject"]
    gone = project["tasks"][0]
    everything = task_ids(api)
    deleted = api.data(f"mutation {{ deleteTask(id: {gone['id']}) {{ id name deletedAt }} }}")
    assert deleted["deleteTask"] == {**gone, "deletedAt": None}  # as it was
    assert task_ids(api) == [i for i in everything if i != gone["id"]]
    assert api.data(f"{{ oneTask(where: {{ id: {{ eq: {gone['id']} }} }}) {{ id }} }}")[
        "oneTask"] is None
    after = api.data("{ oneProject(where: { id: { eq: 1 } }) { tasks { id } } }")["oneProject"]
    assert gone["id"] not in [task["id"] for task in after["tasks"]]
    name = gone["name"].replace('"', '\\"')
    assert api.data(f'{{ allTask(where: {{ name: {{ eq: "{name}" }} }}) {{ totalCount }} }}')[
        "allTask"]["totalCount"] == 0  # counted: those matched less those in the trash
    assert api.data(f'{{ allProject(where: {{ tasks: {{ name: {{ eq: "{name}" }} }} }}) '
                    "{ totalCount } }")["allProject"]["totalCount"] == 0
    trashed = api.data("{ allTask(trashed: ONLY) { totalCount results { id deletedAt } } }")
    assert [record["id"] for record in trashed["allTask"]["results"]] == [gone["id"]]
    assert trashed["allTask"]["results"][0]["deletedAt"] is not None
    assert task_ids(api, ", trashed: WITH") == everything
    event = ChangeEvent.objects.filter(model="Task", record_id=gone["id"]).latest("seq")
    assert event.operation == "delete"  # for watchers and webhooks: gone


def test_restore_brings_records_back_with_their_relations(api):
    user = api.data('{ oneWebUser(where: { email: { eq: "betty@example.com" } }) '
                    "{ id roles { id } company { id } } }")["oneWebUser"]
    assert user["roles"]  # habtm links, kept while in the trash
    api.data(f"mutation {{ deleteManyWebUser(input: {{ ids: [{user['id']}] }}) {{ id }} }}")
    role = user["roles"][0]["id"]
    assert api.data(f"{{ oneRole(where: {{ id: {{ eq: {role} }} }}) {{ webUsers {{ id }} }} }}")[
        "oneRole"]["webUsers"] == []
    back = api.data(f"mutation {{ restoreWebUser(id: {user['id']}) "
                    "{ id roles { id } company { id } deletedAt } }")["restoreWebUser"]
    assert back == {**user, "deletedAt": None}
    event = ChangeEvent.objects.filter(model="WebUser", record_id=user["id"]).latest("seq")
    assert (event.operation, event.fields) == ("create", ["deletedAt"])


def test_unique_rules_hold_among_records_outside_the_trash(api):
    first = api.data('mutation { createTask(input: { name: "A", externalId: "x-1" }) '
                     "{ id } }")["createTask"]["id"]
    taken = api.error('mutation { createTask(input: { name: "B", externalId: "x-1" }) { id } }')
    assert taken["extensions"]["code"] == "VALIDATION_ERROR"
    api.data(f"mutation {{ deleteTask(id: {first}) {{ id }} }}")
    second = api.data('mutation { createTask(input: { name: "B", externalId: "x-1" }) '
                      "{ id } }")["createTask"]["id"]  # the trash no longer holds it
    refused = api.error(f"mutation {{ restoreManyTask(input: {{ ids: [{first}] }}) {{ id }} }}")
    assert refused["extensions"]["code"] == "CONFLICT"
    assert refused["message"] == (f"Task {first}: its externalId 'x-1' is taken by another "
                                  "Task; change one of them first. Nothing was restored.")
    assert str(second) not in refused["message"]  # a record the caller may not read
    assert task_ids(api, ", trashed: ONLY") == [first]  # still there


def test_bad_restores_and_trash_arguments_are_refused_changing_nothing(api, demo):  # noqa: F811
    missing = api.error("mutation { restoreTask(id: 1) { id } }")  # not in the trash
    assert missing["extensions"]["code"] == "NOT_FOUND"
    assert missing["message"] == ("There is no Task with id 1 in the trash that you may "
                                  "restore; nothing was restored.")
    api.data("mutation { deleteTask(id: 2) { id } }")
    both = api.error("mutation { restoreManyTask(input: { ids: [2, 999] }) { id } }")
    assert both["extensions"]["code"] == "NOT_FOUND" and both["extensions"]["ids"] == [999]
    assert task_ids(api, ", trashed: ONLY") == [2]
    no_trash = api.error("{ allProject(trashed: WITH) { totalCount } }")
    assert no_trash["extensions"]["code"] == "BAD_USER_INPUT"
    assert no_trash["message"] == (
        "Unknown argument 'trashed' on field 'Query.allProject'. Project has no trash: its "
        "deletions are final (a builder can give it one in the admin).")
    assert api.error("mutation { restoreProject(id: 1) { id } }")["extensions"]["code"] == (
        "BAD_USER_INPUT")
    Permission.objects.filter(data_model__name="Task", operation="delete").delete()
    refused = api.error("{ allTask(trashed: ONLY) { totalCount } }")
    assert refused["extensions"]["code"] == "FORBIDDEN"
    refused = api.error("mutation { restoreTask(id: 2) { id } }")
    assert refused["extensions"]["code"] == "FORBIDDEN"
    assert refused["message"].startswith("Restoring takes the delete permission. Anonymous "
                                         "callers may not delete Task records")


def test_a_read_stays_one_statement_with_the_trash(api, demo):  # noqa: F811
    query = "{ allTask(take: 5) { totalCount results { id project { name tasks { id } } } } }"
    api.data(query)  # the schema read once

    def statements() -> int:
        with CaptureQueriesContext(connection) as captured:
            api.data(query)
        return len(captured.captured_queries)

    with_trash = statements()
    changes.set_trash(demo.data_models.get(name="Task"), False)
    api.data(query)
    assert statements() == with_trash


def test_the_purge_deletes_for_good_after_the_trash_period(api, demo):  # noqa: F811
    api.data("mutation { deleteManyTask(input: { ids: [1, 2] }) { id } }")
    tasks = runtime_models(demo).by_name["Task"]
    in_trash(tasks).filter(pk=1).update(
        deleted_at=timezone.now() - timedelta(hours=demo.trash_hours + 1))
    assert purge_trash.apply().get() == 1  # as a worker runs it, hourly
    assert list(tasks._base_manager.filter(pk__in=[1, 2]).values_list("pk", flat=True)) == [2]
    purge = ChangeEvent.objects.filter(model="Task", record_id=1).latest("seq")
    assert (purge.operation, purge.actor) == ("delete", {"kind": "system"})


def test_a_trash_cannot_be_turned_off_while_it_holds_records(api, demo):  # noqa: F811
    api.data("mutation { deleteTask(id: 3) { id } }")
    task = demo.data_models.get(name="Task")
    with pytest.raises(changes.SchemaChangeError, match="holds 1 record: restore or purge"):
        changes.set_trash(task, False)
    api.data("mutation { restoreTask(id: 3) { id } }")
    changes.set_trash(task, False)
    taken = api.error('mutation { createTask(input: { name: "B", externalId: "ext-003" }) '
                      "{ id } }")  # the unique rule is the column's again
    assert taken["extensions"]["code"] == "VALIDATION_ERROR"
    assert api.data("mutation { deleteTask(id: 3) { id } }")  # for good now
    assert not runtime_models(demo).by_name["Task"]._base_manager.filter(pk=3).exists()


def test_the_admin_lists_the_trash_restores_and_purges(api, admin_client, demo):  # noqa: F811
    task = demo.data_models.get(name="Task")
    api.data("mutation { deleteManyTask(input: { ids: [4, 5] }) { id } }")
    listing = admin_client.get(record_url("list", task.pk)).content.decode()
    assert trash_url(task.pk) in listing and 'href="' + record_url("change", task.pk, 4) not in (
        listing)
    page = admin_client.get(trash_url(task.pk)).content.decode()
    assert page.count('<tr class="trashed"') == 2
    restored = admin_client.post(trash_url(task.pk, "restore", 4), follow=True)
    assert "was restored." in " ".join(str(m) for m in restored.context["messages"])
    admin_client.post(trash_url(task.pk, "purge", 5))
    tasks = runtime_models(demo).by_name["Task"]
    assert tasks.objects.filter(pk=4).exists() and not tasks._base_manager.filter(pk=5).exists()
    who = ChangeEvent.objects.filter(model="Task", record_id=5).latest("seq").actor
    assert (who["kind"], who["username"]) == ("admin", "admin")
    assert admin_client.get(trash_url(demo.data_models.get(name="Project").pk)).status_code == 404
    deleted = admin_client.post(record_url("delete", task.pk, 6), follow=True)  # the browser's
    assert "was moved to the trash." in " ".join(str(m) for m in deleted.context["messages"])
    assert list(in_trash(tasks).values_list("pk", flat=True)) == [6]


def test_a_user_in_the_trash_cannot_log_in(api, profile):  # noqa: F811
    def login() -> dict:
        return Caller().post(LOGIN, {"uuid": str(profile.uuid), "username": "betty@example.com",
                                     "password": "betty-demo-1"}).json()["data"]["login"]

    assert login()["isValid"] is True
    user = api.data('{ oneWebUser(where: { email: { eq: "betty@example.com" } }) { id } }')
    api.data(f"mutation {{ deleteWebUser(id: {user['oneWebUser']['id']}) {{ id }} }}")
    assert login()["isValid"] is False


def test_the_trash_travels_in_definition_files(loaded_apps):
    document = {"mortar": 1, "application": {"slug": "crm", "trashHours": 24},
                "models": [{"name": "Lead", "trash": True, "properties": [
                    {"name": "email", "kind": "email", "unique": True}]},
                           {"name": "Note", "properties": []}]}
    application = load_definition(document).application
    assert application.trash_hours == 24
    exported = export_definition(application)
    assert exported["application"]["trashHours"] == 24
    assert [(m["name"], m.get("trash")) for m in exported["models"]] == [
        ("Lead", True), ("Note", None)]  # off is left out: the Betty contract's default
    document["models"][1]["trash"] = True
    report = load_definition(document)
    assert report.changed == ["model Note (trash on)"]
    assert application.data_models.get(name="Note").trash
    assert load_definition(document).changed == []  # again: nothing to do

    for change, problem in [
        (lambda d: d["models"][0].update(trash="yes"), "models[0].trash: expected true or false"),
        (lambda d: d["models"][0]["properties"].append({"name": "deletedAt", "kind": "date"}),
         "Lead already has a field named 'deletedAt'"),
        (lambda d: d["application"].update(trashHours=0),
         "application.trashHours: expected a whole number of hours, at least 1"),
    ]:
        bad = copy.deepcopy(document)
        change(bad)
        with pytest.raises(DefinitionError) as refused:
            load_definition(bad)
        assert any(problem in found for found in refused.value.problems), refused.value.problems
