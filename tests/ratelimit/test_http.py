"""The buckets as API clients meet them: headers, 429, what counts and what does not."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.identity import server_keys
from models_registry.application_rows import read_application
from models_registry.models import Application

from ..data_api.conftest import Api, demo, demo_open_to_anyone  # noqa: F401  (fixtures)
from .conftest import sixteen_clients

QUERY = "{ allTask(take: 1) { totalCount } }"
CREATE = 'mutation { createTask(input: { name: "counted?" }) { id } }'


@pytest.fixture
def api(demo_open_to_anyone):  # noqa: F811  (CREATE is a write the buckets count)
    return Api()


def set_limits(application: Application, minute: int, hour: int, day: int, **fields) -> None:
    """Change the application's limits, and read its row as the next request of a process
    would once it has seen the change."""
    Application.objects.filter(pk=application.pk).update(
        rate_limit_minute=minute, rate_limit_hour=hour, rate_limit_day=day, **fields)
    read_application(application.slug)


def test_every_answer_carries_its_bucket(api):
    before = time.time()
    response = api.post(QUERY)
    assert response.status_code == 200 and "errors" not in response.json()
    assert response["X-RateLimit-Limit"] == "200"
    assert response["X-RateLimit-Remaining"] == "199"
    assert before + 59 <= int(response["X-RateLimit-Reset"]) <= time.time() + 61
    assert response["RateLimit-Policy"] == \
        '"minute";q=200;w=60, "hour";q=2600;w=3600, "day";q=1150;w=86400'
    assert api.post(QUERY)["X-RateLimit-Remaining"] == "198"


def test_minute_then_hour_then_day_then_429(api, demo, limiter):  # noqa: F811
    set_limits(demo, 2, 1, 1)
    answers = [api.post(QUERY) for _ in range(5)]
    assert [r.status_code for r in answers] == [200, 200, 200, 200, 429]
    assert [(r["X-RateLimit-Limit"], r["X-RateLimit-Remaining"]) for r in answers[:4]] == \
        [("2", "1"), ("2", "0"), ("1", "0"), ("1", "0")]
    refused = answers[-1]
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert "try again in" in error["message"]
    assert refused["Content-Type"] == "application/json"
    assert 55 <= int(refused["Retry-After"]) <= 60  # the minute bucket refills first
    assert error["extensions"]["retryAfter"] == int(refused["Retry-After"])
    assert refused["X-RateLimit-Limit"] == "2" and refused["X-RateLimit-Remaining"] == "0"
    assert refused["RateLimit-Policy"].startswith('"minute";q=2;w=60')
    graphql = api.post(QUERY, HTTP_ACCEPT="application/graphql-response+json")
    assert graphql.status_code == 429
    assert graphql["Content-Type"] == "application/graphql-response+json"


def test_sandboxes_get_half(api, demo):  # noqa: F811
    set_limits(demo, 200, 2600, 1150, environment="sandbox")
    response = api.post(QUERY)
    assert response["X-RateLimit-Limit"] == "100"
    assert response["RateLimit-Policy"] == \
        '"minute";q=100;w=60, "hour";q=1300;w=3600, "day";q=575;w=86400'


def test_reads_writes_errors_and_server_keys_all_count(api, demo):  # noqa: F811
    _, key = server_keys.create(demo, "actions")
    answers = [
        api.post(QUERY),
        api.post(CREATE),
        api.post(QUERY, HTTP_AUTHORIZATION=f"Bearer {key}"),
        api.post(QUERY, HTTP_AUTHORIZATION="Bearer not-a-token"),  # 401, still a request
        api.client.post(api.url, "{not json", content_type="application/json"),
        api.client.get(api.url, {"query": QUERY}),
        api.client.post("/api/demo/files", {"file": SimpleUploadedFile(  # uploads need a right
            "a.txt", b"hello", content_type="text/plain")}, HTTP_AUTHORIZATION=f"Bearer {key}"),
    ]
    assert [r.status_code for r in answers] == [200, 200, 200, 401, 400, 200, 201]
    assert [r["X-RateLimit-Remaining"] for r in answers] == [str(n) for n in range(199, 192, -1)]


def test_ops_health_admin_and_unknown_applications_do_not_count(api, demo):  # noqa: F811
    client = Client(HTTP_HOST="localhost")
    for url in ("/healthz", "/readyz", "/admin/", "/ops/ratelimits", "/metrics",
                "/api/nope/graphql"):
        response = client.get(url)
        assert "X-RateLimit-Remaining" not in response, url
    assert client.get("/api/nope/graphql").status_code == 404
    assert api.post(QUERY)["X-RateLimit-Remaining"] == "199"


def test_a_refused_request_does_no_graphql_work(api, demo, settings):  # noqa: F811
    settings.MORTAR_RATELIMIT_RECHECK_SECONDS = 3600
    set_limits(demo, 0, 0, 0)
    with CaptureQueriesContext(connection) as queries:
        response = api.post(CREATE)
    assert response.status_code == 429
    # only the application's row, read again to confirm the limits before refusing
    assert len(queries) == 1 and "models_registry_application" in queries[0]["sql"]
    assert "Retry-After" not in response  # nothing to wait for: the limits are all 0
    assert "limits are all 0" in response.json()["errors"][0]["message"]
    with CaptureQueriesContext(connection) as queries:  # a flood is not a flood of queries
        assert [api.post(CREATE).status_code for _ in range(5)] == [429] * 5
    assert len(queries) == 0
    set_limits(demo, 1, 0, 0)
    assert "errors" not in api.post("{ allTask { totalCount } }").json()
    assert api.post("{ allTask(where: { name: { eq: \"counted?\" } }) { totalCount } }"
                    ).status_code == 429


def test_limits_raised_elsewhere_are_seen_by_the_next_refused_request(
        api, demo, settings):  # noqa: F811
    settings.MORTAR_RATELIMIT_RECHECK_SECONDS = 0  # every refusal checks (default: each second)
    set_limits(demo, 1, 0, 0)
    assert [api.post(QUERY).status_code for _ in range(2)] == [200, 429]
    # changed by another process: this one still remembers the old row
    Application.objects.filter(pk=demo.pk).update(rate_limit_minute=3)
    assert api.post(QUERY).status_code == 200


def test_a_429_still_carries_cors_headers_and_browsers_may_read_them(api, demo):  # noqa: F811
    set_limits(demo, 0, 0, 0, cors_allowed_origins="https://app.example.com")
    response = api.post(QUERY, HTTP_ORIGIN="https://app.example.com")
    assert response.status_code == 429
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"
    exposed = {h.strip() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert exposed >= {"Retry-After", "X-RateLimit-Remaining", "X-RateLimit-Reset"}


def test_sixteen_http_clients_500_requests_exactly_200_from_the_minute_bucket(
        demo, live_server, limiter):  # noqa: F811
    url = f"{live_server.url}/api/demo/graphql"
    body = json.dumps({"query": "{ __typename }"}).encode()

    def one_request() -> tuple[int, str, str]:
        request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return (response.status, response.headers["X-RateLimit-Limit"],
                        response.headers["X-RateLimit-Remaining"])
        except urllib.error.HTTPError as error:
            return (error.code, error.headers["X-RateLimit-Limit"],
                    error.headers["X-RateLimit-Remaining"])

    seen = sixteen_clients(one_request)
    assert len(seen) == 500
    assert Counter((status, limit) for status, limit, _ in seen) == \
        {(200, "200"): 200, (200, "2600"): 300}
    assert sorted(int(left) for _, limit, left in seen if limit == "200") == list(range(200))
    assert sorted(int(left) for _, limit, left in seen if limit == "2600") == \
        list(range(2300, 2600))


def test_one_redis_round_trip_per_request(api, settings):
    import redis

    settings.MORTAR_RATELIMIT_BACKEND = "apps.ratelimit.backends.redis.RedisBackend"
    server = redis.Redis.from_url(settings.MORTAR_RATELIMIT_REDIS_URL)
    api.post(QUERY)  # warm: the script is loaded once (EVALSHA, NOSCRIPT, EVAL)
    server.config_resetstat()
    assert api.post(QUERY)["X-RateLimit-Remaining"] == "198"
    stats = server.info("commandstats")
    server.config_resetstat()
    assert stats.pop("cmdstat_evalsha")["calls"] == 1
    # the rest ran inside the script (and the INFO asking for this)
    asked = {name for name in stats if not name.startswith(("cmdstat_config", "cmdstat_info"))}
    assert asked <= {"cmdstat_get", "cmdstat_pexpiretime", "cmdstat_incr", "cmdstat_set",
                     "cmdstat_time"}
