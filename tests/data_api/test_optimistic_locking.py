"""Optimistic locking: updateX, updateManyX, upsertX and deleteX with `ifUpdatedAt` write only
when the records did not change since the client read them; else CONFLICT, nothing written,
the current updatedAt (as `oneX { updatedAt }` answers it) in extensions."""

import datetime as dt
import threading

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.dateparse import parse_datetime

from apps.identity.models import Permission
from models_registry.models import DataModel
from models_registry.runtime import runtime_models

from ..conftest import in_parallel, record_values
from .conftest import Api

UPDATE = ("mutation($id: Int!, $input: TaskInput!, $since: DateTime) { "
          "updateTask(id: $id, input: $input, ifUpdatedAt: $since) { id name updatedAt } }")
UPDATE_MANY = ("mutation($where: TaskFilterInput!, $input: TaskInput!, $since: DateTime) { "
               "updateManyTask(where: $where, input: $input, ifUpdatedAt: $since) "
               "{ id name } }")
UPSERT = ("mutation($input: TaskInput!, $since: DateTime) { upsertTask(input: $input, "
          "uniqueBy: [externalId], ifUpdatedAt: $since) { id name } }")
DELETE = ("mutation($id: Int!, $since: DateTime) { deleteTask(id: $id, ifUpdatedAt: $since) "
          "{ id } }")
STALE_TASK = ("This Task changed since you read it (its updatedAt is no longer ifUpdatedAt): "
              "nothing was {}. Read it again and retry with its current updatedAt "
              "(extensions.updatedAt).")
ALL_TASKS = "{ allTask(limit: 200) { results { id name done updatedAt } totalCount } }"


def updated_at(api: Api, task_id: int, model: str = "Task") -> str:
    return api.data(f"{{ one{model}(where: {{ id: {{ eq: {task_id} }} }}) {{ updatedAt }} }}")[
        f"one{model}"]["updatedAt"]


def rename(api: Api, task_id: int, name: str) -> str:
    """Another client's update (no ifUpdatedAt); the record's new updatedAt."""
    return api.data(UPDATE, {"id": task_id, "input": {"name": name}})["updateTask"]["updatedAt"]


def conflict(body: dict) -> tuple:
    """(code, message, extensions without the code) of the only error; the field is null."""
    assert len(body["errors"]) == 1, body
    error = body["errors"][0]
    extensions = dict(error["extensions"])
    return extensions.pop("code"), error["message"], extensions


# -- updateX -----------------------------------------------------------------------------------

def test_an_update_sending_back_the_updated_at_read_is_written(api):
    read = updated_at(api, 7)
    written = api.data(UPDATE, {"id": 7, "input": {"name": "Mine"}, "since": read})["updateTask"]
    assert written["name"] == "Mine"
    assert written["updatedAt"] != read
    assert written["updatedAt"] == updated_at(api, 7)
    # and the value an update answers is one to send back as it is
    again = api.data(UPDATE, {"id": 7, "input": {"name": "Mine again"},
                              "since": written["updatedAt"]})["updateTask"]
    assert again["name"] == "Mine again"


def test_an_update_of_a_record_changed_since_is_a_conflict_and_writes_nothing(api):
    read = updated_at(api, 7)
    current = rename(api, 7, "Theirs")
    before = api.data(ALL_TASKS)
    body = api(UPDATE, {"id": 7, "input": {"name": "Mine"}, "since": read})
    assert body["data"] == {"updateTask": None}
    assert conflict(body) == ("CONFLICT", STALE_TASK.format("written"),
                              {"field": "ifUpdatedAt", "id": 7, "updatedAt": current})
    assert body["errors"][0]["path"] == ["updateTask"]
    assert api.data(ALL_TASKS) == before
    # what the conflict told is what to send back
    assert api.data(UPDATE, {"id": 7, "input": {"name": "Mine"}, "since": current})[
        "updateTask"]["name"] == "Mine"


def test_a_literal_if_updated_at_is_compared_as_a_variable_is(api):
    read = updated_at(api, 7)
    rename(api, 7, "Theirs")
    body = api(f'mutation {{ updateTask(id: 7, input: {{ name: "Mine" }}, '
               f'ifUpdatedAt: "{read}") {{ id }} }}')
    assert conflict(body)[0] == "CONFLICT"
    assert api.data('mutation { updateTask(id: 7, input: { name: "Mine" }, '
                    f'ifUpdatedAt: "{updated_at(api, 7)}") {{ name }} }}') == {
        "updateTask": {"name": "Mine"}}


