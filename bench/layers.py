"""What C's CPU goes to, layer by layer, beside the floor's: the budget behind C's target.

At concurrency 8 the two cores are busy, so requests/s follow CPU time per request, counted
over every process a request passes through (the web server, PostgreSQL, Redis, wrk): C at
0.8 of the floor means at most 1.25 times the floor's CPU per request. Three measurements:

- over HTTP at concurrency 8 (the bench's servers): CPU per request of each process, for the
  floor's C, C's ceiling (bench/ceiling_app.py: the floor's statement through Django's handler
  and Mortar's API middleware) and Mortar's C, from /proc before and after each round of wrk;
- in one thread (no HTTP): CPU per request of the floor's C, Django's handler alone with an
  endpoint that answers at once, Mortar's API middleware around that endpoint without and
  with the rate limit (its Redis take), and Mortar's C: what each layer adds;
- Redis: CPU per call, in the calling thread and in redis-server, of a PING and of a take;
- A, B and C, each whole request in one thread beside its data statement run again alone
  (prepared, on one psycopg connection of the bench's), Mortar's and the floor's: how much of
  Mortar's gap is its statement and how much the work around it.

Usage: python -m bench.layers [--quick]   (make bench runs it on PostgreSQL, with Redis)
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import statistics
import sys
import time
from pathlib import Path

from bench import load, report, servers
from bench.data_api import (
    PATH,
    QUERIES,
    bench_database,
    build_bench_application,
    floor_environment,
)

ROUNDS = 6  # alternating, per measurement; the median is shown
HTTP_SECONDS = 4
IN_PROCESS_REQUESTS = 2_000
ALONE_QUERIES = ("A", "B", "C")
ALONE_RECORD = 4242  # C's record, in both statements alone (C's requests ask for a new one)
ALONE_SECONDS = 1.0  # per round and side (0.2 with --quick): the calls follow from a first timing
REDIS_CALLS = 10_000
TICKS = os.sysconf("SC_CLK_TCK")
AT_ONCE_ANSWER = "{\"data\":{\"oneTask\":null}}"
NO_APPLICATION = 2**62  # the takes' buckets: no application's


# -- over HTTP: CPU per request by process -------------------------------------------------

def process_times() -> dict[int, tuple[str, int, float]]:
    """pid -> (command name, parent pid, CPU seconds so far) of every process."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                found[int(entry)] = process_time(int(entry))
            except OSError:  # ended meanwhile
                pass
    return found


def process_time(pid: int) -> tuple[str, int, float]:
    """(command name, parent pid, CPU seconds so far) of process `pid`, from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    name_end = stat.rindex(")")
    fields = stat[name_end + 2:].split()
    return (stat[stat.index("(") + 1:name_end], int(fields[1]),
            (int(fields[11]) + int(fields[12])) / TICKS)


def descendants(root: int, times: dict) -> set[int]:
    family, grew = {root}, True
    while grew:
        grew = False
        for pid, (_, parent, _) in times.items():
            if parent in family and pid not in family:
                family.add(pid)
                grew = True
    return family


def cpu_by_process(url: str, server_pid: int, body: str, tasks: int, seconds: int) -> dict:
    """One round of wrk at concurrency 8: µs of CPU per request of the server (its process
    tree), PostgreSQL, Redis and wrk, and the round's requests/s."""
    before, children_before = process_times(), resource.getrusage(resource.RUSAGE_CHILDREN)
    run = load.run(url, body, 8, seconds, (1, tasks))
    after, children_after = process_times(), resource.getrusage(resource.RUSAGE_CHILDREN)
    server = descendants(server_pid, after)
    spent = {"server": 0.0, "PostgreSQL": 0.0, "Redis": 0.0}
    for pid, (name, _, seconds_after) in after.items():
        if pid not in before:
            continue
        part = ("server" if pid in server else "PostgreSQL" if name.startswith("postgres")
                else "Redis" if name.startswith("redis") else None)
        if part is not None:
            spent[part] += seconds_after - before[pid][2]
    spent["wrk"] = ((children_after.ru_utime + children_after.ru_stime)
                    - (children_before.ru_utime + children_before.ru_stime))
    per_request = {part: used / run.requests * 1e6 for part, used in spent.items()}
    per_request["all"] = sum(per_request.values())
    return {"requests_per_second": run.requests_per_second, "us": per_request}


