"""Rate-limit benchmark: what the bucket check costs a request, and what gets through.

1. The check alone, in this process: p50/p99 of one `take` against Redis (one EVALSHA of the
   Lua script over the three buckets), beside a Redis PING from the same process on the same
   connection pool (the floor: one round trip doing nothing), and the local backend's `take`.
2. Admitted requests per second over HTTP: wrk with 8 connections against Mortar's server (the read
   benchmark's server settings) on a small read, buckets in Redis, and the same with the local
   backend (no round trip) beside it. Capacities are set out of reach so every request counts
   and none is refused.

Usage: python -m bench.ratelimit [--quick]   (REDIS_URL and DATABASE_URL: `make bench`)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings

from bench import load, report, servers
from bench.data_api import bench_database

SLUG = "limits"
PATH = f"/api/{SLUG}/graphql"
BODY = '{"query": "{ allNote(take: 1) { id } }"}'
CONNECTIONS = 8
ROUNDS = 3
BACKENDS = {"redis": "apps.ratelimit.backends.redis.RedisBackend",
            "local": "apps.ratelimit.backends.local.LocalBackend"}


def timed(action, count: int) -> dict:
    for _ in range(min(count, 500)):  # warm: connections open, script loaded
        action()
    seconds = []
    for _ in range(count):
        started = time.perf_counter_ns()
        action()
        seconds.append((time.perf_counter_ns() - started) / 1e6)
    seconds.sort()
    return {"calls": count, "p50_ms": statistics.median(seconds),
            "p99_ms": seconds[int(count * 0.99) - 1]}


def check_cost(count: int) -> dict:
    from apps.ratelimit.backends.local import LocalBackend
    from apps.ratelimit.backends.redis import RedisBackend
    from apps.ratelimit.policy import Bucket

    buckets = tuple(Bucket(name, 2_000_000_000, period) for name, period in
                    (("minute", 60_000), ("hour", 3_600_000), ("day", 86_400_000)))
    redis_backend, local_backend = RedisBackend(), LocalBackend()
    figures = {"redis PING (floor)": timed(redis_backend.client.ping, count),
               "take, Redis": timed(lambda: redis_backend.take(10**9, buckets), count),
               "take, local": timed(lambda: local_backend.take(10**9, buckets), count)}
    redis_backend.reset(10**9)
    for name, f in figures.items():
        print(f"  {name:20} p50 {f['p50_ms'] * 1000:6.0f} µs   p99 {f['p99_ms'] * 1000:6.0f} µs",
              flush=True)
    return figures


def admitted(url: str, seconds: int) -> dict:
    os.environ.update(servers.server_environment(url))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mortar.settings")
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from apps.identity.models import Permission
    from models_registry import changes
    from models_registry.models import Application

    call_command("migrate", verbosity=0)
    unlimited = 2_000_000_000
    application = Application.objects.create(
        slug=SLUG, name="Limits", rate_limit_minute=unlimited, rate_limit_hour=unlimited,
        rate_limit_day=unlimited)
    note = changes.create_model(application, "Note")
    changes.add_property(note, "text", "text")
    Permission.objects.create(data_model=note, operation="read", access="public")
    connection.close()
    logs = report.RESULTS_JSON.parent
    logs.mkdir(exist_ok=True)
    rounds: dict[str, list[load.Load]] = {name: [] for name in BACKENDS}
    for _ in range(ROUNDS):  # alternating, so a slow spell does not fall on one side only
        for name, path in BACKENDS.items():
            env = {**os.environ, "MORTAR_RATELIMIT_BACKEND": path}
            with servers.mortar(env,
                                  logs / f"{connection.vendor}-ratelimit-{name}.log") as base:
                load.run(base + PATH, BODY, CONNECTIONS, 1)  # warm
                measured = load.run(base + PATH, BODY, CONNECTIONS, seconds)
            if measured.errors:
                raise RuntimeError(f"{measured.errors} requests failed or were refused")
            rounds[name].append(measured)
            print(f"  {name:6} {measured.requests_per_second:8.0f} requests/s   p50 "
                  f"{measured.p50_ms:.1f} ms   p99 {measured.p99_ms:.1f} ms", flush=True)
    figures = {}
    for name, measured in rounds.items():
        ordered = sorted(measured, key=lambda m: m.requests_per_second)
        figures[name] = {**ordered[len(ordered) // 2].as_dict(),
                         "rounds_requests_per_second": [m.requests_per_second for m in measured]}
    return {"vendor": connection.vendor, "database": report.database_version(),
            "figures": figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls, rounds of 1 s")
    args = parser.parse_args(argv)
    if not os.environ.get("REDIS_URL"):
        print("bench.ratelimit needs REDIS_URL (make bench starts Redis)", file=sys.stderr)
        return 2
    load.ensure_wrk()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mortar.settings")
    with bench_database(os.environ.get("DATABASE_URL") or "sqlite:///") as url:
        served = admitted(url, 1 if args.quick else 3)
        print("The bucket check alone, in-process:", flush=True)
        cost = check_cost(2_000 if args.quick else 20_000)
    report.save_section("ratelimit", served["vendor"],
                        {"database": served["database"], "check": cost,
                         "admitted": served["figures"], **report.environment()}, render)
    return 0


def render(every: dict) -> str:
    lines = ["## Rate limiting: the bucket check and admitted requests", "",
             "Command: `make bench` (`python -m bench.ratelimit`). The check: one `take` in "
             "process (Redis: one EVALSHA over the three buckets) against a Redis PING from "
             "the same process. Admitted: wrk, 8 connections, `{ allNote(take: 1) { id } }` "
             "against Mortar's server, capacities out of reach (every request counted, none "
             "refused); "
             "median of 3 rounds.", "",
             "| database | measured | call | p50 µs | p99 µs |",
             "| --- | --- | --- | ---: | ---: |"]
    for kept in every.values():
        for name, f in kept["check"].items():
            lines.append(f"| {kept['database']} | {kept['date']}, {kept['commit']} | {name} | "
                         f"{f['p50_ms'] * 1000:.0f} | {f['p99_ms'] * 1000:.0f} |")
    lines += ["", "| database | buckets in | requests/s (8 clients) | p50 ms | p99 ms | rounds |",
              "| --- | --- | ---: | ---: | ---: | --- |"]
    for kept in every.values():
        for name, f in kept["admitted"].items():
            rounds = ", ".join(f"{r:,.0f}" for r in f["rounds_requests_per_second"])
            lines.append(f"| {kept['database']} | {name} | {f['requests_per_second']:,.0f} | "
                         f"{f['p50_ms']:.1f} | {f['p99_ms']:.1f} | {rounds} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