def test_updated_at_keeps_microseconds_stored_rendered_and_compared(api, demo):
    Task = runtime_models(demo)["Task"]
    moment = dt.datetime(2024, 1, 31, 9, 30, 0, 123456, tzinfo=dt.UTC)
    Task.objects.filter(pk=7).update(updated_at=moment)
    assert updated_at(api, 7) == "2024-01-31T09:30:00.123456+00:00"  # both databases
    before = api.data(ALL_TASKS)
    for other in ("2024-01-31T09:30:00.123+00:00",  # the same millisecond
                  "2024-01-31T09:30:00.123457+00:00",  # one microsecond later
                  "2024-01-31T09:30:00+00:00"):
        body = api(UPDATE, {"id": 7, "input": {"name": "Mine"}, "since": other})
        assert conflict(body)[2]["updatedAt"] == "2024-01-31T09:30:00.123456+00:00", other
    assert api.data(ALL_TASKS) == before
    # the same instant written in another zone is the same updatedAt
    assert api.data(UPDATE, {"id": 7, "input": {"name": "Mine"},
                             "since": "2024-01-31T10:30:00.123456+01:00"})[
        "updateTask"]["name"] == "Mine"


def test_two_updates_in_quick_succession_have_different_updated_at(api, demo):
    """Two updates of one record in one request, microseconds apart: each has its own
    updatedAt, rendered with its microseconds, and the later one is what a client sends."""
    read = updated_at(api, 7)
    data = api.data('mutation { a: updateTask(id: 7, input: { name: "a" }) { updatedAt } '
                    'b: updateTask(id: 7, input: { name: "b" }) { updatedAt } }')
    first, second = parse_datetime(data["a"]["updatedAt"]), parse_datetime(
        data["b"]["updatedAt"])
    assert parse_datetime(read) < first < second
    stored = runtime_models(demo)["Task"].objects.get(pk=7).updated_at
    assert stored == second  # the rendering keeps every digit stored
    body = api(UPDATE, {"id": 7, "input": {"name": "c"}, "since": data["a"]["updatedAt"]})
    assert conflict(body)[2]["updatedAt"] == data["b"]["updatedAt"]
    assert api.data(UPDATE, {"id": 7, "input": {"name": "c"},
                             "since": data["b"]["updatedAt"]})["updateTask"]["name"] == "c"


@pytest.mark.parametrize("since", ["yesterday", "2024-13-01T00:00:00Z", ""])
def test_an_if_updated_at_that_is_no_date_and_time_is_bad_user_input(api, since):
    before = api.data(ALL_TASKS)
    as_variable = api(UPDATE, {"id": 7, "input": {"name": "Mine"}, "since": since})
    as_literal = api(f'mutation {{ updateTask(id: 7, input: {{ name: "Mine" }}, '
                     f'ifUpdatedAt: "{since}") {{ id }} }}')
    for body in (as_variable, as_literal):
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
        assert "ifUpdatedAt" in body["errors"][0]["message"] or "since" in body["errors"][0][
            "message"], body
    assert api.data(ALL_TASKS) == before


def test_a_missing_id_stays_not_found(api):
    body = api(UPDATE, {"id": 99, "input": {"name": "Mine"}, "since": updated_at(api, 7)})
    assert conflict(body) == ("NOT_FOUND", "There is no Task with id 99 that you may change.",
                              {"field": "id"})
    assert body == api(UPDATE, {"id": 99, "input": {"name": "Mine"}})  # as without it


def test_the_check_costs_no_statement_more(api):
    """The locking SELECT takes the place of the one that finds the record."""
    def statements(variables: dict) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            api.data(UPDATE, variables)
        return [q["sql"] for q in captured.captured_queries]

    updated_at(api, 7)  # the schema built, the application's freshness known
    plain = statements({"id": 7, "input": {"name": "a"}})
    locked = statements({"id": 7, "input": {"name": "b"}, "since": updated_at(api, 7)})
    assert len(locked) == len(plain)
    if connection.vendor == "postgresql":
        assert sum("FOR UPDATE" in sql for sql in locked) == 1


# -- deleteX -----------------------------------------------------------------------------------

def test_a_delete_of_a_record_changed_since_is_a_conflict_and_deletes_nothing(api):
    read = updated_at(api, 7)
    current = rename(api, 7, "Theirs")
    body = api(DELETE, {"id": 7, "since": read})
    assert conflict(body) == ("CONFLICT", STALE_TASK.format("deleted"),
                              {"field": "ifUpdatedAt", "id": 7, "updatedAt": current})
    assert api.data(ALL_TASKS)["allTask"]["totalCount"] == 20
    assert api.data(DELETE, {"id": 7, "since": current}) == {"deleteTask": {"id": 7}}
    assert api.data(ALL_TASKS)["allTask"]["totalCount"] == 19
    body = api(DELETE, {"id": 7, "since": current})  # gone: not found, as without ifUpdatedAt
    assert conflict(body) == ("NOT_FOUND", "There is no Task with id 7 that you may delete.",
                              {"field": "id"})
    assert body == api(DELETE, {"id": 7})


