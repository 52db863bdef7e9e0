"""The README's `manage.py` examples, run as a reader runs them: `make run`'s steps serve in a
throwaway data dir, and each command runs in a second process whose environment has nothing
but what a fresh shell has (no MORTAR_DEBUG: only the var/dev.env that `make run` wrote). Its
output must be what the README shows, so the two cannot drift apart."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
README = BASE_DIR / "README.md"
COMMAND = "$ .venv/bin/python manage.py "
# what the README shows the buckets after (the status example)
REQUESTS_BEFORE_STATUS = 3


@dataclass(frozen=True)
class Example:
    command: str  # as written after the `$ `
    output: list[str]


def readme_examples() -> list[Example]:
    """Every `$ .venv/bin/python manage.py …` line in the README's code blocks, with the lines
    after it up to the next `$` line or the block's end: what the command prints."""
    examples: list[Example] = []
    fence_indent = None
    current = None
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("```"):
            fence_indent = len(line) - len(line.lstrip()) if fence_indent is None else None
            current = None
        elif fence_indent is not None:
            text = line[fence_indent:]
            if text.startswith("$ "):
                current = Example(text[2:], []) if text.startswith(COMMAND) else None
                if current:
                    examples.append(current)
            elif current is not None:
                current.output.append(text)
    return examples


def readme_block_after(words: str) -> list[str]:
    """The lines of the first code block after the paragraph that says `words`."""
    text = README.read_text(encoding="utf-8")
    after = text[text.index(words):]
    return after.split("```", 2)[1].splitlines()[1:]


def output_pattern(expected: list[str]) -> re.Pattern:
    """The README's output as a pattern: `…` stands for text left out (alone on a line: any
    lines), and what differs from run to run matches any value: seconds until a bucket is
    full (right-aligned, so with the spaces before them) and a server key's random prefix."""
    parts = []
    for line in expected:
        if line.strip() == "…":
            parts.append(r"(?:.*\n)*?")
            continue
        pattern = re.escape(line).replace("…", ".*?")
        pattern = re.sub(r"(?:\\ )*\d+\\ s\b", r" *\\d+ s", pattern)
        pattern = re.sub(r"mk_[0-9a-f]{8}", "mk_[0-9a-f]{8}", pattern)
        parts.append(pattern + r"\n")
    return re.compile("".join(parts))


