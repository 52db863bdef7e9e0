"""What ops see: /ops/ratelimits, /metrics, the admin page, `manage.py ratelimit`."""

from __future__ import annotations

import copy
import socket
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from models_registry.definitions import DefinitionError, export_definition, load_definition
from models_registry.models import Application

from ..data_api.conftest import Api, demo  # noqa: F401  (the fixture)
from .test_http import QUERY, set_limits

OPS_TOKEN = "ops-token-for-tests-0123456789"


@pytest.fixture
def ops(settings, demo, make_app):  # noqa: F811
    """The demo and a sandbox application; the demo has served three requests."""
    settings.MORTAR_OPS_TOKEN = OPS_TOKEN
    make_app("trial", environment="sandbox")
    for _ in range(3):
        Api().post(QUERY)
    return demo


def client_as(kind: str) -> Client:
    client = Client(HTTP_HOST="localhost")
    if kind in ("staff", "member"):
        user = (User.objects.filter(username=kind).first()
                or User.objects.create_user(kind, password="pw", is_staff=kind == "staff"))
        client.force_login(user)
    return client


@pytest.mark.parametrize("url", ["/ops/ratelimits", "/metrics"])
@pytest.mark.parametrize("who, token, status", [
    ("anonymous", None, 401),
    ("anonymous", "wrong-token", 401),
    ("anonymous", OPS_TOKEN, 200),
    ("member", None, 403),
    ("member", OPS_TOKEN, 200),
    ("staff", None, 200),
])
def test_ops_data_is_for_staff_and_the_ops_token(ops, url, who, token, status):
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    response = client_as(who).get(url, **extra)
    assert response.status_code == status
    if status == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="mortar-ops"'
        assert "MORTAR_OPS_TOKEN" in response.json()["error"]