def measure_http(bench_url: str, names, tasks: int, rounds: int, seconds: int) -> dict:
    query = QUERIES["C"]
    logs = report.RESULTS_JSON.parent
    logs.mkdir(exist_ok=True)
    floor_env = floor_environment(bench_url, bench_url, names)
    with (servers.mortar_server(servers.server_environment(bench_url),
                                logs / "layers-mortar.log") as (mortar, mortar_process),
          servers.mortar_server(floor_env, logs / "layers-ceiling.log", ("--factory",),
                                "bench.ceiling_app:from_environment")
          as (ceiling, ceiling_process),
          servers.gunicorn_server("bench.floor_app:from_environment()", floor_env,
                                  logs / "layers-floor.log") as (floor, floor_process)):
        targets = {"floor": (floor + query.floor_path, floor_process.pid),
                   "ceiling": (ceiling + PATH, ceiling_process.pid),
                   "mortar": (mortar + PATH, mortar_process.pid)}
        for url, _ in targets.values():
            load.run(url, query.template(), 8, 1, (1, tasks))  # warm
        runs: dict[str, list] = {side: [] for side in targets}
        for number in range(rounds):
            for side, (url, pid) in load.in_turn(targets, number):
                runs[side].append(cpu_by_process(url, pid, query.template(), tasks, seconds))
    return {side: _median_run(side_runs) for side, side_runs in runs.items()}


def _median_run(runs: list[dict]) -> dict:
    parts = runs[0]["us"].keys()
    return {"requests_per_second": statistics.median(r["requests_per_second"] for r in runs),
            "us": {part: statistics.median(r["us"][part] for r in runs) for part in parts}}


# -- in one thread: what each layer adds ---------------------------------------------------

def measure_in_process(url: str, names, rounds: int, requests: int) -> dict:
    from django.conf import settings
    from django.http import HttpResponse

    from bench import floor_app, statements
    from bench.ceiling_app import django_handler
    from models_registry.application_rows import current_application
    from mortar.wsgi import application as mortar

    query = QUERIES["C"]
    application = current_application(PATH.split("/")[2])

    def answer_at_once(request):
        request.mortar_application = application  # as the view does, for the CORS check
        return HttpResponse(AT_ONCE_ANSWER, content_type="application/json")

    api = list(settings.DATA_API_MIDDLEWARE)
    no_limit = [path for path in api if not path.endswith(".RateLimitMiddleware")]
    floor = floor_app.make_app(url, names.as_dict())
    apps = {
        "floor": (floor, query.floor_path),
        "django": (django_handler(answer_at_once, []), PATH),
        "api_middleware": (django_handler(answer_at_once, no_limit), PATH),
        "rate_limit": (django_handler(answer_at_once, api), PATH),
        "mortar": (mortar, PATH),
    }
    calls = {name: _caller(statements.post, app, path, query)
             for name, (app, path) in apps.items()}
    for call in calls.values():
        for number in range(300):  # warm: connections, caches, prepared statements
            call(number)
    spent: dict[str, list[float]] = {name: [] for name in calls}
    for number in range(rounds):
        for name, call in load.in_turn(calls, number):
            started = time.thread_time()
            for request in range(requests):
                call(request * 7 % 90_000)
            spent[name].append((time.thread_time() - started) / requests * 1e6)
    return {name: statistics.median(values) for name, values in spent.items()}


def _caller(post, app, path: str, query):
    """One C request for a given record through `app` (bench.statements.post)."""
    return lambda record: post(app, path, query.body(1 + record))


# -- Redis: a PING beside a take ------------------------------------------------------------

