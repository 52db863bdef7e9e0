"""Servers on free loopback ports, the way production runs Mortar (debug off): Mortar under
granian (`mortar`), the floors under gunicorn (`gunicorn`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Two processes for two cores, with threads: gunicorn's sync worker closes the connection after
# every response, gthread keeps it alive. A gthread worker accepts connections while it has room
# (1,000 by default), and wrk opens its 8 at once, so one worker often took most of them and
# left a core idle: 4 connections per worker splits them 4 + 4. Each worker then keeps at most
# connections - threads = 2 idle connections alive, enough for 4 with 2 threads busy.
WORKERS, THREADS, CONNECTIONS = 2, 2, 4
GUNICORN_OPTIONS = ["--worker-class", "gthread", "--workers", str(WORKERS),
                    "--threads", str(THREADS), "--worker-connections", str(CONNECTIONS),
                    "--log-level", "warning"]
READY_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Mortar's production server (README, docker-compose.yml): granian's WSGI interface, as many
# workers and Python threads as gunicorn's above. It served C 1.2-1.4x as fast as gunicorn on
# these two cores (bench/RESULTS.md, notes), so the floors stay on gunicorn: the yardstick.
GRANIAN_OPTIONS = ["--interface", "wsgi", "--workers", str(WORKERS), "--blocking-threads",
                   str(THREADS), "--log-level", "warning", "--no-access-log"]


@contextmanager
def gunicorn(app: str, env: dict[str, str], log_path: Path, options: tuple[str, ...] = ()):
    """Serve `app` (a gunicorn app spec) until the block ends; yields its base URL. `options`
    come after GUNICORN_OPTIONS (gunicorn takes the last of an option given twice)."""
    with gunicorn_server(app, env, log_path, options) as (url, _):
        yield url


@contextmanager
def gunicorn_server(app: str, env: dict[str, str], log_path: Path,
                    options: tuple[str, ...] = ()):
    """`gunicorn`, yielding (its base URL, gunicorn's main process)."""
    port = free_port()
    with _serving([sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}",
                   *GUNICORN_OPTIONS, *options], port, env, log_path) as served:
        yield served


@contextmanager
def mortar(env: dict[str, str], log_path: Path):
    """Serve Mortar (mortar.wsgi) as production does, under granian; yields its base URL."""
    with mortar_server(env, log_path) as (url, _):
        yield url


@contextmanager
def mortar_server(env: dict[str, str], log_path: Path, options: tuple[str, ...] = (),
                  app: str = "mortar.wsgi:application"):
    """`mortar`, yielding (its base URL, granian's main process); `options` come after
    GRANIAN_OPTIONS (the last of an option given twice wins). `app`: another WSGI app served
    the same way (with `--factory` in `options` for a factory)."""
    port = free_port()
    with _serving([sys.executable, "-m", "granian", *GRANIAN_OPTIONS, *options, "--host",
                   "127.0.0.1", "--port", str(port), app], port, env, log_path) as served:
        yield served


@contextmanager
def _serving(argv: list[str], port: int, env: dict[str, str], log_path: Path):
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(process, url, log_path)
        yield url, process
    finally:
        process.terminate()  # a graceful stop; killed if it hangs
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(process: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[2]} exited with {process.returncode}:\n"
                               f"{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{process.args[2]} did not answer {url}/healthz in {READY_SECONDS} s:\n"
                       f"{log_path.read_text()}")


def server_environment(database_url: str, **extra: str) -> dict[str, str]:
    """Production settings: debug off, a secret key, only the loopback host allowed, and plain
    http (as behind a proxy that ends TLS) rather than a redirect to https."""
    env = {key: value for key, value in os.environ.items() if key != "MORTAR_DEBUG"}
    env.update(DATABASE_URL=database_url, ALLOWED_HOSTS="127.0.0.1",
               MORTAR_SECURE_SSL_REDIRECT="0",
               MORTAR_SECRET_KEY=os.environ.get("MORTAR_SECRET_KEY") or "bench-only-secret-key",
               **extra)
    return env


def describe() -> str:
    return (f"Mortar: granian {version('granian')} (`{' '.join(GRANIAN_OPTIONS)}`); floors: "
            f"gunicorn {version('gunicorn')}, gthread worker class, {WORKERS} workers x "
            f"{THREADS} threads, at most {CONNECTIONS} connections per worker "
            f"(`{' '.join(GUNICORN_OPTIONS)}`); on 127.0.0.1")
