"""Data API benchmark: GraphQL reads and a small write over HTTP, beside their floor.

Builds the `bench` application (bench.dataset) in a database of its own, serves it with granian
as production does (debug off; the floor under gunicorn, bench.servers), checks that the
floor app (bench.floor_app) answers each query with the same JSON, counts SQL statements per
request (bench.statements), then measures both servers with wrk at concurrency 1 and 8
(bench.load) and reports (bench.report). Beside C it also measures references on the same
server settings: Django alone (GET /healthz) and Mortar with in-process rate-limit buckets, to
show what the floor's time leaves for Mortar's work.

Usage: python -m bench.data_api [--quick] [--seconds S]   (DATABASE_URL: postgres:// or sqlite:)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import urllib.request
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import django

from bench import load, report, servers

BENCH_DATABASE = "mortar_bench"
PATH = "/api/bench/graphql"
CONCURRENCY = (1, 8)
ROUNDS = 5  # per query, concurrency and server; the median round is reported
WARM_SECONDS = 1  # per query and server, before its rounds
RECORD = "{ id name project { name } tags { name } }"
PAGE = "{ id name done endDate project { name } tags { name } }"
PAGE_ARGS = "where: { priority: { gte: 3 } }, sort: { field: id, order: ASC }, limit: 100"


@dataclass(frozen=True)
class Query:
    title: str
    text: str
    floor_path: str  # the floor's answer to it
    variables: bool = False  # the record id travels as the variable $id
    writes: bool = False  # a mutation: checked on records that exist only

    def body(self, record_id: int | str | None = None) -> str:
        """The POST body; a `record_id` replaces load.RECORD_ID."""
        if record_id is None:
            return json.dumps({"query": self.text})
        if not self.variables:
            return json.dumps({"query": self.text.replace(load.RECORD_ID, str(record_id))})
        # A JSON number: the placeholder goes in unquoted, to be replaced by digits.
        return json.dumps({"query": self.text, "variables": {"id": "ID"}}).replace(
            '"ID"', str(record_id))

    def template(self) -> str:
        """The body with the placeholder where the record id goes (a new one per request)."""
        return self.body(load.RECORD_ID)

    @property
    def by_id(self) -> bool:
        return self.variables or load.RECORD_ID in self.text


QUERIES = {
    "A": Query("a page with its count",
               f"{{ allTask({PAGE_ARGS}) {{ totalCount results {PAGE} }} }}", "/a"),
    "B": Query("the page without the count", f"{{ allTask({PAGE_ARGS}) {{ results {PAGE} }} }}",
               "/b"),
    "C": Query("one record by id, a new id in each request",
               f"{{ oneTask(where: {{ id: {{ eq: {load.RECORD_ID} }} }}) {RECORD} }}", "/c"),
    # Not one of the three: C as clients that pass values as variables send it, so that
    # the document text (Mortar's parse-and-validate cache key) stays the same.
    "D": Query("(extra) C with the id as a variable",
               f"query($id: Int!) {{ oneTask(where: {{ id: {{ eq: $id }} }}) {RECORD} }}", "/c",
               variables=True),
    # The small write frontends send most: one record's field set, a new id in each request.
    "E": Query("one small update by id, a new id in each request",
               f"mutation {{ updateTask(id: {load.RECORD_ID}, input: {{ done: true }}) "
               "{ id done } }", "/e", writes=True),
}
CHECKED_IDS = (1, 4242, 99_999, 100_000, 100_001)  # the last one does not exist: null


@contextmanager
def bench_database(given_url: str):
    """A database of the benchmark's own on the server of `given_url`; yields its URL."""
    if urlsplit(given_url).scheme not in ("postgres", "postgresql"):
        with tempfile.TemporaryDirectory(prefix="mortar-bench-") as directory:
            yield f"sqlite:///{directory}/bench.sqlite3"
        return
    import psycopg

    def recreate(create: bool) -> None:
        with psycopg.connect(given_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
            if create:
                admin.execute(f"CREATE DATABASE {BENCH_DATABASE}")

    recreate(create=True)
    try:
        yield urlunsplit(urlsplit(given_url)._replace(path=f"/{BENCH_DATABASE}"))
    finally:
        recreate(create=False)


def post(url: str, data: str) -> dict:
    request = urllib.request.Request(url, data.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def check_same_json(mortar: str, floor: str) -> None:
    """The floor must answer with Mortar's document, or the comparison means nothing."""
    for key, query in QUERIES.items():
        checked = [i for i in CHECKED_IDS if i <= 100_000] if query.writes else CHECKED_IDS
        for record_id in checked if query.by_id else (None,):
            expected = post(mortar + PATH, query.body(record_id))
            if "errors" in expected:
                raise RuntimeError(f"Mortar answered {key} with errors: {expected['errors']}")
            if post(floor + query.floor_path, query.body(record_id)) != expected:
                raise RuntimeError(f"the floor's JSON for {key} (id {record_id}) differs "
                                   "from Mortar's")


def measure(mortar: str, floor: str, seconds: int, tasks: int) -> dict:
    """wrk against both servers per query and concurrency: ROUNDS rounds of `seconds` each,
    alternating between the servers (which one goes first, too) so that a slow spell of the
    machine does not fall on one side only. The ratio is the median of the rounds' ratios:
    each Mortar round against the floor's round beside it, which the machine's drift (up to
    2x within a run here) moves less than a ratio of two medians."""
    figures: dict = {}
    for key, query in QUERIES.items():
        targets = {"mortar": mortar + PATH, "floor": floor + query.floor_path}
        for url in targets.values():
            # Warm: every server thread opens its connection and fills its caches.
            load.run(url, query.template(), max(CONCURRENCY), WARM_SECONDS, (1, tasks))
        for connections in CONCURRENCY:
            rounds: dict[str, list] = {side: [] for side in targets}
            for number in range(ROUNDS):
                for side, url in load.in_turn(targets, number):
                    rounds[side].append(load.run(url, query.template(), connections,
                                                 seconds, (1, tasks)))
            run = {side: median_round(measured) for side, measured in rounds.items()}
            for side in targets:
                report.say_run(key, connections, side, run[side])
            run["ratio"] = load.median_ratio(rounds["mortar"], rounds["floor"])
            figures.setdefault(key, {})[str(connections)] = run
    return figures


# C beside what the same server costs without parts of Mortar, measured in alternating rounds:
# how much of the floor's time Django's request cycle and the rate-limit round trip take alone,
# and the most C could reach while every request passes them (bench/ceiling_app.py).
REFERENCES = {
    "floor": "the floor's C",
    "django": "Django alone: GET /healthz (no database, no rate limit)",
    "ceiling": "the floor's statement through Django's handler and Mortar's API middleware "
               "(the rate limit's take included), none of Mortar's endpoint: C's ceiling",
    "local_buckets": "Mortar's C, rate-limit buckets in the process instead of Redis",
    "mortar": "Mortar's C",
}


def measure_references(urls: dict[str, str], seconds: int, tasks: int) -> dict:
    """Rounds as in `measure`, over the REFERENCES targets (`urls`: their servers), the order
    reversed every other round; each one's share of the floor's requests/s is the median of
    its rounds' ratios to the floor's round of the same pass."""
    query = QUERIES["C"]
    targets = {"floor": (urls["floor"] + query.floor_path, "POST"),
               "django": (urls["mortar"] + "/healthz", "GET"),
               "ceiling": (urls["ceiling"] + PATH, "POST"),
               "local_buckets": (urls["local_buckets"] + PATH, "POST"),
               "mortar": (urls["mortar"] + PATH, "POST")}
    body = {"POST": query.template(), "GET": ""}
    for url, method in targets.values():
        load.run(url, body[method], max(CONCURRENCY), WARM_SECONDS, (1, tasks), method)
    figures: dict = {}
    for connections in CONCURRENCY:
        rounds: dict[str, list] = {side: [] for side in targets}
        for number in range(ROUNDS):
            for side, (url, method) in load.in_turn(targets, number):
                rounds[side].append(load.run(url, body[method], connections, seconds,
                                             (1, tasks), method))
        run = {side: median_round(measured) for side, measured in rounds.items()}
        for side in targets:
            run[side]["share"] = load.median_ratio(rounds[side], rounds["floor"])
            report.say_run("ref", connections, side, run[side])
        figures[str(connections)] = run
    return figures


def median_round(measured: list[load.Load]) -> dict:
    """The round with the median requests/s, and every round's requests/s beside it."""
    ordered = sorted(measured, key=lambda m: m.requests_per_second)
    return {**ordered[len(ordered) // 2].as_dict(),
            "errors": sum(m.errors for m in measured),  # of every round
            "rounds_requests_per_second": [m.requests_per_second for m in measured]}


def count_statements() -> dict:
    from bench import statements

    counted = {}
    for key, query in QUERIES.items():
        ids = (4242, 777) if query.by_id else (None,)
        counted[key] = statements.count(PATH, [query.body(record_id) for record_id in ids])
    return counted


def run_rounds(argv: list[str] | None, description: str, build_and_measure, save) -> int:
    """The command line of a benchmark of rounds of wrk: measure on a database of its own,
    then `save(results)`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="rounds of 1 s, not 3 s")
    parser.add_argument("--seconds", type=int, help=f"seconds per round ({ROUNDS} rounds)")
    args = parser.parse_args(argv)
    seconds = args.seconds or (1 if args.quick else 3)
    load.ensure_wrk()
    with bench_database(os.environ.get("DATABASE_URL") or "sqlite:///") as url:
        save(build_and_measure(url, seconds))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_rounds(argv, __doc__.splitlines()[0], build_and_measure,
                      lambda results: report.save(results["vendor"], results))


def setup_django(url: str, demo: bool = False) -> None:
    """Point this process's Django at the bench database (as the servers will be) and migrate
    it; `demo`: load the demo application with its records too."""
    os.environ.update(servers.server_environment(url))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mortar.settings")
    # No collectstatic in a checkout: whitenoise warns, as pytest's settings note too.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if demo:
        call_command("loadapp", "fixtures/demo.json", "--with-data", verbosity=0)


def build_bench_application(url: str, title: str):
    """Migrate the bench database and build and fill the bench application; (its table and
    column names, the row counts)."""
    setup_django(url)
    from django.db import connection

    from bench import dataset

    print(f"\n{title} on {connection.vendor}: building the bench application", flush=True)
    names = dataset.create_schema()
    filled = dataset.fill(names)
    report.say_dataset(filled)
    return names, filled


def floor_environment(url: str, floor_database: str, names) -> dict[str, str]:
    """The floor server's environment: production settings, and where its queries go."""
    return servers.server_environment(url, BENCH_FLOOR_DATABASE=floor_database,
                                      BENCH_FLOOR_NAMES=json.dumps(names.as_dict()))


def build_and_measure(url: str, seconds: int) -> dict:
    names, filled = build_bench_application(url, "Data API")
    from django.db import connection

    counted = count_statements()
    report.say_statements(counted)
    vendor, server_version = connection.vendor, report.database_version()
    floor_database = url if vendor == "postgresql" else str(connection.settings_dict["NAME"])
    connection.close()

    floor_env = floor_environment(url, floor_database, names)
    logs = report.RESULTS_JSON.parent  # gitignored; the servers' logs stay for a look
    logs.mkdir(exist_ok=True)
    local_env = {**os.environ,
                 "MORTAR_RATELIMIT_BACKEND": "apps.ratelimit.backends.local.LocalBackend"}
    with (servers.mortar(os.environ.copy(), logs / f"{vendor}-mortar.log")
          as mortar,
          servers.mortar(local_env, logs / f"{vendor}-mortar-local.log")
          as local_buckets,
          servers.mortar_server(floor_env, logs / f"{vendor}-ceiling.log", ("--factory",),
                                "bench.ceiling_app:from_environment") as (ceiling, _),
          servers.gunicorn("bench.floor_app:from_environment()", floor_env,
                           logs / f"{vendor}-floor.log") as floor):
        check_same_json(mortar, floor)
        print(f"  the floor's JSON equals Mortar's for {', '.join(QUERIES)}", flush=True)
        # The tasks were inserted into an empty table: their ids are 1..TASKS.
        runs = measure(mortar, floor, seconds, filled["tasks"])
        references = measure_references(
            {"mortar": mortar, "local_buckets": local_buckets, "floor": floor,
             "ceiling": ceiling}, seconds,
            filled["tasks"])
    return {
        "database": server_version, "vendor": vendor, "seconds_per_round": seconds,
        "rounds": ROUNDS, "warm_seconds": WARM_SECONDS, "server": servers.describe(),
        "dataset": filled,
        "queries": {key: {"title": query.title, "body": query.body(4242),
                          "statements": counted[key], "runs": runs[key]}
                    for key, query in QUERIES.items()},
        "references": {"titles": REFERENCES, "runs": references},
        **report.environment(),
    }


if __name__ == "__main__":
    sys.exit(main())