def measure_redis(calls: int, rounds: int) -> dict:
    import redis
    from django.conf import settings

    from apps.ratelimit.backends.redis import RedisBackend
    from apps.ratelimit.policy import Bucket

    client = redis.Redis.from_url(settings.REDIS_URL)
    server_pid = int(client.info("server")["process_id"])
    connection = client.connection_pool.get_connection()
    backend = RedisBackend()
    buckets = (Bucket("minute", 10**9, 60_000), Bucket("hour", 10**9, 3_600_000),
               Bucket("day", 10**9, 86_400_000))

    def ping():
        connection.send_command("PING")
        connection.read_response()

    def server_seconds() -> float:
        return process_time(server_pid)[2]

    kinds = {"ping": ping, "take": lambda: backend.take(NO_APPLICATION, buckets)}
    spent: dict[str, dict[str, list[float]]] = {k: {"client": [], "redis": []} for k in kinds}
    for number in range(rounds):
        for kind, call in load.in_turn(kinds, number):
            server_before, client_before = server_seconds(), time.thread_time()
            for _ in range(calls):
                call()
            spent[kind]["client"].append((time.thread_time() - client_before) / calls * 1e6)
            spent[kind]["redis"].append((server_seconds() - server_before) / calls * 1e6)
    backend.reset(NO_APPLICATION)
    return {kind: {side: statistics.median(values) for side, values in sides.items()}
            for kind, sides in spent.items()}


# -- statements alone: the whole request beside its statement --------------------------------

def measure_alone(url: str, names, rounds: int, seconds: float) -> dict:
    """Per query: wall ms per whole request in one thread (through Mortar's WSGI handler,
    through the floor's WSGI app) and per run of its data statement alone, each side's
    statement prepared on one psycopg connection of the bench's; medians of alternating
    rounds of `seconds`."""
    import psycopg

    from bench import floor_app

    floor = floor_app.make_app(url, names.as_dict())
    floor_sql = floor_app.statements("postgresql", names.as_dict())
    with psycopg.connect(url, autocommit=True) as own:
        return {key: _timed_in_turn(
                    _alone_calls(key, floor, floor_sql[key.lower()], names.task, own),
                    rounds, seconds)
                for key in ALONE_QUERIES}


def _alone_calls(key: str, floor, floor_sql: str, task_table: str, own) -> dict:
    """Query `key`'s four calls: each side's whole request (C's for a new record each time, as
    in the bench's load, so that Mortar reads a new document), each side's statement alone."""
    from bench import floor_app, statements
    from mortar.wsgi import application as mortar

    query = QUERIES[key]
    record = itertools.count()

    def body() -> str:  # A's and B's texts have no record in them: always the same
        return query.body(1 + next(record) * 7 % 90_000)

    floor_params = {"id": ALONE_RECORD} if key == "C" else dict(floor_app.PAGE_PARAMS)
    mortar_sql, mortar_params, _ = statements.data_statement(
        mortar, PATH, query.body(ALONE_RECORD), task_table)
    return {
        "mortar": lambda: statements.post(mortar, PATH, body()),
        "floor": lambda: statements.post(floor, query.floor_path, body()),
        "mortar_statement": lambda: own.execute(mortar_sql, mortar_params,
                                                prepare=True).fetchall(),
        "floor_statement": lambda: own.execute(floor_sql, floor_params,
                                               prepare=True).fetchall(),
    }


def _timed_in_turn(calls: dict, rounds: int, seconds: float) -> dict[str, float]:
    """Wall ms per call of each of `calls`, the median of alternating rounds of `seconds`."""
    runs = {}
    for name, call in calls.items():  # warm, and how many calls fill a round
        started = time.perf_counter()
        for _ in range(20):
            call()
        runs[name] = max(5, int(seconds * 20 / (time.perf_counter() - started)))
    spent: dict[str, list[float]] = {name: [] for name in calls}
    for number in range(rounds):
        for name, call in load.in_turn(calls, number):
            started = time.perf_counter()
            for _ in range(runs[name]):
                call()
            spent[name].append((time.perf_counter() - started) / runs[name] * 1e3)
    return {name: statistics.median(values) for name, values in spent.items()}


