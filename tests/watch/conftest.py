"""Watching the demo's changes: a streaming client of /api/<slug>/watch in this process
(Django's AsyncClient under the real ASGI handler), callers with a server key or a login, and
the feed's database threads closed after each test (so the test database can be dropped)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import AsyncClient

from apps.identity import server_keys, tokens
from apps.identity.models import AuthProfile
from apps.watch.feed import close_database, current_feed
from models_registry.models import EventSequence

from ..data_api.conftest import Api, demo  # noqa: F401  (the demo fixture)

DEADLINE = 15.0  # seconds a test waits for an event before it fails


@dataclass
class Event:
    """One server-sent event as a client parses it (comments kept apart)."""

    id: str | None = None
    event: str = "message"
    data: str = ""
    retry: str | None = None
    comments: list[str] = field(default_factory=list)

    @property
    def json(self) -> dict:
        return json.loads(self.data)


def parse_events(text: str) -> tuple[list[Event], str]:
    """The complete events in `text` and the rest (an event ends with a blank line)."""
    *blocks, rest = text.split("\n\n")
    parsed = []
    for block in blocks:
        event = Event()
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "":
                event.comments.append(value)
            elif name == "data":
                event.data = f"{event.data}\n{value}" if event.data else value
            elif name in ("id", "event", "retry"):
                setattr(event, name, value)
        parsed.append(event)
    return parsed, rest


class Stream:
    """An open watch response, read event by event with a deadline."""

    def __init__(self, response):
        self.response = response
        self._chunks = aiter(response.streaming_content)
        self._pending: list[Event] = []
        self._rest = ""

    async def next(self, timeout: float = DEADLINE) -> Event:
        deadline = time.monotonic() + timeout
        while not self._pending:
            chunk = await asyncio.wait_for(anext(self._chunks), deadline - time.monotonic())
            self._pending, self._rest = parse_events(
                self._rest + (chunk.decode() if isinstance(chunk, bytes) else chunk))
        return self._pending.pop(0)

    async def changes(self, count: int, timeout: float = DEADLINE) -> list[Event]:
        """The next `count` events that are changes (retry lines and comments skipped)."""
        found = []
        deadline = time.monotonic() + timeout
        while len(found) < count:
            event = await self.next(deadline - time.monotonic())
            if event.event != "message" or event.data:
                found.append(event)
        return found

    async def close(self) -> None:
        """As the ASGI handler ends a response (the client went away)."""
        await sync_to_async(self.response.close)()


async def open_stream(slug: str = "demo", models: str = "Task", token: str | None = None,
                      last_event_id: str | None = None, query: str = "") -> Stream:
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    response = await AsyncClient().get(f"/api/{slug}/watch?models={models}{query}",
                                       headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/event-stream"
    return Stream(response)


class Caller(Api):
    """The demo's API with a bearer token; callable from async code (`await caller.a(...)`)."""

    def __init__(self, token: str | None):
        super().__init__("demo")
        self.token = token

    def post(self, query: str, variables=None, **environ):
        if self.token:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        return super().post(query, variables, **environ)

    async def a(self, query: str, variables=None) -> dict:
        return await sync_to_async(self.data)(query, variables)


@pytest.fixture
def run():
    """run(coroutine function): runs it to the end in an event loop of its own, then closes
    the feed's database connections."""

    def run_it(work):
        async def body():
            try:  # a hang fails the test, with where it hung
                return await asyncio.wait_for(work(), 4 * DEADLINE)
            finally:
                await current_feed().stopped()
                await close_database()

        return async_to_sync(body)()

    return run_it


@pytest.fixture(autouse=True)
def watch_settings(settings):
    """Watchers are woken by notifications only (the safety check far away), so that a test
    of a wake-up path tests that path."""
    settings.MORTAR_WATCH_CHECK_SECONDS = 600
    settings.MORTAR_WATCH_POLL_SECONDS = 0.05
    return settings


@pytest.fixture
def server_key(demo) -> str:  # noqa: F811
    return server_keys.create(demo, "watch")[1]


@pytest.fixture
def server(server_key) -> Caller:
    return Caller(server_key)


def login(demo, user_id: int) -> str:  # noqa: F811
    profile = AuthProfile.objects.get(application=demo, name="Web users")
    return tokens.start_session(profile, user_id).jwt


def last_seq(application) -> int:
    row = EventSequence.objects.filter(application=application).first()
    return row.last if row else 0