# -- updateManyX -------------------------------------------------------------------------------

def test_update_many_is_refused_as_a_whole_when_any_matched_record_changed_since(api):
    where = {"id": {"in": [7, 8, 9]}}
    read = api.data(ALL_TASKS)["allTask"]["results"]
    latest = max(task["updatedAt"] for task in read if task["id"] in (7, 8, 9))
    current = rename(api, 8, "Theirs")
    before = api.data(ALL_TASKS)
    body = api(UPDATE_MANY, {"where": where, "input": {"name": "Mine"}, "since": latest})
    assert body["data"] is None  # a non-null list
    assert conflict(body) == (
        "CONFLICT", "1 of the Task records where matches changed after ifUpdatedAt (id 8): "
                    "nothing was written. Read them again and retry with the latest updatedAt "
                    "you read (extensions.changed).",
        {"field": "ifUpdatedAt", "changed": [{"id": 8, "updatedAt": current}]})
    assert api.data(ALL_TASKS) == before
    written = api.data(UPDATE_MANY, {"where": where, "input": {"name": "Mine"},
                                     "since": current})["updateManyTask"]
    assert written == [{"id": 7, "name": "Mine"}, {"id": 8, "name": "Mine"},
                       {"id": 9, "name": "Mine"}]


def test_update_many_names_every_changed_record(api):
    latest = updated_at(api, 9)
    changed = [{"id": i, "updatedAt": rename(api, i, "Theirs")} for i in (7, 9)]
    body = api(UPDATE_MANY, {"where": {"id": {"in": [7, 8, 9]}}, "input": {"name": "Mine"},
                             "since": latest})
    assert conflict(body)[2] == {"field": "ifUpdatedAt", "changed": changed}
    assert "2 of the Task records where matches changed after ifUpdatedAt (id 7, 9)" in (
        body["errors"][0]["message"])


# -- upsertX -----------------------------------------------------------------------------------

def test_an_upsert_checks_the_record_it_matches(api):
    read = updated_at(api, 7)
    item = {"externalId": "ext-007", "name": "Mine"}
    current = rename(api, 7, "Theirs")
    body = api(UPSERT, {"input": item, "since": read})
    assert conflict(body) == ("CONFLICT", STALE_TASK.format("written"),
                              {"field": "ifUpdatedAt", "id": 7, "updatedAt": current})
    assert api.data(UPSERT, {"input": item, "since": current}) == {
        "upsertTask": {"id": 7, "name": "Mine"}}


def test_an_upsert_with_if_updated_at_that_matches_nothing_creates_nothing(api):
    body = api(UPSERT, {"input": {"externalId": "ext-new", "name": "New"},
                        "since": updated_at(api, 7)})
    assert conflict(body) == (
        "CONFLICT", "No Task that you may change matches uniqueBy any more (deleted, or its "
                    "uniqueBy values changed, since you read it): ifUpdatedAt expects that "
                    "record, so nothing was written. Read again; to create the record, send the "
                    "upsert without ifUpdatedAt.",
        {"field": "ifUpdatedAt", "id": None, "updatedAt": None})
    assert api.data(ALL_TASKS)["allTask"]["totalCount"] == 20


# -- permissions come first --------------------------------------------------------------------

@pytest.fixture
def guarded(demo):
    """Anyone reads tasks and updates those not done; anyone updates companies but may not
    read them; nobody else may do anything."""
    Permission.objects.filter(data_model__application=demo).delete()
    for model, operation, condition in [("Task", "read", None),
                                        ("Task", "update", {"done": {"eq": False}}),
                                        ("Company", "update", None)]:
        Permission.objects.create(
            data_model=DataModel.objects.get(application=demo, name=model),
            operation=operation, access="public", condition=condition)
    return Api()


def test_records_he_may_not_change_are_not_found_whatever_their_updated_at(guarded, demo):
    stale = "2000-01-01T00:00:00+00:00"
    body = guarded(UPDATE, {"id": 1, "input": {"name": "Mine"}, "since": stale})  # done
    assert conflict(body) == ("NOT_FOUND", "There is no Task with id 1 that you may change.",
                              {"field": "id"})
    body = guarded(DELETE, {"id": 7, "since": stale})  # no delete permission
    assert conflict(body)[0:2] == ("FORBIDDEN", "Anonymous callers may not delete Task "
                                   "records: send a server key (Authorization: Bearer mk_…) "
                                   "from server-side code, or grant delete in the admin "
                                   "under Permissions.")
    # updateMany compares only what he may update: the done tasks are not matched at all
    body = guarded(UPDATE_MANY, {"where": {"id": {"in": [1, 2, 7]}},
                                 "input": {"name": "Mine"}, "since": stale})
    assert conflict(body)[2] == {"field": "ifUpdatedAt",
                                 "changed": [{"id": 7, "updatedAt": updated_at(guarded, 7)}]}


