"""The real servers: gunicorn with uvicorn workers (the Compose shape) and `manage.py
runserver` (daphne: `make run`), each a process of its own on this test's database; the
writes come from this process. So a change reaches a watcher across processes the way
production wakes it: PostgreSQL's NOTIFY, Redis pub/sub (SQLite, when the run has Redis), or
polling the event table (the embedded default)."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time

import pytest
from django.db import connection

from ..security.test_files import database_url
from .conftest import last_seq, parse_events

CREATE = 'mutation { createTask(input: { name: "%s" }) { id } }'


def wakeups() -> list[str]:
    modes = ["postgres"] if connection.vendor == "postgresql" else []
    if connection.vendor == "sqlite" and os.environ.get("REDIS_URL"):
        modes.append("redis")
    return [*modes, "poll"]


def server_env(settings, wakeup: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "MORTAR_DEBUG"}
    env.update(DATABASE_URL=database_url(), MORTAR_SECRET_KEY=settings.SECRET_KEY,
               ALLOWED_HOSTS="127.0.0.1", MORTAR_SECURE_SSL_REDIRECT="0",
               MORTAR_RATELIMIT_KEY_PREFIX=settings.MORTAR_RATELIMIT_KEY_PREFIX,
               MORTAR_WATCH_WAKEUP=wakeup, MORTAR_WATCH_POLL_SECONDS="0.05",
               # only the way under test wakes watchers: the safety check is far away
               MORTAR_WATCH_CHECK_SECONDS="600", PYTHONUNBUFFERED="1")
    return env


def wait_for_port(port: int, server: subprocess.Popen, deadline: float = 60) -> None:
    """Until the server accepts connections (it fails the test if the server exits)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if server.poll() is not None:
                pytest.fail(f"the server exited with {server.returncode}")
            time.sleep(0.05)  # the pace of the poll, with a deadline
    pytest.fail(f"nothing listens on port {port} after {deadline} s")


SERVERS = [*(("gunicorn+uvicorn", wakeup) for wakeup in wakeups()), ("runserver", "poll")]


@pytest.fixture(params=SERVERS, ids=["-".join(pair) for pair in SERVERS])
def served(request, demo, settings, tmp_path):  # noqa: F811
    """(port, wake-up way): a server process watching the demo."""
    kind, wakeup = request.param
    env = server_env(settings, wakeup)
    log = (tmp_path / "server.log").open("w")
    if kind == "gunicorn+uvicorn":
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        port = listener.getsockname()[1]
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "mortar.asgi:application", "--worker-class",
             "uvicorn_worker.UvicornWorker", "--bind", f"fd://{listener.fileno()}",
             "--workers", "1", "--no-control-socket"],
            env=env, cwd=settings.BASE_DIR, pass_fds=[listener.fileno()], stdout=log,
            stderr=subprocess.STDOUT)
    else:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        listener = None
        env["MORTAR_DEBUG"] = "1"
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(port, server)
    try:
        yield port, wakeup
    finally:
        server.terminate()
        server.wait(timeout=30)
        if listener is not None:
            listener.close()
        log.close()


class Watcher:
    """A client of the server's stream: raw HTTP, read line by line with a deadline."""

    def __init__(self, port: int, path: str, headers: dict[str, str]):
        self.client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.client.request("GET", path, headers=headers)
        self.response = self.client.getresponse()
        assert self.response.status == 200, self.response.read()
        assert self.response.headers["Content-Type"] == "text/event-stream"
        self.text = ""

    def changes(self, count: int, deadline: float = 30) -> list:
        end = time.monotonic() + deadline
        found = []
        while len(found) < count:
            assert time.monotonic() < end, f"only {found} within {deadline} s"
            line = self.response.readline().decode()  # the socket's timeout bounds it
            assert line, "the server ended the stream"
            self.text += line
            events, self.text = parse_events(self.text)
            found += [e for e in events if e.event != "message" or e.data]
        return found

    def close(self) -> None:
        self.client.close()


def test_a_write_in_another_process_reaches_a_watcher(served, demo, server, server_key):
    port, wakeup = served
    start = last_seq(demo)
    watcher = Watcher(port, "/api/demo/watch?models=Task",
                      {"Authorization": f"Bearer {server_key}"})
    try:
        task = server.data(CREATE % f"woken by {wakeup}")["createTask"]["id"]
        (event,) = watcher.changes(1)
        assert (event.id, event.event, event.json["id"]) == (str(start + 1), "create", task)
        # and again, on the same stream
        server.data("mutation($id: Int!) { deleteTask(id: $id) { id } }", {"id": task})
        (event,) = watcher.changes(1)
        assert (event.id, event.event) == (str(start + 2), "delete")
    finally:
        watcher.close()
    # reconnecting resumes after the last event seen
    again = Watcher(port, "/api/demo/watch?models=Task",
                    {"Authorization": f"Bearer {server_key}", "Last-Event-ID": str(start)})
    try:
        assert [e.id for e in again.changes(2)] == [str(start + 1), str(start + 2)]
    finally:
        again.close()
