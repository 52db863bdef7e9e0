"""The GraphQL-over-HTTP specification's own checks: graphql-http's server audits (a pinned
version, from the npm registry, run by Node) against the live server, every audit `ok`.

The package is installed once into var/node/graphql-http/<lockfile hash>/ with `npm ci` from
the committed lockfile (graphql_http/); `make test` installs Node and npm when they are missing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.test.client import FakePayload

HERE = Path(__file__).parent / "graphql_http"
AUDIT_COUNT = 61  # graphql-http 1.23.1's serverAudits
GRAPHQL_RESPONSE = "application/graphql-response+json"
# Audit 80D8 is about a request without an Accept header, so a client that always sends one
# has nothing to audit there.
ABOUT_NO_ACCEPT = "80D8"


def _command(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: `make test` installs it (apt-get install nodejs npm); "
                    "or put Node 18+ and npm on PATH.")
    return path


@pytest.fixture(scope="session")
def graphql_http() -> Path:
    """The directory whose node_modules holds the pinned graphql-http."""
    lock = (HERE / "package-lock.json").read_bytes()
    target = Path(settings.BASE_DIR) / "var" / "node" / "graphql-http"
    target = target / hashlib.sha256(lock).hexdigest()[:12]
    if (target / "node_modules" / "graphql-http" / "package.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Installed beside the target and renamed into place: a run that stops halfway, or runs
    # at the same time, never leaves a half-installed package behind for the next one.
    building = Path(tempfile.mkdtemp(prefix="installing-", dir=target.parent))
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copy(HERE / name, building / name)
        done = subprocess.run([_command("npm"), "ci", "--no-audit", "--no-fund"], cwd=building,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            pytest.fail("npm could not install graphql-http from the npm registry (is "
                        "registry.npmjs.org reachable, or an npm registry set with "
                        f"`npm config set registry`?):\n{done.stdout}{done.stderr}")
        try:
            building.rename(target)
        except OSError:  # another run installed it meanwhile
            if not (target / "node_modules" / "graphql-http").exists():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


def run_audits(graphql_http: Path, url: str, accept: str | None) -> list[dict]:
    command = [_command("node"), str(HERE / "audit.mjs"), str(graphql_http), url]
    done = subprocess.run(command + ([accept] if accept else []), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, f"the audit script failed:\n{done.stdout}{done.stderr}"
    return json.loads(done.stdout)


@pytest.mark.parametrize("accept", [None, "application/json", GRAPHQL_RESPONSE],
                         ids=["as-written", "json-client", "graphql-response-client"])
def test_every_graphql_http_audit_passes(graphql_http, live_server, demo, accept):
    """As the audits are written (each sends its own Accept header, or none), then as a client
    of each media type that sends its Accept header on every request."""
    results = run_audits(graphql_http, f"{live_server.url}/api/demo/graphql", accept)
    assert len(results) == AUDIT_COUNT
    if accept == GRAPHQL_RESPONSE:
        results = [result for result in results if result["id"] != ABOUT_NO_ACCEPT]
    failed = [result for result in results if result["status"] != "ok"]
    assert not failed, "\n".join(
        f"{r['id']} {r['status']} [Accept: {r['accept']}] {r['name']}: {r['reason']} "
        f"(HTTP {r['httpStatus']})" for r in failed)


# -- what the audit found, as plain cases ---------------------------------------------------

JSON_TYPES = [("a string", "{}"), ("a number", 0), ("a boolean", False), ("an array", ["x"])]
ACCEPTS = ["application/json", GRAPHQL_RESPONSE]


@pytest.mark.parametrize("accept", ACCEPTS)
def test_a_post_without_a_content_type_is_415(api, accept):
    body = json.dumps({"query": "{ __typename }"}).encode()
    # The test client always sets a Content-Type on a body; this request has none at all.
    response = api.client.request(REQUEST_METHOD="POST", PATH_INFO=api.url,
                                  CONTENT_LENGTH=str(len(body)), HTTP_ACCEPT=accept,
                                  **{"wsgi.input": FakePayload(body)})
    assert response.status_code == 415
    assert response["Content-Type"] == accept
    assert response.json() == {"errors": [{
        "message": "POST a body of type application/json (or application/graphql), not one "
                   "without a Content-Type.", "extensions": {"code": "BAD_USER_INPUT"}}]}


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("parameter, example", [("variables", ' (such as {"id": 1})'),
                                                ("extensions", "")])
@pytest.mark.parametrize("json_type, value", JSON_TYPES)
def test_variables_and_extensions_that_are_no_object_are_400(api, accept, parameter, example,
                                                             json_type, value):
    body = json.dumps({"query": "{ __typename }", parameter: value})
    response = api.client.post(api.url, body, content_type="application/json",
                               HTTP_ACCEPT=accept)
    assert response.status_code == 400
    assert response["Content-Type"] == accept
    assert response.json() == {"errors": [{
        "message": f"{parameter} must be a JSON object{example} or null, not {json_type}.",
        "extensions": {"code": "BAD_USER_INPUT"}}]}


@pytest.mark.parametrize("parameter, text, message", [
    ("variables", "[1]", 'variables must be a JSON object (such as {"id": 1}) or null, not an '
                         "array."),
    ("extensions", '"x"', "extensions must be a JSON object or null, not a string."),
    ("extensions", "{x", "extensions must be JSON."),
])
def test_get_parameters_that_are_no_object_are_400(api, parameter, text, message):
    response = api.client.get(api.url, {"query": "{ __typename }", parameter: text})
    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": message,
                                           "extensions": {"code": "BAD_USER_INPUT"}}]}


@pytest.mark.parametrize("extra", [{"variables": None, "extensions": None},
                                   {"variables": {"id": 1}, "extensions": {"some": "value"}}])
def test_objects_and_nulls_are_still_taken(api, extra):
    body = json.dumps({"query": "{ oneTask(where: { id: { eq: 1 } }) { id } }", **extra})
    response = api.client.post(api.url, body, content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {"data": {"oneTask": {"id": 1}}}
