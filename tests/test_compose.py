"""docker-compose.yml is valid under the Compose Specification and has the services we run.

No Docker needed: check-jsonschema ships the Compose Specification's JSON schema.
"""

import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

COMPOSE_FILE = Path(__file__).resolve().parent.parent / "docker-compose.yml"


def validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"]
        + [str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compose_file_matches_the_compose_spec():
    result = validate(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validator_rejects_a_broken_compose_file(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text('services:\n  web:\n    ports: "8000"\n')  # ports must be a list
    result = validate(broken)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "ports" in output, output


def test_services_and_healthchecks():
    services = YAML(typ="safe").load(COMPOSE_FILE.read_text())["services"]
    assert {"postgres", "redis", "migrate", "web", "stream", "worker", "beat"} <= set(services)
    for name in ("postgres", "redis", "web", "stream", "worker"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    # WSGI for requests, ASGI for the SSE streams
    web = services["web"]["command"]
    assert web[:2] == ["sh", "-c"] and "exec granian --interface wsgi" in web[2]
    assert web[2].endswith(" mortar.wsgi:application")
    assert services["stream"]["command"][:2] == ["gunicorn", "mortar.asgi:application"]
    # The web, the streams and the worker start only after the migrations have run.
    for name in ("web", "stream", "worker"):
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"
        assert depends_on["postgres"]["condition"] == "service_healthy"
