"""Saved endpoints as definitions: the `restEndpoints` section of definition files (loaded,
exported, refused whole with each problem's place), schema changes that break a saved document
(the endpoint answers 500 saying why; the others keep working), and changes to endpoints seen
by the next request."""

from __future__ import annotations

import copy

import pytest
from django.utils import timezone

from apps.rest_api.models import RestEndpoint
from models_registry import changes
from models_registry.definitions import DefinitionError, export_definition, load_definition
from models_registry.models import Application, DataModel

from .conftest import ONE_TASK, Rest, error_of

TICKET = "query($id: Int!) { oneTicket(where: { id: { eq: $id } }) { id title open } }"
TRACKER = {
    "mortar": 1,
    "application": {"slug": "tracker", "name": "Tracker", "introspection": False},
    "models": [{"name": "Ticket", "properties": [{"name": "title", "kind": "text"},
                                                 {"name": "open", "kind": "boolean"}]}],
    "relations": [],
    "permissions": [{"model": "Ticket", "operation": "read", "access": "public"}],
    "restEndpoints": [  # as exported: by name, methods and comment only when given
        {"name": "close", "url": "tickets/:id/close", "methods": ["PATCH"],
         "query": "mutation($id: Int!) { updateTicket(id: $id, input: { open: false }) "
                  "{ id open } }",
         "comment": "Closes a ticket: PATCH /api/tracker/rest/tickets/1/close."},
        {"name": "ticket", "url": "tickets/:id", "query": TICKET},
    ],
    "data": {"Ticket": [{"id": 1, "title": "Leaky tap", "open": True}]},
}


@pytest.fixture
def tracker_file(loaded_apps) -> dict:
    """The tracker's definition (a copy to change); whatever it created is dropped after."""
    return copy.deepcopy(TRACKER)


def tracker() -> Application:
    return Application.objects.get(slug="tracker")


# -- definition files -----------------------------------------------------------------------


def test_a_file_with_endpoints_loads_them_and_exports_them_as_written(tracker_file):
    report = load_definition(tracker_file, with_data=True)
    assert {"REST endpoint close", "REST endpoint ticket"} <= set(report.created)
    assert export_definition(tracker())["restEndpoints"] == tracker_file["restEndpoints"]
    assert Rest(tracker()).get("tickets/1").json() == \
        {"data": {"oneTicket": {"id": 1, "title": "Leaky tap", "open": True}}}


def test_loading_a_file_twice_changes_nothing_the_second_time(tracker_file):
    load_definition(tracker_file, with_data=True)
    assert load_definition(tracker_file, with_data=True).unchanged
    assert load_definition(export_definition(tracker())).unchanged


def test_a_changed_file_changes_the_endpoints_and_removes_those_left_out(tracker_file):
    load_definition(tracker_file)
    tracker_file["restEndpoints"] = [{"name": "ticket", "url": "tickets/:id", "methods": ["GET"],
                                      "query": TICKET}]
    report = load_definition(tracker_file)
    assert (report.created, report.changed) == (
        [], ["REST endpoint ticket", "REST endpoint close removed"])
    assert export_definition(tracker())["restEndpoints"] == tracker_file["restEndpoints"]
    assert list(RestEndpoint.objects.values_list("name", "methods")) == [("ticket", ["GET"])]


def endpoint(index: int, **fields) -> dict:
    """A change to the file's endpoint at `index`."""
    return {"at": index, **fields}


OVERLAPPING = {"name": "by-title", "url": "tickets/:title",
               "query": "query($title: String!) { oneTicket(where: { title: { eq: $title } }) "
                        "{ id } }"}


@pytest.mark.parametrize("change, problem", [
    (endpoint(1, url="tickets/{id}"),
     "restEndpoints[1].url: Segment 2 ('{id}') may hold only letters, digits and . _ ~ -"),
    (endpoint(1, url="tickets//:id"), "restEndpoints[1].url: Segment 2 ('') may hold only"),
    (endpoint(1, query=TICKET + " query Other { allTicket { totalCount } }"),
     "restEndpoints[1].query: The document has 2 operations; an endpoint runs exactly one"),
    (endpoint(1, query="{ allTicket { totalCount } }"),
     "restEndpoints[1].url: The URL passes :id, but the document declares no $id"),
    (endpoint(1, url="tickets/:where",
              query="query($where: TicketFilterInput) { allTicket(where: $where) "
                    "{ totalCount } }"),
     "restEndpoints[1].url: :where passes text, which $where of type TicketFilterInput "
     "cannot take"),
    (endpoint(2, **OVERLAPPING),
     "restEndpoints[2].url: Endpoint 'ticket' (tickets/:id) would answer the same URLs for "
     "GET, POST"),
    (endpoint(1, query=TICKET.replace("open", "colour")),
     "restEndpoints[1].query: Cannot query field 'colour' on type 'Ticket'."),
    (endpoint(0, methods=["GET"]), "restEndpoints[0].methods: A mutation is not served with "
                                   "GET"),
    (endpoint(1, name="two words"), "restEndpoints[1].name: Use letters, digits, _ and -, "
                                    "starting with a letter."),
    (endpoint(0, url="tickets/:id/" + "x" * 300), "restEndpoints[0].url: at most 300 "
                                                  "characters."),
    (endpoint(1, query='{ __type(name: "Ticket") { name } }', url="ticket-type"),
     "restEndpoints[1].query: GraphQL introspection has been disabled"),
])
def test_a_bad_endpoint_refuses_the_file_and_creates_nothing(tracker_file, change, problem):
    at = change.pop("at")
    sections = tracker_file["restEndpoints"]
    if at == len(sections):
        sections.append(change)
    else:
        sections[at].update(change)
    with pytest.raises(DefinitionError) as refused:
        load_definition(tracker_file, with_data=True)
    assert [p for p in refused.value.problems if p.startswith(problem)], refused.value.problems
    assert not Application.objects.filter(slug="tracker").exists()
    assert not DataModel.objects.filter(name="Ticket").exists()
    assert not RestEndpoint.objects.exists()