def shell_environment(data_dir: Path) -> dict[str, str]:
    """A fresh shell's environment: none of the test run's databases or Mortar settings."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("MORTAR_", "DJANGO_")) and name not in
           ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    # PYTHONUNBUFFERED: stdout and stderr interleave as on a terminal
    return {**env, "MORTAR_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}


def make_run_steps(port: int, env: dict[str, str]) -> list[tuple[dict[str, str], list[str]]]:
    """The Makefile's run recipe (`make -n`): each manage.py step's variables and argv."""
    recipe = subprocess.run(["make", "-s", "-n", "run", f"PORT={port}"], cwd=BASE_DIR, env=env,
                            capture_output=True, text=True, check=True, timeout=60).stdout
    steps = []
    for line in recipe.splitlines():
        words = shlex.split(line)
        if "manage.py" not in words:
            continue
        at = words.index("manage.py")
        variables = dict(word.split("=", 1) for word in words[:at - 1])
        steps.append((variables, [sys.executable, *words[at:]]))
    assert steps and steps[-1][1][2] == "runserver", recipe
    return steps


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class DevServer:
    url: str
    data_dir: Path
    env: dict[str, str]
    setup_output: str

    def run(self, command: str) -> str:
        """A README command, from the data dir (where `fixtures` leads to the repo's)."""
        words = shlex.split(command, comments=True)
        assert words[:2] == [".venv/bin/python", "manage.py"], command
        result = subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *words[2:]],
                                cwd=self.data_dir, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, timeout=120)
        return result.stdout

    def get(self, path: str, token: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        request = urllib.request.Request(self.url + path, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def query_demo(self) -> None:
        request = urllib.request.Request(
            f"{self.url}/api/demo/graphql", headers={"Content-Type": "application/json"},
            data=b'{"query": "{ allTask(take: 1) { totalCount } }"}')
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200


def wait_until_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    """Poll /healthz until it answers, for two minutes at most; fail at once if the server
    exits (waiting on it is also the poll's pace)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        try:
            server.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"the server stopped:\n{log.read_text()}")
    pytest.fail(f"no answer from {url}/healthz within 120 s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory):
    """`make run` in a throwaway data dir, on a free port; the server without the autoreloader,
    so that edits elsewhere in the tree cannot restart it (and empty its buckets) mid-test."""
    data_dir = tmp_path_factory.mktemp("make-run")
    (data_dir / "fixtures").symlink_to(BASE_DIR / "fixtures")
    env = shell_environment(data_dir)
    port = free_port()
    *setup, (serve_vars, serve) = make_run_steps(port, env)
    outputs = []
    for variables, argv in setup:
        result = subprocess.run(argv, cwd=BASE_DIR, env={**env, **variables},
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
        outputs.append(result.stdout)
    log = (data_dir / "server.log").open("w")
    server = subprocess.Popen([*serve, "--noreload"], cwd=BASE_DIR, env={**env, **serve_vars},
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, server, data_dir / "server.log")
        yield DevServer(url, data_dir, env, "".join(outputs))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def test_make_run_prints_where_everything_is(dev_server):
    port = dev_server.url.rsplit(":", 1)[1]
    expected = [line.replace(":8000/", f":{port}/")
                for line in readme_block_after("It prints where everything is")]
    assert output_pattern(expected).search(dev_server.setup_output + "\n"), \
        dev_server.setup_output


def test_every_manage_py_command_of_the_readme_prints_what_it_shows(dev_server):
    examples = readme_examples()
    shown = " ".join(example.command for example in examples)
    for command in ("createserverkey", "ratelimit status", "ratelimit reset", "exportapp",
                    "loadapp"):
        assert command in shown, f"the README shows no `manage.py {command}` example"
    token = (dev_server.data_dir / "dev.env").read_text().split("MORTAR_OPS_TOKEN=")[1].split()[0]
    for example in examples:
        if "ratelimit status" in example.command:
            for _ in range(REQUESTS_BEFORE_STATUS):
                dev_server.query_demo()
        output = dev_server.run(example.command)
        expected = [line.replace("http://127.0.0.1:8000", dev_server.url)
                    for line in example.output]
        assert output_pattern(expected).fullmatch(output), (
            f"$ {example.command}\nREADME:\n" + "\n".join(example.output) + f"\nran:\n{output}")
        if "ratelimit reset" in example.command:  # it filled the server's buckets, not its own
            demo = dev_server.get("/ops/ratelimits?app=demo", token)["applications"][0]
            assert [b["remaining"] for b in demo["buckets"]] == [200, 2600, 1150]
    assert (dev_server.data_dir / "demo.json").exists()  # exportapp -o wrote where it was run


def test_production_still_needs_a_secret_key(dev_server, tmp_path):
    """gunicorn's entry point never reads dev.env, and manage.py reads it only where `make run`
    wrote it."""
    env = shell_environment(dev_server.data_dir)
    for argv, data_dir in (([sys.executable, "-c", "import mortar.wsgi"], dev_server.data_dir),
                           ([sys.executable, "manage.py", "check"], tmp_path)):
        result = subprocess.run(argv, cwd=BASE_DIR, env={**env, "MORTAR_DATA_DIR": str(data_dir)},
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 1, result.stdout + result.stderr
        assert ("RuntimeError: Set MORTAR_SECRET_KEY (any long random string), or "
                "MORTAR_DEBUG=1 for a development run.") in result.stderr