# -- the section -----------------------------------------------------------------------------

def build_and_measure(url: str, quick: bool) -> dict:
    names, filled = build_bench_application(url, "Layers of C")
    from django.db import connection

    vendor, version = connection.vendor, report.database_version()
    rounds = 2 if quick else ROUNDS
    print("  in one thread: what each layer adds", flush=True)
    in_process = measure_in_process(url, names, rounds, 300 if quick else IN_PROCESS_REQUESTS)
    print("  Redis: a PING beside a take", flush=True)
    redis_calls = measure_redis(1_000 if quick else REDIS_CALLS, rounds)
    print("  A, B and C in one thread beside their statements alone", flush=True)
    alone = measure_alone(url, names, rounds, 0.2 if quick else ALONE_SECONDS)
    connection.close()
    print("  over HTTP at concurrency 8: CPU per request by process", flush=True)
    http = measure_http(url, names, filled["tasks"], rounds, 2 if quick else HTTP_SECONDS)
    results = {"vendor": vendor, "database": version, "rounds": rounds, "http": http,
               "in_process": in_process, "redis": redis_calls, "alone": alone,
               "requests_in_process": 300 if quick else IN_PROCESS_REQUESTS,
               "redis_calls": 1_000 if quick else REDIS_CALLS,
               "http_seconds": 2 if quick else HTTP_SECONDS, **report.environment()}
    return results


IN_PROCESS_ROWS = [
    ("floor", "the floor's C (its WSGI app, one statement through psycopg)"),
    ("django", "Django's WSGI handler alone, an endpoint that answers at once"),
    ("api_middleware", "+ Mortar's API middleware (DATA_API_MIDDLEWARE) but the rate limit"),
    ("rate_limit", "+ the rate limit: its Redis take, its headers, its metrics"),
    ("mortar", "Mortar's C (+ the endpoint: document, principal, plan, statement, answer)"),
]


