"""Identity benchmark: login, refreshToken and an authenticated read, over HTTP against
Mortar's server (the read benchmark's server settings), one request at a time; the same read without
a token beside it. Passwords use Django's default hasher (PBKDF2), as in production.

Usage: python -m bench.identity [--quick]   (DATABASE_URL: postgres:// or sqlite:)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import urllib.request

from bench import report, servers
from bench.data_api import bench_database, setup_django

PATH = "/api/demo/graphql"
PROFILE = "5f0c8c3e-6a1d-4a8e-9d7b-2b1f3c4d5e6f"  # the demo's auth profile
LOGIN = ('mutation { login(authProfileUuid: "' + PROFILE + '", username: "betty@example.com", '
         'password: "betty-demo-1") { isValid jwtToken refreshToken } }')
REFRESH = ("mutation($token: String!) { refreshToken(token: $token) "
           "{ isValid jwtToken refreshToken } }")
# a model anyone may read (the demo's users are readable only when logged in), so both
# reads answer the same data
READ = "{ oneTask(where: { id: { eq: 1 } }) { id name project { name } } }"


def post(url: str, query: str, variables: dict | None = None, token: str | None = None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps({"query": query, "variables": variables}).encode()
    started = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=30) as r:
        body = json.loads(r.read())
    elapsed = time.perf_counter() - started
    if "errors" in body:
        raise RuntimeError(f"Mortar refused the benchmark's request: {body['errors']}")
    return elapsed, body["data"]


def summary(seconds: list[float]) -> dict:
    ordered = sorted(seconds)
    return {"requests": len(ordered), "p50_ms": statistics.median(ordered) * 1000,
            "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000}


def measure(url: str, count: int) -> dict:
    logins, refreshes, reads, anonymous = [], [], [], []
    for _ in range(3):  # warm-up: each worker builds its schema
        post(url, LOGIN)
        post(url, READ)
    elapsed, data = post(url, LOGIN)
    token, refresh = data["login"]["jwtToken"], data["login"]["refreshToken"]
    for _ in range(count):
        logins.append(post(url, LOGIN)[0])
        elapsed, data = post(url, REFRESH, {"token": refresh})
        refreshes.append(elapsed)
        token, refresh = data["refreshToken"]["jwtToken"], data["refreshToken"]["refreshToken"]
        for _ in range(5):
            reads.append(post(url, READ, token=token)[0])
            anonymous.append(post(url, READ)[0])
    return {"login": summary(logins), "refresh": summary(refreshes),
            "read with a JWT": summary(reads), "read without a token": summary(anonymous)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 rounds, not 100")
    args = parser.parse_args(argv)
    with bench_database(os.environ.get("DATABASE_URL") or "sqlite:///") as url:
        setup_django(url, demo=True)
        from django.db import connection

        vendor, version = connection.vendor, report.database_version()
        connection.close()
        logs = report.RESULTS_JSON.parent
        logs.mkdir(exist_ok=True)
        with servers.mortar(os.environ.copy(),
                              logs / f"{vendor}-mortar-identity.log") as mortar:
            figures = measure(mortar + PATH, 20 if args.quick else 100)
    report.save_section("identity", vendor,
                        {"database": version, "figures": figures, **report.environment()},
                        render)
    return 0


def render(every: dict) -> str:
    lines = ["## Identity: login, refresh and authenticated reads over HTTP", "",
             "Command: `make bench` (`python -m bench.identity`). One request at a time to "
             "Mortar's server (granian); the demo application; PBKDF2 passwords (Django's "
             "default hasher).", "",
             "| database | measured | request | requests | p50 ms | p99 ms |",
             "| --- | --- | --- | ---: | ---: | ---: |"]
    for kept in every.values():
        for name, figures in kept["figures"].items():
            lines.append(f"| {kept['database']} | {kept['date']}, {kept['commit']} | {name} | "
                         f"{figures['requests']} | {figures['p50_ms']:.1f} | "
                         f"{figures['p99_ms']:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