def test_a_conflict_shows_no_updated_at_he_may_not_read(guarded, demo):
    body = guarded("mutation { updateCompany(id: 1, input: { name: \"Mine\" }, "
                   'ifUpdatedAt: "2000-01-01T00:00:00Z") { id } }')
    assert conflict(body) == (
        "CONFLICT", "This Company changed since you read it (its updatedAt is no longer "
                    "ifUpdatedAt): nothing was written. Read it again and retry with its "
                    "current updatedAt (extensions.updatedAt).",
        {"field": "ifUpdatedAt", "id": 1, "updatedAt": None})
    assert record_values(runtime_models(demo)["Company"], "name") == [("Betty Blocks",),
                                                                      ("Acme",)]


def test_introspection_shows_if_updated_at(api):
    fields = api.data('{ __type(name: "Mutation") { fields { name args { name type { name } '
                      "description } } } }")["__type"]["fields"]
    having = {f["name"] for f in fields
              if any(a["name"] == "ifUpdatedAt" and a["type"]["name"] == "DateTime"
                     and a["description"] for a in f["args"])}
    assert {"updateTask", "updateManyTask", "upsertTask", "deleteTask"} <= having
    assert not {name for name in having if name.startswith(
        ("create", "upsertMany", "deleteMany"))}


# -- under real concurrency --------------------------------------------------------------------

only_postgres = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="SQLite lets one writer in at a time: no race to lose")


def _connect(**options) -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(dbname=settings["NAME"], host=settings["HOST"], port=settings["PORT"],
                           user=settings["USER"], password=settings["PASSWORD"], **options)


@pytest.mark.postgres_only
@only_postgres
def test_two_clients_with_one_if_updated_at_one_wins(api, demo):
    """Both clients are past their checks and waiting for the record (another connection
    holds its lock) when it is released: exactly one writes, the other gets CONFLICT naming
    the winner's updatedAt, and the record holds the winner's value."""
    read = updated_at(api, 7)
    Task = runtime_models(demo)["Task"]
    blocker = _connect()
    blocker.execute(f'SELECT id FROM "{Task._meta.db_table}" WHERE id = 7 FOR UPDATE')

    def release_when_both_wait() -> None:
        with _connect(autocommit=True) as observer:
            while observer.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                    "AND wait_event_type = 'Lock'", [connection.settings_dict["NAME"]]
            ).fetchone()[0] < 2:
                pass
        blocker.commit()

    releaser = threading.Thread(target=release_when_both_wait)
    releaser.start()
    try:
        bodies = in_parallel(2, lambda i: Api()(UPDATE, {"id": 7, "input": {"name": f"w{i}"},
                                                         "since": read}))
    finally:
        releaser.join()
        blocker.close()
    won = [body["data"]["updateTask"] for body in bodies if "errors" not in body]
    lost = [body for body in bodies if "errors" in body]
    assert len(won) == 1 and len(lost) == 1, bodies
    assert conflict(lost[0]) == ("CONFLICT", STALE_TASK.format("written"),
                                 {"field": "ifUpdatedAt", "id": 7,
                                  "updatedAt": won[0]["updatedAt"]})
    assert api.data("{ oneTask(where: { id: { eq: 7 } }) { name updatedAt } }")["oneTask"] == {
        "name": won[0]["name"], "updatedAt": won[0]["updatedAt"]}


@pytest.mark.postgres_only
@only_postgres
@pytest.mark.parametrize("mutation", ["update", "delete"])
def test_eight_clients_with_one_if_updated_at_one_wins(api, demo, mutation):
    read = updated_at(api, 7)

    def write(index: int) -> dict:
        if mutation == "delete" and index % 2:
            return Api()(DELETE, {"id": 7, "since": read})
        return Api()(UPDATE, {"id": 7, "input": {"name": f"w{index}"}, "since": read})

    bodies = in_parallel(8, write)
    codes = sorted(body["errors"][0]["extensions"]["code"] if "errors" in body else "ok"
                   for body in bodies)
    winner = next(body for body in bodies if "errors" not in body)["data"]
    if "deleteTask" in winner:  # the others find it changed (CONFLICT) or gone (NOT_FOUND)
        assert codes.count("ok") == 1 and set(codes) <= {"ok", "CONFLICT", "NOT_FOUND"}, codes
        assert api.data(ALL_TASKS)["allTask"]["totalCount"] == 19
    else:
        assert codes == ["CONFLICT"] * 7 + ["ok"], bodies
        assert api.data("{ oneTask(where: { id: { eq: 7 } }) { name } }")["oneTask"] == {
            "name": winner["updateTask"]["name"]}
