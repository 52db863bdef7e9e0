"""A watcher sees what its reads would show: the demo's WebUser read is conditional (a user
reads himself, and the members of his company when he is its admin); Task is public."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from apps.identity.models import Permission

from .conftest import last_seq, login, open_stream

UPDATE_USER = ('mutation($id: Int!, $name: String) { updateWebUser(id: $id, input: '
               '{ lastName: $name, password: "a-new-secret-1" }) { id } }')


def test_a_conditional_read_shows_only_readable_records_and_fields(demo, server, run):
    eve = login(demo, 5)  # no role, company 2 (Acme): she reads herself only

    async def body():
        stream = await open_stream(token=eve, models="WebUser")
        await server.a(UPDATE_USER, {"id": 4, "name": "Dave's"})  # Dave, same company
        await server.a(UPDATE_USER, {"id": 5, "name": "Eve's"})
        created = (await server.a('mutation { createWebUser(input: { email: "x@example.com" '
                                  "}) { id } }"))["createWebUser"]["id"]
        await server.a("mutation($id: Int!) { deleteWebUser(id: $id) { id } }", {"id": created})
        await server.a(UPDATE_USER, {"id": 5, "name": "Eve"})  # the last: all before are past
        events = await stream.changes(2)
        await stream.close()
        return events

    events = run(body)
    assert [(e.event, e.json["id"]) for e in events] == [("update", 5), ("update", 5)]
    assert events[0].json["fields"] == ["lastName"]  # never the password


def test_fields_of_relations_to_unreadable_models_are_left_out(demo, server, run):
    Permission.objects.filter(data_model__application=demo, data_model__name="Project",
                              operation="read").delete()

    async def body():
        stream = await open_stream(models="Task")  # anonymous: Task is public
        await server.a('mutation { createTask(input: { name: "t", project: { id: 1 } }) '
                       "{ id } }")
        (event,) = await stream.changes(1)
        await stream.close()
        return event

    assert run(body).json["fields"] == ["name"]


def test_deletions_are_shown_only_without_a_condition(demo, server, server_key, run):
    """Anonymous callers read tasks without a condition: they see a task deleted. Betty reads
    WebUsers under a condition: the deleted user can no longer be checked against it, so she
    does not see his deletion (only the server key does)."""
    betty = login(demo, 1)  # admin of Betty Blocks: reads its members

    async def body():
        anonymous = await open_stream(models="Task")
        admin = await open_stream(token=betty, models="WebUser")
        unrestricted = await open_stream(token=server_key, models="WebUser")
        await server.a("mutation { deleteTask(id: 1) { id } }")
        await server.a("mutation { deleteWebUser(id: 3) { id } }")  # Carla, of Betty Blocks
        await server.a(UPDATE_USER, {"id": 2, "name": "Bob's"})  # Bob, of Betty Blocks
        seen = [(await anonymous.changes(1))[0], *(await admin.changes(1)),
                *(await unrestricted.changes(2))]
        for stream in (anonymous, admin, unrestricted):
            await stream.close()
        return seen

    task, admin, *server_sees = run(body)
    assert (task.event, task.json["model"], task.json["id"]) == ("delete", "Task", 1)
    assert (admin.event, admin.json["id"]) == ("update", 2)
    assert [(e.event, e.json["id"]) for e in server_sees] == [("delete", 3), ("update", 2)]


def test_a_server_key_sees_every_field_but_passwords(demo, server, server_key, run):
    async def body():
        stream = await open_stream(token=server_key, models="WebUser")
        await server.a(UPDATE_USER, {"id": 4, "name": "D"})
        (event,) = await stream.changes(1)
        await stream.close()
        return event

    assert run(body).json["fields"] == ["lastName"]


# -- refusals: JSON, with the code and a message saying what to do ---------------------------

def refusal(path: str, token: str | None = None, **headers) -> tuple[int, str, str]:
    """A refused watch: (status, extensions.code, message). Django's sync test client is no
    ASGI server, which the view says; refusals come first and answer the same anywhere."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = async_to_sync(AsyncClient().get)(path, headers=headers)
    assert response["Content-Type"] == "application/json", response
    (error,) = json.loads(response.content)["errors"]
    return response.status_code, error["extensions"]["code"], error["message"]


def test_refusals(demo, server_key):
    status, code, message = refusal("/api/demo/watch?models=Task,WebUser")
    assert (status, code) == (403, "FORBIDDEN")
    assert message.startswith("WebUser is not readable by anonymous callers")

    assert refusal("/api/demo/watch?models=Task", "nonsense")[:2] == (401, "UNAUTHENTICATED")
    assert refusal("/api/nowhere/watch?models=Task")[:2] == (404, "NOT_FOUND")
    status, code, message = refusal("/api/demo/watch?models=Task,Nope")
    assert (status, code) == (400, "BAD_USER_INPUT") and "no model Nope" in message
    for path in ("/api/demo/watch", "/api/demo/watch?models=", "/api/demo/watch?models=,"):
        status, code, message = refusal(path)
        assert (status, code) == (400, "BAD_USER_INPUT") and "?models=Task" in message
    for bad in ("-1", "x", "1.5", "99999999999999999999"):
        status, code, message = refusal("/api/demo/watch?models=Task", **{"Last-Event-ID": bad})
        assert (status, code) == (400, "BAD_USER_INPUT") and "Last-Event-ID" in message
    assert refusal("/api/demo/watch?models=Task&lastEventId=abc")[:2] == (400, "BAD_USER_INPUT")


def test_only_get_and_only_under_asgi(demo):
    client = Client()
    response = client.post("/api/demo/watch?models=Task")
    assert response.status_code == 405 and response["Allow"] == "GET"
    response = client.get("/api/demo/watch?models=Task")  # WSGI: a stream would never end
    assert response.status_code == 501
    assert "ASGI" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("models", ["Task", "Task,Project"])
def test_a_user_of_a_readable_model_is_admitted(demo, models, run):
    eve = login(demo, 5)

    async def body():
        stream = await open_stream(token=eve, models=models)
        first = await stream.next()
        await stream.close()
        return first

    assert run(body).retry == "3000"
    assert last_seq(demo) > 0


def test_a_stream_ends_when_its_token_expires(demo, run, monkeypatch):
    """The client then logs in again (or refreshes) and resumes with Last-Event-ID."""
    from apps.watch import views

    eve = login(demo, 5)

    async def body():
        stream = await open_stream(token=eve, models="Task")
        first = await stream.next()
        monkeypatch.setattr(views, "_now", lambda: 2**40)  # long after any expiry
        with pytest.raises(StopAsyncIteration):
            await stream.next()
        await stream.close()
        return first

    assert run(body).retry == "3000"
