"""The transactional outbox (issue 17, point 1): every committed write of records leaves one
event per record changed, numbered 1, 2, 3 … per application in commit order; a write that
fails leaves none and takes no number.

The demo is loaded from its definition file with its records, so it starts with the loader's
events (one per record); each test reads the events after the ones it found."""

import json
import re
import threading

import psycopg
import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.identity import server_keys, tokens
from apps.identity.models import AuthProfile
from models_registry.events import ChangeBatch
from models_registry.models import ChangeEvent, EventSequence
from models_registry.runtime import runtime_models

from ..conftest import everyone_may, in_parallel
from .conftest import Api


class AnyServerKey:
    """Equal to a server key's actor: its kind and the key's prefix (mk_ and 8 hex digits),
    which a test's key, made anew each time, has its own of."""

    def __eq__(self, other) -> bool:
        return (isinstance(other, dict) and other.keys() == {"kind", "key"}
                and other["kind"] == "server" and re.fullmatch(r"mk_[0-9a-f]{8}", other["key"])
                is not None)

    def __repr__(self) -> str:
        return "{'kind': 'server', 'key': 'mk_…'}"


ANONYMOUS, SERVER, LOADER = {"kind": "anonymous"}, AnyServerKey(), {"kind": "loader"}
EVENTS_TABLE = ChangeEvent._meta.db_table
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite lets one writer in at a time: there is no order of commits to get wrong")


# -- helpers ----------------------------------------------------------------------------------


def last_seq(application) -> int:
    row = EventSequence.objects.filter(application=application).first()
    return row.last if row else 0


def events_after(application, seq: int) -> list[tuple]:
    """(model, record id, operation, fields (sorted), actor) of the events after `seq`, in
    order."""
    return [(e.model, e.record_id, e.operation, sorted(e.fields), e.actor)
            for e in ChangeEvent.objects.filter(application=application, seq__gt=seq)
            .order_by("seq")]


def changes(application, seq: int) -> set[tuple]:
    """The events after `seq` as a set of (model, record id, operation, sorted fields)."""
    return {(model, record_id, operation, tuple(fields))
            for model, record_id, operation, fields, _ in events_after(application, seq)}


def seqs(application) -> list[int]:
    return list(ChangeEvent.objects.filter(application=application).order_by("seq")
                .values_list("seq", flat=True))


def assert_gapless(application) -> None:
    """The application's events are numbered 1..N, N the counter's value."""
    numbers = seqs(application)
    assert numbers == list(range(1, len(numbers) + 1))
    assert last_seq(application) == len(numbers)


class Caller(Api):
    """The demo's API with a bearer token (None: anonymous)."""

    def __init__(self, token: str | None = None, slug: str = "demo"):
        super().__init__(slug)
        self.token = token

    def post(self, query: str, variables=None, **environ):
        if self.token is not None:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        return super().post(query, variables, **environ)


@pytest.fixture
def server(demo) -> Caller:
    return Caller(server_keys.create(demo, "events")[1])


@pytest.fixture
def betty(demo) -> tuple[Caller, dict]:
    """Betty (WebUser 1, roles admin and editor) logged in, and her actor."""
    profile = AuthProfile.objects.get(application=demo, name="Web users")
    jwt = tokens.start_session(profile, 1).jwt
    return Caller(jwt), {"kind": "user", "profile": str(profile.uuid), "id": 1}


def task_ids(demo, **where) -> list[int]:
    Task = runtime_models(demo)["Task"]
    spec = Task._mortar
    return sorted(Task.objects.filter(**{spec.attname(k): v for k, v in where.items()})
                  .values_list("pk", flat=True))


# -- what the loader and each mutation record -------------------------------------------------


def test_loading_records_from_a_definition_file_records_them_as_the_loader(demo):
    counts = {name: cls.objects.count() for name, cls in runtime_models(demo).by_name.items()}
    loaded = events_after(demo, 0)

    assert len(loaded) == sum(counts.values()) == 41  # one event per record, links merged in
    assert {(model, operation) for model, _, operation, _, _ in loaded} == {
        (name, "create") for name in counts}
    assert all(actor == LOADER for *_, actor in loaded)
    betty = next(e for e in loaded if e[:2] == ("WebUser", 1))
    assert set(betty[3]) == {"firstName", "lastName", "email", "password", "company", "roles"}
    assert_gapless(demo)


