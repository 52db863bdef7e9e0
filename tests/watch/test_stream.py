"""GET /api/<slug>/watch: events as they commit, in order, with their numbers as ids; resuming
with Last-Event-ID; reset past retention; heartbeats. In this process, under Django's ASGI
handler, woken the default way of the database (PostgreSQL: NOTIFY; SQLite: Redis when the run
has one, else polling) and, in one test, by polling."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from apps.data_api.sql.global_ids import GlobalId
from models_registry.models import ChangeEvent

from .conftest import last_seq, open_stream

CREATE = 'mutation { createTask(input: { name: "%s", project: { id: 1 } }) { id } }'


def test_events_arrive_in_order_with_their_numbers_as_ids(demo, server, server_key, run):
    start = last_seq(demo)

    async def body():
        stream = await open_stream(token=server_key, models="Task,Project")
        first = await stream.next()
        assert first.retry == "3000"
        task = (await server.a(CREATE % "watched"))["createTask"]["id"]
        await server.a('mutation($id: Int!) { updateTask(id: $id, input: { done: true }) '
                       "{ id } }", {"id": task})
        await server.a("mutation($id: Int!) { deleteTask(id: $id) { id } }", {"id": task})
        events = await stream.changes(3)
        await stream.close()
        return task, events

    task, events = run(body)
    assert [e.id for e in events] == [str(start + 1), str(start + 2), str(start + 3)]
    assert [e.event for e in events] == ["create", "update", "delete"]
    created = events[0].json
    assert created == {"seq": start + 1, "model": "Task", "id": task,
                       "nodeId": str(GlobalId("demo", "Task", task)), "operation": "create",
                       "fields": ["name", "project"], "at": created["at"]}
    stored = ChangeEvent.objects.get(application=demo, seq=start + 1).created_at
    assert created["at"] == stored.isoformat().replace("+00:00", "Z")
    assert events[1].json["fields"] == ["done"]
    assert events[2].json["fields"] == []


def test_only_the_models_asked_for(demo, server, server_key, run):
    async def body():
        stream = await open_stream(token=server_key, models="Project")
        await server.a(CREATE % "not watched")
        await server.a('mutation { createProject(input: { name: "watched" }) { id } }')
        events = await stream.changes(1)
        await stream.close()
        return events

    (event,) = run(body)
    assert event.json["model"] == "Project" and event.event == "create"


def test_resuming_with_last_event_id_loses_and_repeats_nothing(demo, server, server_key, run):
    async def body():
        stream = await open_stream(token=server_key)
        await server.a(CREATE % "one")
        (seen,) = await stream.changes(1)
        await stream.close()
        # written while the client is away
        missed = [(await server.a(CREATE % name))["createTask"]["id"] for name in ("two", "3")]
        again = await open_stream(token=server_key, last_event_id=seen.id)
        resumed = await again.changes(2)
        later = (await server.a(CREATE % "four"))["createTask"]["id"]
        (new,) = await again.changes(1)
        await again.close()
        # the first connection of a page may say where to start in the query string
        third = await open_stream(token=server_key, query=f"&lastEventId={seen.id}")
        replayed = await third.changes(3)
        await third.close()
        return seen, missed, resumed, later, new, replayed

    seen, missed, resumed, later, new, replayed = run(body)
    first = int(seen.id)
    assert [int(e.id) for e in resumed] == [first + 1, first + 2]
    assert [e.json["id"] for e in resumed] == missed
    assert int(new.id) == first + 3 and new.json["id"] == later
    assert [int(e.id) for e in replayed] == [first + 1, first + 2, first + 3]


def test_without_last_event_id_only_new_events(demo, server, server_key, run):
    start = last_seq(demo)
    assert start > 0  # the loader's

    async def body():
        stream = await open_stream(token=server_key)
        await server.a(CREATE % "new")
        events = await stream.changes(1)
        await stream.close()
        return events

    (event,) = run(body)
    assert int(event.id) == start + 1


@pytest.mark.parametrize("gone", ["past retention", "pruned", "never sent"])
def test_a_position_no_longer_kept_is_told_to_reload_then_continues(demo, server, server_key,
                                                                     run, gone):
    start = last_seq(demo)
    asked = start + 1_000 if gone == "never sent" else 2
    if gone == "past retention":
        ChangeEvent.objects.filter(application=demo, seq=3).update(
            created_at=timezone.now() - timedelta(hours=demo.event_retention_hours, minutes=1))
    elif gone == "pruned":
        ChangeEvent.objects.filter(application=demo, seq__lte=10).delete()

    async def body():
        stream = await open_stream(token=server_key, last_event_id=str(asked))
        reset = (await stream.changes(1))[0]
        await server.a(CREATE % "after the reset")
        (event,) = await stream.changes(1)
        await stream.close()
        return reset, event

    reset, event = run(body)
    assert reset.event == "reset" and reset.id == str(start)
    assert "Reload" in reset.json["reason"]
    assert event.event == "create" and int(event.id) == start + 1


def test_a_position_within_retention_is_not_reset(demo, server_key, run):
    ChangeEvent.objects.filter(application=demo, seq__lte=2).update(
        created_at=timezone.now() - timedelta(days=30))  # before the position: irrelevant

    async def body():
        stream = await open_stream(token=server_key, models="Task,Project", last_event_id="2")
        events = await stream.changes(2)
        await stream.close()
        return events

    assert [(e.event, e.id) for e in run(body)] == [("create", "3"), ("create", "4")]


def test_heartbeat_comments_keep_an_idle_stream_open(demo, server_key, run, settings):
    settings.MORTAR_WATCH_HEARTBEAT_SECONDS = 0.05

    async def body():
        stream = await open_stream(token=server_key)
        await stream.next()  # retry
        event = await stream.next()
        await stream.close()
        return event

    event = run(body)
    assert event.comments == ["keep-alive"] and event.data == "" and event.id is None


def test_polling_wakes_watchers_too(demo, server, server_key, run, settings):
    settings.MORTAR_WATCH_WAKEUP = "poll"
    start = last_seq(demo)

    async def body():
        stream = await open_stream(token=server_key)
        await server.a(CREATE % "polled")
        events = await stream.changes(1)
        await stream.close()
        return events

    (event,) = run(body)
    assert int(event.id) == start + 1


def test_many_watchers_share_one_feed(demo, server, server_key, run):
    from apps.watch.feed import current_feed

    async def body():
        streams = [await open_stream(token=server_key) for _ in range(5)]
        await server.a(CREATE % "for all")
        events = [(await stream.changes(1))[0].id for stream in streams]
        watching = current_feed().watchers
        for stream in streams:
            await stream.close()
        return events, watching, current_feed().watchers

    ids, watching, left = run(body)
    assert len(set(ids)) == 1 and watching == 5 and left == 0


def test_metrics_count_open_streams_and_events_sent(demo, server, server_key, run, admin_client):
    def scraped(name: str) -> float:
        text = admin_client.get("/metrics").content.decode()
        return float(re.search(rf"^{name} (\S+)$", text, re.M)[1])

    before = scraped("mortar_watch_events_sent_total")

    async def body():
        stream = await open_stream(token=server_key)
        await stream.next()
        await server.a(CREATE % "counted")
        await stream.changes(1)
        open_while = await sync_to_async(scraped)("mortar_watch_streams")
        await stream.close()
        return open_while

    assert run(body) == 1
    assert scraped("mortar_watch_streams") == 0
    assert scraped("mortar_watch_events_sent_total") == before + 1
