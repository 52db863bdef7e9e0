"""Redis stopped for real, or silent: requests are served (fail-open) or refused with 503
(fail-closed), never a 500 and never a hang."""

from __future__ import annotations

import logging
import math
import socket

import pytest
import redis
from django.core.cache import cache
from prometheus_client import REGISTRY

from apps.ratelimit import middleware

from ..data_api.conftest import Api, demo, demo_open_to_anyone  # noqa: F401  (fixtures)
from ..identity.conftest import LOGIN

QUERY = "{ allTask(take: 1) { totalCount } }"
CREATE = 'mutation { createTask(input: { name: "written while Redis was down" }) { id } }'


@pytest.fixture
def api(demo_open_to_anyone):  # noqa: F811  (CREATE is a write the buckets count)
    return Api()


@pytest.fixture
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(middleware._outage_log, "last", -math.inf)


def backend_errors(outcome: str) -> float:
    return REGISTRY.get_sample_value("mortar_ratelimit_backend_errors_total",
                                     {"outcome": outcome}) or 0.0


def test_fail_open_serves_uncounted_and_warns_once(api, own_redis, caplog, fresh_warnings):
    assert api.post(QUERY)["X-RateLimit-Remaining"] == "199"
    own_redis.stop()
    before = backend_errors("served")
    with caplog.at_level(logging.WARNING, logger="apps.ratelimit.middleware"):
        answers = [api.post(QUERY) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert all("errors" not in r.json() and "X-RateLimit-Limit" not in r for r in answers)
    assert backend_errors("served") == before + 3
    warnings = [r for r in caplog.records if r.name == "apps.ratelimit.middleware"]
    assert len(warnings) == 1 and "served uncounted" in warnings[0].getMessage()


def test_fail_closed_refuses_with_503_and_writes_nothing(api, own_redis, settings, demo):  # noqa: F811
    settings.MORTAR_RATELIMIT_FAIL = "closed"
    own_redis.stop()
    before = backend_errors("refused")
    response = api.post(CREATE)
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert response["Retry-After"] == "1"
    assert backend_errors("refused") == before + 1
    settings.MORTAR_RATELIMIT_FAIL = "open"
    assert api.post('{ allTask(where: { name: { eq: "written while Redis was down" } }) '
                    "{ totalCount } }").json()["data"]["allTask"]["totalCount"] == 0


def test_a_restarted_redis_is_connected_to_afresh_and_given_the_script_again(api, own_redis):
    assert api.post(QUERY)["X-RateLimit-Remaining"] == "199"  # its connection stays open
    errors = backend_errors("served")
    own_redis.stop()
    own_redis.start()  # the same port, no keys, no scripts: the open connection is dead
    assert api.post(QUERY)["X-RateLimit-Remaining"] == "199"
    assert api.post(QUERY)["X-RateLimit-Remaining"] == "198"
    assert backend_errors("served") == errors  # counted each time, none served uncounted


def test_counting_resumes_when_redis_is_back(api, own_redis, settings):
    settings.MORTAR_RATELIMIT_RETRY_SECONDS = 0  # ask Redis again at once
    own_redis.stop()
    assert "X-RateLimit-Limit" not in api.post(QUERY)
    own_redis.start()
    assert api.post(QUERY)["X-RateLimit-Remaining"] == "199"


def test_a_silent_redis_costs_one_timeout_not_a_hang(api, settings):
    # accepts connections (the kernel does) and never answers
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        settings.MORTAR_RATELIMIT_BACKEND = "apps.ratelimit.backends.redis.RedisBackend"
        settings.MORTAR_RATELIMIT_REDIS_URL = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        settings.MORTAR_RATELIMIT_TIMEOUT = 0.05
        settings.MORTAR_RATELIMIT_RETRY_SECONDS = 3600
        before = backend_errors("served")
        answers = [api.post(QUERY) for _ in range(3)]
        silent.setblocking(False)
        connections = []
        while True:  # the connections Redis would have been asked on
            try:
                connections.append(silent.accept()[0])
            except BlockingIOError:
                break
        for connection in connections:
            connection.close()
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert backend_errors("served") == before + 3
    # one timeout (no retry after it), then Redis is left alone: not once per request
    assert len(connections) == 1


def test_login_throttling_with_its_redis_down_still_logs_in(settings, own_redis, demo):  # noqa: F811
    from apps.identity.models import AuthProfile

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": own_redis.url}}
    own_redis.stop()
    profile = AuthProfile.objects.get(application=demo, name="Web users")
    body = Api().post(LOGIN, {"uuid": str(profile.uuid), "username": "betty@example.com",
                              "password": "betty-demo-1"}).json()
    assert body["data"]["login"]["isValid"] is True
    with pytest.raises(redis.ConnectionError):  # the cache really was down meanwhile
        cache.get("anything")


def test_fail_closed_refuses_logins_it_cannot_throttle(settings, own_redis, demo):  # noqa: F811
    from apps.identity.models import AuthProfile

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": own_redis.url}}
    settings.MORTAR_RATELIMIT_FAIL = "closed"
    settings.MORTAR_RATELIMIT_BACKEND = "apps.ratelimit.backends.local.LocalBackend"
    own_redis.stop()
    profile = AuthProfile.objects.get(application=demo, name="Web users")
    body = Api().post(LOGIN, {"uuid": str(profile.uuid), "username": "betty@example.com",
                              "password": "betty-demo-1"}).json()
    assert body["data"] is None or body["data"]["login"] is None
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