def test_create_and_create_many(demo, api, server):
    before = last_seq(demo)
    created = api.data('mutation { createTask(input: { name: "a", project: { id: 1 } }) '
                       "{ id } }")["createTask"]["id"]
    assert events_after(demo, before) == [
        ("Task", created, "create", ["name", "project"], ANONYMOUS)]

    before = last_seq(demo)
    users = server.data(
        "mutation($input: [WebUserInput!]!) { createManyWebUser(input: $input) { id } }",
        {"input": [{"email": "x1@example.com", "roles": {"_add": [{"id": 1}, {"id": 3}]}},
                   {"email": "x2@example.com", "lastName": "Two"}]})["createManyWebUser"]
    first, second = (user["id"] for user in users)
    assert events_after(demo, before) == [
        ("WebUser", first, "create", ["email", "roles"], SERVER),
        ("WebUser", second, "create", ["email", "lastName"], SERVER),
        # the roles newly linked change at their end too
        ("Role", 1, "update", ["webUsers"], SERVER),
        ("Role", 3, "update", ["webUsers"], SERVER),
    ]
    assert_gapless(demo)


def test_update_and_update_many_name_the_user(demo, betty):
    caller, actor = betty
    before = last_seq(demo)
    caller.data("mutation { updateTask(id: 2, input: { done: true, name: \"x\" }) { id } }")
    assert events_after(demo, before) == [("Task", 2, "update", ["done", "name"], actor)]

    before = last_seq(demo)
    matched = task_ids(demo, project=1)
    caller.data("mutation { updateManyTask(where: { project: { id: { eq: 1 } } }, "
                "input: { priority: \"high\" }) { id } }")
    assert events_after(demo, before) == [
        ("Task", task_id, "update", ["priority"], actor) for task_id in matched]

    before = last_seq(demo)  # matching nothing: no event
    caller.data("mutation { updateManyTask(where: { id: { eq: 999 } }, input: { done: true }) "
                "{ id } }")
    assert last_seq(demo) == before


def test_upsert_and_upsert_many(demo, server):
    Task = runtime_models(demo)["Task"]
    existing = Task.objects.create(**{Task._mortar.attname("externalId"): "ext-1",
                                      Task._mortar.attname("done"): False})
    before = last_seq(demo)
    server.data('mutation { upsertTask(input: { externalId: "ext-1", name: "again" }, '
                "uniqueBy: [externalId]) { id } }")
    assert events_after(demo, before) == [
        ("Task", existing.pk, "update", ["externalId", "name"], SERVER)]

    before = last_seq(demo)
    result = server.data(
        "mutation($input: [TaskInput!]!) { upsertManyTask(input: $input, "
        "uniqueBy: [externalId]) { id } }",
        {"input": [{"externalId": "ext-1", "done": True},
                   {"externalId": "ext-2", "name": "new", "done": False}]})["upsertManyTask"]
    assert result[0]["id"] == existing.pk
    assert events_after(demo, before) == [
        ("Task", result[1]["id"], "create", ["done", "externalId", "name"], SERVER),
        ("Task", existing.pk, "update", ["done", "externalId"], SERVER),
    ]


def test_delete_and_delete_many(demo, api):
    before = last_seq(demo)
    api.data("mutation { deleteTask(id: 3) { id } }")
    assert events_after(demo, before) == [("Task", 3, "delete", [], ANONYMOUS)]

    before = last_seq(demo)
    api.data("mutation { deleteManyTask(input: { ids: [5, 4, 6] }) { id } }")
    assert events_after(demo, before) == [
        ("Task", record_id, "delete", [], ANONYMOUS) for record_id in (5, 4, 6)]


def test_a_deletion_records_what_its_relations_do_to_other_records(demo, api):
    built = runtime_models(demo)
    Song = built["Song"]
    songs_of_1 = sorted(Song.objects.filter(**{Song._mortar.attname("artist"): 1})
                        .values_list("pk", flat=True))
    tasks_of_2 = task_ids(demo, project=2)
    assert songs_of_1 and tasks_of_2

    before = last_seq(demo)
    api.data("mutation { deleteArtist(id: 1) { id } }")  # its songs cascade
    assert changes(demo, before) == {("Artist", 1, "delete", ())} | {
        ("Song", song_id, "delete", ()) for song_id in songs_of_1}
    assert not Song.objects.filter(pk__in=songs_of_1).exists()

    before = last_seq(demo)
    api.data("mutation { deleteProject(id: 2) { id } }")  # its tasks are nullified
    assert changes(demo, before) == {("Project", 2, "delete", ())} | {
        ("Task", task_id, "update", ("project",)) for task_id in tasks_of_2}

    before = last_seq(demo)
    api.data("mutation { deleteWebUser(id: 1) { id } }")  # Betty's links to roles 1 and 2
    assert changes(demo, before) == {("WebUser", 1, "delete", ()),
                                     ("Role", 1, "update", ("webUsers",)),
                                     ("Role", 2, "update", ("webUsers",))}
    assert_gapless(demo)