def test_no_ops_token_configured_means_staff_only(ops, settings):
    settings.MORTAR_OPS_TOKEN = None
    assert client_as("anonymous").get("/ops/ratelimits",
                                      HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_ratelimits_lists_every_application_and_one_on_request(ops):
    set_limits(ops, 4, 0, 0)  # 3 of 4 used: one more, then refusals
    assert [Api().post(QUERY).status_code for _ in range(3)] == [200, 429, 429]
    body = client_as("staff").get("/ops/ratelimits").json()
    assert body["backend"] in ("redis", "local")
    assert [a["slug"] for a in body["applications"]] == ["demo", "trial"]
    demo_entry, trial = body["applications"]
    minute, hour, day = demo_entry["buckets"]
    assert (minute["name"], minute["capacity"], minute["remaining"]) == ("minute", 4, 0)
    assert 0 < minute["resetsInSeconds"] <= 60 and minute["resetsAt"].endswith("+00:00")
    assert (hour["capacity"], hour["remaining"], hour["resetsAt"]) == (0, 0, None)
    assert (day["capacity"], day["remaining"], day["resetsAt"]) == (0, 0, None)
    assert day["periodSeconds"] == 86400
    assert demo_entry["refusedLastHour"] == 2
    assert [b["capacity"] for b in trial["buckets"]] == [100, 1300, 575]
    assert trial["refusedLastHour"] == 0
    one = client_as("staff").get("/ops/ratelimits?app=trial").json()
    assert [a["slug"] for a in one["applications"]] == ["trial"]
    missing = client_as("staff").get("/ops/ratelimits?app=nope")
    assert missing.status_code == 404 and "nope" in missing.json()["error"]


def test_metrics_has_buckets_requests_and_latencies(ops):
    text = client_as("staff").get("/metrics").content.decode()
    assert 'mortar_ratelimit_bucket_capacity{app="demo",bucket="minute"} 200.0' in text
    assert 'mortar_ratelimit_bucket_remaining{app="demo",bucket="minute"} 197.0' in text
    assert 'mortar_ratelimit_bucket_capacity{app="trial",bucket="day"} 575.0' in text
    assert 'mortar_ratelimit_refused_last_hour{app="demo"} 0.0' in text
    assert 'mortar_api_requests_total{app="demo",status="200"}' in text
    assert 'mortar_api_request_duration_seconds_count{app="demo"}' in text
    # the caches of the answering process, each with its bound
    entries = {line.split('"')[1]: float(line.split()[-1]) for line in text.splitlines()
               if line.startswith("mortar_cache_entries{")}
    bounds = {line.split('"')[1]: float(line.split()[-1]) for line in text.splitlines()
              if line.startswith("mortar_cache_bound{")}
    assert entries["documents"] >= 1 and entries["application rows"] >= 1
    assert set(entries) == set(bounds) and all(entries[n] <= bounds[n] for n in entries)


def test_the_admin_page_shows_the_buckets_live(ops):
    admin = Client(HTTP_HOST="localhost")
    admin.force_login(User.objects.create_superuser("admin", password="pw"))
    page = admin.get(f"/admin/models_registry/application/{ops.pk}/change/")
    html = page.content.decode()
    assert "Rate limits" in html and 'name="rate_limit_minute"' in html
    assert 'data-url="/ops/ratelimits?app=demo"' in html and "setInterval(refresh" in html


def test_capacities_are_set_on_the_admin_page(ops):
    from ..models_registry.test_admin import API_SETTINGS

    admin = Client(HTTP_HOST="localhost")
    admin.force_login(User.objects.create_superuser("admin", password="pw"))
    response = admin.post(f"/admin/models_registry/application/{ops.pk}/change/", {
        **API_SETTINGS, "slug": "demo", "name": "Demo", "environment": "production",
        "rate_limit_minute": 30, "rate_limit_hour": 0, "rate_limit_day": 5})
    assert response.status_code == 302
    Api().post(QUERY)  # counted under the limits this process remembered; it sees the change
    assert Api().post(QUERY)["RateLimit-Policy"] == \
        '"minute";q=30;w=60, "hour";q=0;w=3600, "day";q=5;w=86400'


def test_ratelimit_status_and_reset_commands(own_redis, ops):
    """On Redis (one of the test's own, set up before `ops` makes its requests): the
    command empties the buckets the servers share."""
    out = StringIO()
    call_command("ratelimit", "status", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:3] == ["application", "environment", "bucket"]
    demo_minute = next(line for line in lines if line.startswith("demo"))
    assert demo_minute.split()[:5] == ["demo", "production", "minute", "200", "197"]
    assert any(line.split()[:4] == ["trial", "sandbox", "minute", "100"] for line in lines)
    call_command("ratelimit", "reset", "demo", stdout=StringIO())
    out = StringIO()
    call_command("ratelimit", "status", "demo", stdout=out)
    assert out.getvalue().splitlines()[1].split()[:6] == \
        ["demo", "production", "minute", "200", "200", "not"]
    with pytest.raises(CommandError, match="no application 'nope'"):
        call_command("ratelimit", "reset", "nope")


def test_reset_with_the_local_backend_says_how_to_fill_the_buckets(ops, settings):
    """The local backend's buckets live in the server process, which the command cannot
    reach without MORTAR_RATELIMIT_SERVER_URL: it says so rather than resetting nothing."""
    settings.MORTAR_RATELIMIT_BACKEND = "apps.ratelimit.backends.local.LocalBackend"
    settings.MORTAR_RATELIMIT_SERVER_URL = None
    with pytest.raises(CommandError, match="restart it to fill them, set "
                                           "MORTAR_RATELIMIT_SERVER_URL"):
        call_command("ratelimit", "reset", "demo")


def test_rate_limits_in_definition_files(ops):
    document = export_definition(ops)
    assert document["rateLimits"] == {"minute": 200, "hour": 2600, "day": 1150}
    changed = copy.deepcopy(document)
    changed["rateLimits"] = {"minute": 50, "day": 0}
    report = load_definition(changed)
    assert "rate limits" in report.changed
    ops.refresh_from_db()
    assert (ops.rate_limit_minute, ops.rate_limit_hour, ops.rate_limit_day) == (50, 2600, 0)
    bad = copy.deepcopy(document)
    bad["rateLimits"] = {"minute": -1, "week": 5, "hour": "many"}
    with pytest.raises(DefinitionError) as refused:
        load_definition(bad)
    assert set(refused.value.problems) >= {
        "rateLimits.week: not a bucket; the buckets are minute, hour and day.",
        "rateLimits.minute: expected a whole number of requests, 0 or more.",
        "rateLimits.hour: expected a whole number of requests, 0 or more."}
    assert Application.objects.get(pk=ops.pk).rate_limit_minute == 50


@pytest.mark.parametrize("who, token, status", [
    ("anonymous", None, 401),
    ("anonymous", "wrong-token", 401),
    ("staff", None, 401),  # a session could be ridden cross-site: the token only
    ("anonymous", OPS_TOKEN, 200),
])
def test_reset_endpoint_is_for_the_ops_token(ops, who, token, status):
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    response = client_as(who).post("/ops/ratelimits/demo/reset", **extra)
    assert response.status_code == status
    minute = client_as("staff").get("/ops/ratelimits?app=demo").json()[
        "applications"][0]["buckets"][0]
    assert minute["remaining"] == (200 if status == 200 else 197)
    if status == 401:
        assert "MORTAR_OPS_TOKEN" in response.json()["error"]
    else:
        assert response.json()["reset"] == "demo"


def test_reset_endpoint_names_an_unknown_application(ops):
    response = client_as("anonymous").post("/ops/ratelimits/nope/reset",
                                           HTTP_AUTHORIZATION=f"Bearer {OPS_TOKEN}")
    assert (response.status_code, response.json()) == (
        404, {"error": "There is no application 'nope'."})


def test_ratelimit_command_says_when_the_server_does_not_answer(ops, settings):
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        settings.MORTAR_RATELIMIT_BACKEND = "apps.ratelimit.backends.local.LocalBackend"
        settings.MORTAR_RATELIMIT_SERVER_URL = f"http://127.0.0.1:{closed.getsockname()[1]}"
        for action in (["status"], ["reset", "demo"]):
            with pytest.raises(CommandError, match=r"No server answers at http://127\.0\.0\.1:"
                               r"\d+ \(MORTAR_RATELIMIT_SERVER_URL\).*start it with `make run`"):
                call_command("ratelimit", *action, stdout=StringIO())
