"""The GraphQL endpoint works while its token is asked of Redis: a request that turns out
refused changes nothing and returns no data, and after a refusal requests wait for the answer
first, so that a flood of refused requests does no work."""

from __future__ import annotations

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.ratelimit.backends import backend
from apps.ratelimit.policy import buckets_of
from models_registry.application_rows import read_application
from models_registry.models import ChangeEvent

from ..data_api.conftest import Api, demo, demo_open_to_anyone  # noqa: F401  (fixtures)
from .test_http import set_limits

CREATE = 'mutation { createTask(input: { name: "written while refused?" }) { id name } }'
COUNT = '{ allTask(where: { name: { eq: "written while refused?" } }) { totalCount } }'
READ = "{ allTask(take: 1) { results { id name } } }"


@pytest.fixture
def api(demo_open_to_anyone, settings):  # noqa: F811
    settings.MORTAR_RATELIMIT_BACKEND = "apps.ratelimit.backends.redis.RedisBackend"
    settings.MORTAR_RATELIMIT_RECHECK_SECONDS = 3600  # a refusal is not re-checked meanwhile
    return Api()


def take_the_rest_elsewhere(application) -> None:
    """Empty the buckets as another process would: this one still believes a token is left."""
    current = read_application(application.slug)[0]
    while backend().take(current.pk, buckets_of(current)).admitted:
        pass


def test_a_mutation_refused_during_its_work_is_rolled_back(api, demo):  # noqa: F811
    set_limits(demo, 3, 0, 0)
    assert api.post(READ).status_code == 200  # this process saw tokens left
    take_the_rest_elsewhere(demo)
    events = ChangeEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        response = api.post(CREATE)
    assert response.status_code == 429
    assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert "data" not in response.json()
    # the insert ran during the round trip, and was rolled back before its commit
    assert any(q["sql"].startswith("INSERT") for q in queries)
    assert ChangeEvent.objects.count() == events
    set_limits(demo, 100, 0, 0)
    assert api(COUNT)["data"]["allTask"]["totalCount"] == 0


def test_a_read_refused_during_its_work_returns_no_data(api, demo):  # noqa: F811
    set_limits(demo, 3, 0, 0)
    assert api.post(READ).status_code == 200
    take_the_rest_elsewhere(demo)
    with CaptureQueriesContext(connection) as queries:
        response = api.post(READ)
    assert len(queries) >= 1  # the read ran during the round trip...
    assert response.status_code == 429  # ...and its answer was thrown away
    assert "data" not in response.json() and b"Task" not in response.content


def test_after_a_refusal_requests_wait_for_the_answer_and_do_no_work(api, demo):  # noqa: F811
    set_limits(demo, 3, 0, 0)
    assert api.post(READ).status_code == 200
    take_the_rest_elsewhere(demo)
    assert api.post(READ).status_code == 429  # worked on, then refused: now it is known
    with CaptureQueriesContext(connection) as queries:
        assert [api.post(CREATE).status_code for _ in range(5)] == [429] * 5
    assert len(queries) == 0


def test_a_redis_gone_silent_failing_closed_rolls_the_mutation_back(api, demo, settings):  # noqa: F811
    # The call goes out on a connection made earlier, and Redis, paused, does not answer in
    # time: the reply times out after the mutation's work, which is then undone.
    settings.MORTAR_RATELIMIT_FAIL = "closed"
    settings.MORTAR_RATELIMIT_TIMEOUT = 0.2
    assert api.post(READ).status_code == 200  # connected, script loaded, tokens seen left
    ops = redis.Redis.from_url(settings.MORTAR_RATELIMIT_REDIS_URL)
    ops.execute_command("CLIENT", "PAUSE", 5000, "WRITE")
    try:
        with CaptureQueriesContext(connection) as queries:
            response = api.post(CREATE)
    finally:
        ops.execute_command("CLIENT", "UNPAUSE")
        ops.close()
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert any(q["sql"].startswith("INSERT") for q in queries)
    settings.MORTAR_RATELIMIT_BACKEND = "apps.ratelimit.backends.local.LocalBackend"
    assert api(COUNT)["data"]["allTask"]["totalCount"] == 0