def test_relation_operations_record_the_far_records(demo, api):
    tasks_of_1 = task_ids(demo, project=1)
    moved = task_ids(demo, project=3)[0]
    before = last_seq(demo)
    api.data(f"mutation {{ updateProject(id: 1, input: {{ tasks: {{ _add: [{{ id: {moved} }}] "
             "} }) { id } }")
    assert changes(demo, before) == {("Project", 1, "update", ("tasks",)),
                                     ("Task", moved, "update", ("project",))}

    before = last_seq(demo)  # _remove: only the children that were linked change
    api.data(f"mutation {{ updateProject(id: 1, input: {{ tasks: {{ _remove: [{{ id: {moved} }}, "
             f"{{ id: {task_ids(demo, project=3)[0]} }}] }} }}) {{ id }} }}")
    assert changes(demo, before) == {("Project", 1, "update", ("tasks",)),
                                     ("Task", moved, "update", ("project",))}

    before = last_seq(demo)  # _replace: the children let go and the ones kept or taken
    kept = tasks_of_1[0]
    api.data(f"mutation {{ updateProject(id: 1, input: {{ tasks: {{ _replace: [{{ id: {kept} }}] "
             "} }) { id } }")
    assert changes(demo, before) == {("Project", 1, "update", ("tasks",))} | {
        ("Task", task_id, "update", ("project",)) for task_id in tasks_of_1}

    before = last_seq(demo)  # habtm: Betty has roles 1 and 2
    api.data("mutation { updateWebUser(id: 1, input: { roles: { _add: [{ id: 2 }, { id: 3 }] } "
             "}) { id } }")
    assert changes(demo, before) == {("WebUser", 1, "update", ("roles",)),
                                     ("Role", 3, "update", ("webUsers",))}  # 2 was linked

    before = last_seq(demo)
    api.data("mutation { updateWebUser(id: 1, input: { roles: { _remove: [{ id: 1 }, { id: 4 }] "
             "} }) { id } }")
    assert changes(demo, before) == {("WebUser", 1, "update", ("roles",)),
                                     ("Role", 1, "update", ("webUsers",))}  # 4 was not

    before = last_seq(demo)  # from the Role's side: Bob linked; Betty, Carla, Dave unlinked
    api.data("mutation { updateRole(id: 3, input: { webUsers: { _replace: [{ id: 2 }] } }) "
             "{ id } }")
    assert changes(demo, before) == {("Role", 3, "update", ("webUsers",))} | {
        ("WebUser", user_id, "update", ("roles",)) for user_id in (1, 2, 3, 4)}
    assert_gapless(demo)


# -- what fails records nothing ----------------------------------------------------------------


def test_failing_mutations_record_nothing_and_take_no_number(demo, server):
    anonymous = Caller()  # the demo as shipped: anonymous callers may not write
    before = last_seq(demo)
    refusals = [
        (server, "mutation { createProject(input: {}) { id } }", "VALIDATION_ERROR"),
        (anonymous, 'mutation { createProject(input: { name: "x" }) { id } }', "FORBIDDEN"),
        (server, 'mutation { updateTask(id: 1, input: { name: "x" }, '
                 'ifUpdatedAt: "2000-01-01T00:00:00Z") { id } }', "CONFLICT"),
        (server, 'mutation { createWebUser(input: { email: "betty@example.com" }) { id } }',
         "VALIDATION_ERROR"),
        # unchecked (an action script's choice): the database's unique index refuses it
        (server, 'mutation { createWebUser(input: { email: "betty@example.com" }, '
                 'validationSets: ["empty"]) { id } }', "CONFLICT"),
        (server, "mutation { deleteTask(id: 999) { id } }", "NOT_FOUND"),
    ]
    for caller, query, code in refusals:
        assert caller.error(query)["extensions"]["code"] == code, query
        assert last_seq(demo) == before, query
    assert events_after(demo, before) == []

    server.data('mutation { createProject(input: { name: "after" }) { id } }')
    assert seqs(demo)[-1] == before + 1
    assert_gapless(demo)