def test_a_refused_file_leaves_the_loaded_endpoints_as_they_were(tracker_file):
    load_definition(tracker_file, with_data=True)
    changed = copy.deepcopy(tracker_file)
    changed["restEndpoints"][0]["url"] = "tickets/:id/close/:id"
    changed["restEndpoints"][1]["url"] = "tickets/:id/view"
    with pytest.raises(DefinitionError):
        load_definition(changed)
    assert export_definition(tracker())["restEndpoints"] == tracker_file["restEndpoints"]


# -- schema changes that break a saved document ---------------------------------------------


def delete_external_id(demo):
    changes.delete_property(demo.data_models.get(name="Task").properties.get(name="externalId"))


def rename_external_id(demo):
    prop = demo.data_models.get(name="Task").properties.get(name="externalId")
    changes.alter_property(prop, name="reference")


def rename_task(demo):
    changes.rename_model(demo.data_models.get(name="Task"), "Job")


@pytest.mark.parametrize("breaking_change, why, fixed", [
    (delete_external_id, "Cannot query field 'externalId' on type 'Task'.", "oneTask"),
    (rename_external_id, "Cannot query field 'externalId' on type 'Task'.", "oneTask"),
    (rename_task, "Cannot query field 'oneTask' on type 'Query'.", "oneJob"),
])
def test_a_schema_change_breaks_only_the_endpoints_it_touches(rest, demo, breaking_change, why,
                                                              fixed):
    """The change is made (not refused); the endpoint whose document no longer fits answers
    500 saying which and why until a builder fixes it; the others keep working."""
    task = rest.save("task", "tasks/:id", "query($id: Int!) { oneTask(where: { id: { eq: $id } "
                                          "}) { id externalId } }")
    rest.save("project", "projects/:id", "query($id: Int!) { oneProject(where: { id: { eq: $id "
                                         "} }) { name } }")
    assert rest.get("tasks/1").status_code == 200

    breaking_change(demo)
    broken = rest.get("tasks/1")
    assert broken.status_code == 500
    assert error_of(broken) == {
        "message": f"The endpoint 'task' no longer fits the application's schema: {why} A "
                   "builder must fix its document in the admin (REST endpoints).",
        "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    assert rest.get("projects/1").json() == {"data": {"oneProject": {"name": "Website"}}}

    task.query = ONE_TASK.replace("oneTask", fixed)
    task.save()
    assert rest.get("tasks/1").json() == \
        {"data": {fixed: {"id": 1, "name": "Design homepage", "done": True}}}


def test_switching_introspection_off_breaks_an_endpoint_that_reads_the_schema(rest, demo):
    """A saved document is ready for the application's introspection setting as it is now:
    off, a document asking for the schema answers 500 (as a definition file loading it is
    refused), not what introspection now hides."""
    rest.save("type", "task-type", '{ __type(name: "Task") { name } }')
    assert rest.get("task-type").json() == {"data": {"__type": {"name": "Task"}}}
    Application.objects.filter(pk=demo.pk).update(introspection_enabled=False)
    broken = rest.get("task-type")
    assert broken.status_code == 500
    assert error_of(broken)["message"].startswith(
        "The endpoint 'type' no longer fits the application's schema: GraphQL introspection "
        "has been disabled")


# -- endpoint changes are seen by the next request ------------------------------------------


def test_a_saved_change_is_seen_by_the_next_request(rest):
    task = rest.save("task", "tasks/:id", ONE_TASK)
    assert rest.get("tasks/1").status_code == 200
    task.url = "jobs/:id"
    task.save()
    assert rest.get("tasks/1").status_code == 404
    assert rest.get("jobs/1").json()["data"]["oneTask"]["id"] == 1
    rest.save("first", "first-job", "{ oneTask { id } }")
    assert rest.get("first-job").json() == {"data": {"oneTask": {"id": 1}}}
    task.delete()
    assert rest.get("jobs/1").status_code == 404


def test_a_change_written_by_another_process_is_seen_by_the_next_request(rest, demo):
    """Another process's save reaches this one only through the database: the endpoint's row
    and the application row its save touches."""
    task = rest.save("task", "tasks/:id", ONE_TASK)
    assert rest.get("tasks/1").json()["data"]["oneTask"]["name"] == "Design homepage"
    RestEndpoint.objects.filter(pk=task.pk).update(
        query=ONE_TASK.replace("id name done", "id externalId"))
    Application.objects.filter(pk=demo.pk).update(updated_at=timezone.now())
    assert rest.get("tasks/1").json() == {"data": {"oneTask": {"id": 1, "externalId": "ext-001"}}}
