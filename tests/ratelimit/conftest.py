"""Both rate-limit backends, each against the same behaviour tests."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Callable

import pytest
import redis

from apps.ratelimit.backends import backend
from apps.ratelimit.policy import Bucket

BACKENDS = {"redis": "apps.ratelimit.backends.redis.RedisBackend",
            "local": "apps.ratelimit.backends.local.LocalBackend"}


@pytest.fixture(params=sorted(BACKENDS))
def limiter(request, settings):
    """The configured backend: Redis (the test run's real server) or the local one."""
    settings.MORTAR_RATELIMIT_BACKEND = BACKENDS[request.param]
    return backend()


def buckets(minute: int = 3, hour: int = 4, day: int = 5,
            periods: tuple[float, float, float] = (60, 3600, 86400)) -> tuple[Bucket, ...]:
    return tuple(Bucket(name, capacity, round(period * 1000)) for name, capacity, period
                 in zip(("minute", "hour", "day"), (minute, hour, day), periods, strict=True))


def wait_for_refill(limiter, app_id: int, chosen: tuple[Bucket, ...], index: int) -> None:
    """Return once the bucket's period is over by the backend's own clock (Redis's TIME for
    Redis): waiting on the condition itself, with a deadline, not a guessed sleep."""
    deadline = time.monotonic() + 30
    while limiter.peek([(app_id, chosen)])[0].states[index].resets_at_ms is not None:
        assert time.monotonic() < deadline, "the period never ended"


def sixteen_clients(one_request: Callable[[], object], total: int = 500) -> list:
    """`total` calls of `one_request` from 16 threads released at once; every answer."""
    start = threading.Barrier(16)
    answers: list = []
    lock = threading.Lock()

    def client(count: int) -> None:
        start.wait()
        mine = [one_request() for _ in range(count)]
        with lock:
            answers.extend(mine)

    shares = [total // 16 + (i < total % 16) for i in range(16)]
    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A redis-server of this test's own, so that stopping it harms no other test."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:  # until it answers: it takes a few milliseconds to listen
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert self.process.poll() is None and time.monotonic() < deadline
        client.close()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def own_redis(settings):
    server = OwnRedis()
    server.start()
    settings.MORTAR_RATELIMIT_BACKEND = "apps.ratelimit.backends.redis.RedisBackend"
    settings.MORTAR_RATELIMIT_REDIS_URL = server.url
    yield server
    if server.process.poll() is None:
        server.stop()