def test_of_several_fields_only_the_committed_ones_record(demo, server):
    before = last_seq(demo)
    body = server('mutation { a: updateTask(id: 1, input: { name: "a" }) { id } '
                  "b: createProject(input: {}) { id } "
                  'c: updateTask(id: 2, input: { name: "c" }) { id } }')
    assert body["data"] == {"a": {"id": 1}, "b": None, "c": {"id": 2}}
    assert [e[:3] for e in events_after(demo, before)] == [("Task", 1, "update"),
                                                          ("Task", 2, "update")]
    assert seqs(demo)[-2:] == [before + 1, before + 2]


# -- one statement, numbers per application -------------------------------------------------------


def test_create_many_of_1000_writes_its_events_with_one_insert(demo, server):
    items = [{"name": f"Project {i}"} for i in range(1000)]
    before = last_seq(demo)
    with CaptureQueriesContext(connection) as captured:
        created = server.data("mutation($input: [ProjectInput!]!) { createManyProject("
                              "input: $input) { id } }", {"input": items})["createManyProject"]
    touching = [q["sql"] for q in captured.captured_queries if EVENTS_TABLE in q["sql"]]
    assert len(touching) == 1 and touching[0].startswith("INSERT"), touching
    assert events_after(demo, before) == [
        ("Project", project["id"], "create", ["name"], SERVER) for project in created]
    assert seqs(demo)[-1000:] == list(range(before + 1, before + 1001))


def test_numbers_are_per_application(demo, api, make_app, make_model):
    shop = make_app("shop")
    everyone_may(make_model(shop, "Item", name="text"))
    shop_api = Api("shop")
    for round_ in range(3):
        api.data(f'mutation {{ createProject(input: {{ name: "p{round_}" }}) {{ id }} }}')
        shop_api.data(f'mutation {{ createItem(input: {{ name: "i{round_}" }}) {{ id }} }}')
    assert seqs(shop) == [1, 2, 3]
    assert seqs(demo)[-3:] == [42, 43, 44]  # after the loader's 41
    assert_gapless(demo)
    assert_gapless(shop)


def test_a_batch_merges_what_it_notes_of_one_record(demo):
    built = runtime_models(demo)
    Task, Role = built["Task"], built["Role"]
    batch = ChangeBatch()
    batch.add(Task, [1, 2], "update", ["name"])
    batch.add(Role, [1], "update", ["webUsers"])
    batch.add(Task, [1], "update", ["done", "name"])  # the fields add up
    batch.add(Task, [2], "delete", ["name"])  # a delete wins, with no fields
    batch.add(Task, [2], "update", ["name"])  # and nothing comes after it
    batch.add(Task, [99], "create", ["name"])
    batch.add(Task, [99], "update", ["project"])  # a create stays a create
    batch.add(Task, [98], "create", ["name"])
    batch.add(Task, [98], "delete")  # never seen outside the transaction: no event
    assert len(batch) == 4
    before = last_seq(demo)
    with transaction.atomic():
        batch.flush(demo.pk, {"kind": "server", "key": "mk_0123abcd"})
    assert events_after(demo, before) == [
        ("Task", 1, "update", ["done", "name"], SERVER), ("Task", 2, "delete", [], SERVER),
        ("Task", 99, "create", ["name", "project"], SERVER),
        ("Role", 1, "update", ["webUsers"], SERVER)]
    assert len(batch) == 0  # flushed: a second flush writes nothing


def test_an_empty_batch_writes_nothing(demo):
    with CaptureQueriesContext(connection) as captured:
        ChangeBatch().flush(demo.pk, SERVER)
    assert captured.captured_queries == []


# -- the admin's record browser ---------------------------------------------------------------


def record_url(action: str, *args) -> str:
    return reverse(f"admin:models_registry_datamodel_record_{action}", args=args)