def render(every: dict) -> str:
    lines = [
        "## What C's CPU goes to, layer by layer, beside the floor's",
        "",
        "Command: `make bench` (it runs `python -m bench.layers` on PostgreSQL, with Redis). "
        "At concurrency 8 the two cores are busy, so requests/s follow the CPU time a request "
        "costs in every process it passes through; C at 0.8 of the floor's requests/s means "
        "at most 1.25 times the floor's CPU per request. Medians of alternating rounds.",
        "",
    ]
    for results in every.values():
        http, inner, pings = results["http"], results["in_process"], results["redis"]
        floor, ceiling, mortar = (http[side]["us"] for side in ("floor", "ceiling", "mortar"))
        lines += [
            f"### {results['database']}: measured {results['date']}, Mortar at commit "
            f"{results['commit']}, {results['rounds']} rounds", "",
            f"Over HTTP, C at concurrency 8 (Mortar and C's ceiling under granian, the floor "
            f"under gunicorn, rounds of {results['http_seconds']} s): µs of CPU per request, "
            "by process. C's ceiling (`bench/ceiling_app.py`) is the floor's statement served "
            "through Django's handler and Mortar's API middleware, the rate limit's take "
            "included, with none of Mortar's endpoint.", "",
            "| process | the floor's C | C's ceiling | Mortar's C |",
            "| --- | ---: | ---: | ---: |"]
        for part in ("server", "PostgreSQL", "Redis", "wrk", "all"):
            lines.append(f"| {part} | {floor[part]:.0f} | {ceiling[part]:.0f} | "
                         f"{mortar[part]:.0f} |")
        shares = {side: http[side]["requests_per_second"] / http["floor"]["requests_per_second"]
                  for side in ("ceiling", "mortar")}
        lines += [
            f"| requests/s | {http['floor']['requests_per_second']:.0f} | "
            + " | ".join(f"{http[side]['requests_per_second']:.0f} ({shares[side]:.2f} of the "
                         f"floor; the floor's CPU over its own: "
                         f"{floor['all'] / http[side]['us']['all']:.2f})"
                         for side in ("ceiling", "mortar")) + " |", "",
            f"At 0.8, Mortar's C could spend {0.25 * floor['all']:.0f} µs of CPU per request "
            f"above the floor's {floor['all']:.0f}. C's ceiling spends "
            f"{ceiling['all'] - floor['all']:.0f} above it, Mortar's C "
            f"{mortar['all'] - floor['all']:.0f}: Mortar's endpoint (the document, the "
            "principal, the plan, the answer) costs the difference, "
            f"{mortar['all'] - ceiling['all']:.0f} µs.", "",
            f"In one thread, no HTTP ({results['requests_in_process']:,} requests a round): "
            "µs of CPU per request, and what each layer adds to the one above it. With an "
            "endpoint that answers at once, the rate limit waits for Redis's answer, which "
            "here costs a sleep and a wake-up; Mortar's C reads it after its statement, when "
            "it has usually come.", "",
            "| what runs | CPU µs | adds |", "| --- | ---: | ---: |"]
        previous = None
        for key, title in IN_PROCESS_ROWS:
            added = "" if previous is None or key == "django" else \
                f"{inner[key] - inner[previous]:+.0f}"
            lines.append(f"| {title} | {inner[key]:.0f} | {added} |")
            previous = key
        lines += [
            "", f"Redis ({results['redis_calls']:,} calls a round, one after another): µs of "
            "CPU per call.",
            "", "| call | in the calling thread | in redis-server |", "| --- | ---: | ---: |",
            f"| PING | {pings['ping']['client']:.0f} | {pings['ping']['redis']:.0f} |",
            f"| a take (the rate limit's script) | {pings['take']['client']:.0f} | "
            f"{pings['take']['redis']:.0f} |", ""]
        lines += render_alone(results.get("alone"))
    return "\n".join(lines)


def render_alone(alone: dict | None) -> list[str]:
    if not alone:  # a section saved before this measurement existed
        return []
    lines = [
        "A, B and C in one thread, no HTTP, wall time: ms per whole request (Mortar through "
        "its WSGI handler, the floor through its WSGI app; C for a new record each request, "
        "so Mortar reads a new document each time), and ms per run of the request's data "
        "statement alone (each side's, prepared, on one psycopg connection of the bench's; C "
        f"for record {ALONE_RECORD}). What Mortar's request costs beyond its statement is the "
        "work around it: Django's handler, the API's middleware and the take, the document, "
        "the principal, the plan, Django's cursor and the answer.", "",
        "| query | Mortar: request | its statement alone | the rest | the floor: request | "
        "its statement alone | the rest | Mortar's share of the floor's speed: request | "
        "statement |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for key, ms in alone.items():
        lines.append(
            f"| {key} | {ms['mortar']:.3f} | {ms['mortar_statement']:.3f} | "
            f"{ms['mortar'] - ms['mortar_statement']:.3f} | {ms['floor']:.3f} | "
            f"{ms['floor_statement']:.3f} | {ms['floor'] - ms['floor_statement']:.3f} | "
            f"{ms['floor'] / ms['mortar']:.2f} | "
            f"{ms['floor_statement'] / ms['mortar_statement']:.2f} |")
    return lines + [""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer and shorter rounds")
    args = parser.parse_args(argv)
    database_url = os.environ.get("DATABASE_URL") or ""
    if not database_url.startswith("postgres") or not os.environ.get("REDIS_URL"):
        print("bench.layers needs PostgreSQL and Redis: run it under scripts/test_services.py "
              "--databases postgres (make bench does)", file=sys.stderr)
        return 2
    with bench_database(database_url) as url:
        results = build_and_measure(url, args.quick)
    report.save_section("layers", results["vendor"], results, render)
    return 0


if __name__ == "__main__":
    sys.exit(main())
