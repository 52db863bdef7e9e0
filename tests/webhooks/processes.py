"""Celery processes of the webhook tests: `celery -A mortar …` on the test database, stopped
(SIGTERM, then SIGKILL if it hangs) at the end unless gone already."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from .conftest import wait_for

WORKER = ["worker", "--pool=solo", "--without-gossip", "--without-mingle",
          "--without-heartbeat", "-l", "INFO"]


def database_url() -> str:
    db = connection.settings_dict  # the test database's, once pytest-django made it
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    return f"postgresql://{user}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@contextmanager
def celery(command: list[str], log: Path, **settings_env: str) -> Iterator[subprocess.Popen]:
    """`celery -A mortar <command>`, with these settings in its environment."""
    env = {**os.environ, "DATABASE_URL": database_url(), **settings_env}
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "celery", "-A", "mortar", *command],
                                   cwd=Path(settings.BASE_DIR), env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def worker(log: Path, **settings_env: str) -> Iterator[subprocess.Popen]:
    """A worker (one task at a time), once it answers a ping."""
    from mortar.celery import app

    with celery(WORKER, log, **settings_env) as process:
        wait_for(lambda: process.poll() is not None or app.control.ping(timeout=0.5),
                 "the worker answers a ping")
        assert process.poll() is None, log.read_text()
        yield process