def test_the_record_browser_records_its_writes_as_the_admin(demo, admin_client,
                                                            django_user_model):
    admin = django_user_model.objects.get(username="admin")
    actor = {"kind": "admin", "id": admin.pk, "username": "admin"}
    built = runtime_models(demo)
    Task, WebUser = built["Task"], built["WebUser"]
    task_model, user_model = Task._mortar.data_model.pk, WebUser._mortar.data_model.pk
    at = Task._mortar.attname

    before = last_seq(demo)
    added = admin_client.post(record_url("add", task_model),
                              {at("name"): "From the admin", at("done"): "on",
                               at("priority"): "medium", at("project"): "1"})
    assert added.status_code == 302
    new = Task.objects.get(**{at("name"): "From the admin"})
    assert events_after(demo, before) == [
        ("Task", new.pk, "create", ["done", "name", "project"], actor)]

    before = last_seq(demo)
    changed = admin_client.post(record_url("change", task_model, new.pk),
                                {at("name"): "Renamed", at("done"): "on",
                                 at("priority"): "medium", at("project"): "1"})
    assert changed.status_code == 302
    assert events_after(demo, before) == [("Task", new.pk, "update", ["name"], actor)]

    before = last_seq(demo)  # Betty's roles 1 and 2 become 2 and 3
    fields = {WebUser._mortar.attname(n): getattr(WebUser.objects.get(pk=1),
                                                   WebUser._mortar.attname(n))
              for n in ("firstName", "lastName", "email")}
    changed = admin_client.post(record_url("change", user_model, 1),
                                {**fields, WebUser._mortar.attname("company"): "1",
                                 WebUser._mortar.attname("roles"): ["2", "3"]})
    assert changed.status_code == 302, changed.content
    assert changes(demo, before) == {("WebUser", 1, "update", ("roles",)),
                                     ("Role", 1, "update", ("webUsers",)),
                                     ("Role", 3, "update", ("webUsers",))}

    before = last_seq(demo)
    deleted = admin_client.post(record_url("delete", task_model, new.pk))
    assert deleted.status_code == 302
    assert events_after(demo, before) == [("Task", new.pk, "delete", [], actor)]
    assert_gapless(demo)


def test_a_record_the_admin_could_not_save_records_nothing(demo, admin_client):
    Role = runtime_models(demo)["Role"]
    before = last_seq(demo)
    refused = admin_client.post(record_url("add", Role._mortar.data_model.pk),
                                {Role._mortar.attname("name"): "admin"})  # taken: unique
    assert refused.status_code == 200
    assert last_seq(demo) == before


# -- concurrent writers (PostgreSQL) ------------------------------------------------------------


def other_connection(**options) -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(dbname=settings["NAME"], host=settings["HOST"], port=settings["PORT"],
                           user=settings["USER"], password=settings["PASSWORD"], **options)


def wait_until_blocked(writer: threading.Thread) -> None:
    """Until a backend of the test database waits on a lock (or the writer is done)."""
    with other_connection(autocommit=True) as observer:
        while writer.is_alive() and not observer.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND wait_event_type = 'Lock'", [connection.settings_dict["NAME"]]).fetchone()[0]:
            pass


def hold_the_counter(demo) -> tuple[psycopg.Connection, int]:
    """Another transaction that has taken the demo's next number (and written its event, as
    a write does) and not committed yet."""
    holder = other_connection()
    seq = holder.execute(
        'INSERT INTO "models_registry_eventsequence" (application_id, last) VALUES (%s, 1) '
        'ON CONFLICT (application_id) DO UPDATE SET last = "models_registry_eventsequence".last '
        "+ excluded.last RETURNING last", [demo.pk]).fetchone()[0]
    holder.execute(
        'INSERT INTO "models_registry_changeevent" (application_id, seq, model, record_id, '
        "operation, fields, actor, created_at) VALUES (%s, %s, 'Task', 1, 'update', '[]', "
        """'{"kind": "other"}', now())""", [demo.pk, seq])
    return holder, seq


def update_in_thread(result: dict) -> threading.Thread:
    def run() -> None:
        try:
            result.update(Api()('mutation { updateTask(id: 2, input: { name: "w" }) { id } }'))
        finally:
            connections.close_all()

    return threading.Thread(target=run)


@postgres_only
@pytest.mark.parametrize("holder_ends", ["commit", "rollback"])
def test_a_write_takes_its_number_after_the_write_holding_the_counter_ends(demo, api,
                                                                          holder_ends):
    holder, held = hold_the_counter(demo)
    result: dict = {}
    try:
        writer = update_in_thread(result)
        writer.start()
        wait_until_blocked(writer)
        # the mutation has written its record and waits for the number: nothing of it is seen
        assert writer.is_alive()
        assert events_after(demo, held - 1) == []
        getattr(holder, holder_ends)()
        writer.join()
    finally:
        holder.close()
    assert "errors" not in result, result
    expected = [("Task", 1, "update", [], {"kind": "other"})] if holder_ends == "commit" else []
    expected.append(("Task", 2, "update", ["name"], ANONYMOUS))
    assert events_after(demo, held - 1) == expected  # right after, in commit order
    assert_gapless(demo)


