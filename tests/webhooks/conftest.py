"""A receiver on loopback (the webhooks' target in these tests; the application allows
private targets), an application with a Task model open to anyone, and polling helpers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.webhooks.models import Delivery, Webhook
from tests.conftest import everyone_may
from tests.data_api.conftest import Api

DEADLINE = 30.0  # seconds a poll waits for a state before failing the test


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next planned status (200 once the plan is used up), keeps
    what it got, and applies each webhook-id's side effect once (as a receiver should)."""

    url: str = ""
    plan: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    effects: list[str] = field(default_factory=list)  # webhook-ids handled, each once
    gate: threading.Event | None = None  # when set: each answer waits for it
    lock: threading.Lock = field(default_factory=threading.Lock)

    in_flight: int = 0
    most_in_flight: int = 0  # the most requests it was answering at one time

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                self.gate.wait(DEADLINE)
            return self._answer(path, headers, body)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            self.received.append(Received(path, headers, body))
            status = self.plan.pop(0) if self.plan else 200
            if 200 <= status < 300 and headers.get("webhook-id") not in self.effects:
                self.effects.append(headers["webhook-id"])
            return status


@pytest.fixture
def receiver():
    found = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = found.answer(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            text = b"ok" if status < 400 else b"receiver says no"
            self.send_response(status)
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield found
    if found.gate is not None:
        found.gate.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def hooks_app(make_app, make_model):
    """Application `hooks` (private targets allowed: the receiver is on loopback) with Task
    (name, done) that anyone may read and write."""
    app = make_app("hooks", webhook_private_targets=True)
    task = make_model(app, "Task", name="text", done="boolean")
    everyone_may(task)
    app.refresh_from_db()
    return app


@pytest.fixture
def hooks_api(hooks_app) -> Api:
    return Api("hooks")


def create_task(api: Api, name: str, done: bool = False) -> int:
    data = api.data("mutation($n: String, $d: Boolean) { createTask(input: {name: $n, done: $d})"
                    " { id } }", {"n": name, "d": done})
    return data["createTask"]["id"]


def make_webhook(app, url: str, **fields) -> Webhook:
    return Webhook.objects.create(application=app, name=fields.pop("name", "hook"), url=url,
                                  **fields)


def wait_for(check: Callable[[], object], what: str, deadline: float = DEADLINE):
    """Poll `check` until it returns something true; fail naming `what` after the deadline."""
    end = time.monotonic() + deadline
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > end:
            pytest.fail(f"not within {deadline:g} s: {what}")
        time.sleep(0.02)  # a poll's pace, not a synchronisation


def statuses(webhook: Webhook) -> list[str]:
    return list(Delivery.objects.filter(webhook=webhook).order_by("id")
                .values_list("status", flat=True))
