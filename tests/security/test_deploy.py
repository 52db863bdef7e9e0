"""The production settings as Django's deploy check and a client over plain http see them:
http is redirected to https, browsers are told to stay there (HSTS) and cookies are
https-only; a proxy's "this was https" header counts only when the environment names it;
`make run` (MORTAR_DEBUG=1) keeps serving plain http. Settings are read from the environment
when Django starts, so each case runs in a process of its own."""

import json
import os
import secrets
import subprocess
import sys

from django.conf import settings

HOST = "mortar.example.com"
HSTS = "max-age=31536000; includeSubDomains; preload"
# GET each (path, extra request headers) with Django's test client; print what came back.
PROBE = f"""
import json, sys
import django
django.setup()
from django.test import Client
answers = []
for path, headers in json.loads(sys.argv[1]):
    response = Client(HTTP_HOST={HOST!r}, **headers).get(path)
    answers.append([response.status_code, response.get("Location"),
                    response.get("Strict-Transport-Security"),
                    sorted(name for name, c in response.cookies.items() if c["secure"])])
print(json.dumps(answers))
"""


def environment(**variables: str) -> dict[str, str]:
    """The production environment (MORTAR_DEBUG=0, no HTTPS setting overridden) plus
    `variables`."""
    # (DJANGO_ALLOW_ASYNC_UNSAFE: the browser tests' Playwright needs it in this process, and
    # the deploy check rightly refuses it)
    env = {key: value for key, value in os.environ.items()
           if key not in ("MORTAR_SECURE_SSL_REDIRECT", "MORTAR_HSTS_SECONDS",
                          "MORTAR_PROXY_SSL_HEADER", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    # MORTAR_DEBUG=0 rather than unset: manage.py would take 1 from a var/dev.env of `make run`
    env.update({"MORTAR_DEBUG": "0", "MORTAR_SECRET_KEY": secrets.token_urlsafe(50),
                "ALLOWED_HOSTS": HOST, "DJANGO_SETTINGS_MODULE": "mortar.settings", **variables})
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=120)


def probe(env: dict[str, str], *requests: tuple[str, dict]) -> list[list]:
    result = run(["-c", PROBE, json.dumps(requests)], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_the_deploy_check_finds_nothing_in_production():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "System check identified no issues (0 silenced).\n"
    assert "WARNING" not in result.stderr


def test_production_redirects_http_and_ignores_a_forged_proxy_header():
    assert probe(
        environment(),
        ("/api/demo/graphql", {}),
        ("/admin/login/", {"HTTP_X_FORWARDED_PROTO": "https"}),  # not from a proxy we trust
        ("/healthz", {}),  # load balancers probe over http
    ) == [
        [301, f"https://{HOST}/api/demo/graphql", None, []],
        [301, f"https://{HOST}/admin/login/", None, []],
        [200, None, None, []],
    ]


def test_behind_a_named_proxy_header_https_gets_hsts_and_secure_cookies():
    assert probe(
        environment(MORTAR_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO"),
        ("/admin/login/", {"HTTP_X_FORWARDED_PROTO": "https"}),
        ("/admin/login/", {"HTTP_X_FORWARDED_PROTO": "http"}),
    ) == [
        [200, None, HSTS, ["csrftoken"]],
        [301, f"https://{HOST}/admin/login/", None, []],
    ]


def test_make_run_serves_plain_http():
    assert probe(environment(MORTAR_DEBUG="1"), ("/admin/login/", {})) == [
        [200, None, None, []]]


def test_a_proxy_header_not_named_as_django_sees_it_stops_the_start():
    result = run(["manage.py", "check"], environment(MORTAR_PROXY_SSL_HEADER="X-Forwarded-Proto"))
    assert result.returncode == 1
    assert ("RuntimeError: MORTAR_PROXY_SSL_HEADER names a request header as Django sees it, "
            "e.g. HTTP_X_FORWARDED_PROTO.") in result.stderr