@postgres_only
def test_concurrent_writers_number_their_events_gaplessly_in_commit_order(demo, api):
    """Writers (some of them refused) race; an observer reads the events over and over while
    they do: at every look, the numbers it sees are 1..N without a hole (a later number is
    never visible before an earlier one)."""
    base = last_seq(demo)
    writers, rounds = 6, 8
    done = threading.Event()
    looks: list[tuple[int, int]] = []

    def observe() -> None:
        with other_connection(autocommit=True) as observer:
            while not done.is_set():
                looks.append(observer.execute(
                    f'SELECT count(*), coalesce(max(seq), 0) FROM "{EVENTS_TABLE}" '
                    "WHERE application_id = %s", [demo.pk]).fetchone())

    def write(index: int) -> list:
        caller = Api()
        outcomes = []
        for round_ in range(rounds):
            name = "" if (index + round_) % 3 == 0 else f"w{index}-{round_}"  # "": refused
            body = caller(f'mutation {{ createProject(input: {{ name: "{name}" }}) {{ id }} }}'
                          if name else "mutation { createProject(input: {}) { id } }")
            outcomes.append(None if body.get("errors") else body["data"]["createProject"]["id"])
        return outcomes

    observer = threading.Thread(target=observe)
    observer.start()
    try:
        outcomes = in_parallel(writers, write)
    finally:
        done.set()
        observer.join()
    created = [record_id for outcome in outcomes for record_id in outcome if record_id]
    refused = sum(record_id is None for outcome in outcomes for record_id in outcome)
    assert refused and created
    assert_gapless(demo)
    assert last_seq(demo) == base + len(created)
    assert sorted(e[1] for e in events_after(demo, base)) == sorted(created)
    assert looks and all(count == top for count, top in looks), [
        look for look in looks if look[0] != look[1]][:5]


@postgres_only
def test_a_record_deleted_meanwhile_is_not_deleted_twice(demo, api):
    """Another transaction deletes the record after the mutation found it: the mutation waits
    for it, then has nothing left to delete, and records no second deletion."""
    Task = runtime_models(demo)["Task"]
    before = last_seq(demo)
    other = other_connection()
    try:
        other.execute(f'DELETE FROM "{Task._meta.db_table}" WHERE id = 7')
        result: dict = {}

        def delete() -> None:
            try:
                result.update(Api()("mutation { deleteManyTask(input: { ids: [7, 8] }) "
                                    "{ id } }"))
            finally:
                connections.close_all()

        writer = threading.Thread(target=delete)
        writer.start()
        wait_until_blocked(writer)
        assert writer.is_alive()
        other.commit()
        writer.join()
    finally:
        other.close()
    assert "errors" not in result, result
    assert events_after(demo, before) == [("Task", 8, "delete", [], ANONYMOUS)]
    assert not Task.objects.filter(pk__in=[7, 8]).exists()


@postgres_only
def test_a_unique_value_taken_meanwhile_records_nothing(demo, server):
    """The mutation's unique check cannot see another transaction's uncommitted record; its
    INSERT waits on the unique index and fails (CONFLICT) when the other commits."""
    WebUser = runtime_models(demo)["WebUser"]
    before = last_seq(demo)
    other = other_connection()
    try:
        other.execute(f'INSERT INTO "{WebUser._meta.db_table}" '
                      f'("{WebUser._mortar.attname("email")}", created_at, updated_at) '
                      "VALUES ('late@example.com', now(), now())")
        result: dict = {}

        def create() -> None:
            try:
                result.update(server('mutation { createWebUser(input: { email: '
                                     '"late@example.com" }) { id } }'))
            finally:
                connections.close_all()

        writer = threading.Thread(target=create)
        writer.start()
        wait_until_blocked(writer)
        other.commit()
        writer.join()
    finally:
        other.close()
    assert result["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert last_seq(demo) == before and events_after(demo, before) == []
    server.data('mutation { createProject(input: { name: "next" }) { id } }')
    assert seqs(demo)[-1] == before + 1


def test_events_survive_as_json(demo):
    """The columns read back as what was written, on both databases."""
    event = ChangeEvent.objects.filter(application=demo).order_by("seq").first()
    assert isinstance(event.fields, list) and isinstance(event.actor, dict)
    assert json.loads(json.dumps(event.actor)) == LOADER
    assert event.data_model.name == event.model

