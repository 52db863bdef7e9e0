"""REST benchmark: a saved oneTask endpoint's GET beside the same query over /graphql.

Same server, same run (issue 15: REST at least as fast).

Builds the read benchmark's `bench` application (bench.dataset) in a database of its own and
saves one endpoint, `task` at GET tasks/:id, whose document is the read benchmark's D. One
Mortar server (bench.servers, debug off) answers three ways, checked to give the same JSON
first; SQL statements per request are counted in-process (bench.statements); then wrk
measures the three in alternating rounds at concurrency 1 and 8, a new task id per request:

- rest: GET /api/bench/rest/tasks/<id>
- graphql: POST /api/bench/graphql, the same document with {"id": <id>} (the read benchmark's D)
- literal: POST /api/bench/graphql, the id written into the document (the read benchmark's C)

Usage: python -m bench.rest [--quick] [--seconds S]   (DATABASE_URL: postgres:// or sqlite:)
"""

from __future__ import annotations

import json
import math
import os
import sys
import urllib.request

from bench import load, report, servers
from bench.data_api import (
    CHECKED_IDS,
    CONCURRENCY,
    PATH,
    QUERIES,
    ROUNDS,
    WARM_SECONDS,
    build_bench_application,
    median_round,
    run_rounds,
)

REST_PATH = "/api/bench/rest/tasks/"
DOCUMENT = QUERIES["D"].text  # query($id: Int!) { oneTask(where: { id: { eq: $id } }) ... }
SIDES = {
    "rest": f"GET {REST_PATH}<id>, the saved endpoint `task`",
    "graphql": f"POST {PATH}, the same document with the id as $id (the read benchmark's D)",
    "literal": f"POST {PATH}, the id written into the document (the read benchmark's C)",
}


def requests(base: str) -> dict[str, tuple[str, str, str]]:
    """Per side: (URL, method, body), with load.RECORD_ID where the task id goes."""
    return {"rest": (base + REST_PATH + load.RECORD_ID, "GET", ""),
            "graphql": (base + PATH, "POST", QUERIES["D"].template()),
            "literal": (base + PATH, "POST", QUERIES["C"].template())}


def save_endpoint() -> None:
    from apps.rest_api.models import RestEndpoint
    from models_registry.models import Application

    RestEndpoint.objects.create(application=Application.objects.get(slug="bench"), name="task",
                                url="tasks/:id", methods=["GET"], query=DOCUMENT)


def fetch(url: str, method: str, body: str) -> dict:
    data = body.encode() if method == "POST" else None
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"},
                                     method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def check_same_json(base: str) -> None:
    """The three must answer alike, or the comparison means nothing."""
    for record_id in CHECKED_IDS:
        answers = {side: fetch(url.replace(load.RECORD_ID, str(record_id)), method,
                               body.replace(load.RECORD_ID, str(record_id)))
                   for side, (url, method, body) in requests(base).items()}
        if "errors" in answers["graphql"]:
            raise RuntimeError(f"Mortar answered D with errors: {answers['graphql']['errors']}")
        for side, answer in answers.items():
            if answer != answers["graphql"]:
                raise RuntimeError(f"{side} answers id {record_id} with {answer}, /graphql "
                                   f"with {answers['graphql']}")


def count_statements() -> dict:
    """Statements per warm request through the WSGI handler (bench.statements' way)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.statements import REPEATS, PostgresCounter, post

    handler = WSGIHandler()
    counted = {}
    for side, (url, method, body) in requests("").items():
        sent = [(url.replace(load.RECORD_ID, str(i)), body.replace(load.RECORD_ID, str(i)))
                for i in (4242, 777)]
        for path, text in sent:
            post(handler, path, text, method)  # warm
        with PostgresCounter() as at_database, CaptureQueriesContext(connection) as captured:
            for _ in range(REPEATS):
                for path, text in sent:
                    post(handler, path, text, method)
        total = REPEATS * len(sent)
        counted[side] = {"statements": len(captured) / total, "app_row": 0,
                         "at_database": None if at_database.statements is None
                         else at_database.statements / total}
    return counted


def measure(base: str, seconds: int, tasks: int) -> dict:
    """ROUNDS rounds of `seconds` per side and concurrency, alternating between the sides so
    that a slow spell of the machine does not fall on one only; the median round of each."""
    targets = requests(base)
    for url, method, body in targets.values():
        load.run(url, body, max(CONCURRENCY), WARM_SECONDS, (1, tasks), method)
    figures: dict = {}
    for connections in CONCURRENCY:
        rounds: dict[str, list] = {side: [] for side in targets}
        for _ in range(ROUNDS):
            for side, (url, method, body) in targets.items():
                rounds[side].append(load.run(url, body, connections, seconds, (1, tasks),
                                             method))
        run = {side: median_round(measured) for side, measured in rounds.items()}
        for side in targets:
            report.say_run("rest", connections, side, run[side])
        figures[str(connections)] = run
    return figures


def build_and_measure(url: str, seconds: int) -> dict:
    _, filled = build_bench_application(url, "REST")
    from django.db import connection

    save_endpoint()
    counted = count_statements()
    for side, figures in counted.items():
        print(f"  {side}: SQL statements per request: {report.statements_text(figures)}",
              flush=True)
    vendor, server_version = connection.vendor, report.database_version()
    connection.close()
    logs = report.RESULTS_JSON.parent  # gitignored; the server's log stays for a look
    logs.mkdir(exist_ok=True)
    with servers.mortar(os.environ.copy(), logs / f"{vendor}-mortar-rest.log") \
            as mortar:
        check_same_json(mortar)
        print("  REST and /graphql answer the same JSON", flush=True)
        runs = measure(mortar, seconds, filled["tasks"])
    return {"vendor": vendor, "database": server_version, "seconds_per_round": seconds,
            "rounds": ROUNDS, "server": servers.describe(), "dataset": filled,
            "document": DOCUMENT, "sides": SIDES, "statements": counted, "runs": runs,
            **report.environment()}


def render(every: dict) -> str:
    first = next(iter(every.values()))
    lines = [
        "## REST endpoints: a saved oneTask over REST beside the same query over /graphql",
        "",
        "Command: `make bench` (it runs `python -m bench.rest` on PostgreSQL); alone: "
        "`MORTAR_SECRET_KEY=… python scripts/test_services.py --databases postgres -- "
        "python -m bench --only rest` (`--quick` for rounds of 1 s).",
        "",
        f"- Machine: {first['cpus']} CPUs ({first['cpu_model']}), {first['system']}; the "
        "server, PostgreSQL, Redis and wrk share them. Versions: Python "
        f"{first['python']}, " + ", ".join(f"{name} {v}" for name, v in first["versions"].items())
        + f", wrk {first['wrk']}.",
        f"- One Mortar server ({first['server']}) answers all three, the bench application "
        f"of the read benchmark ({first['dataset']['tasks']:,} tasks); the endpoint `task` is "
        f"saved at `GET tasks/:id` with the document `{first['document']}`. Their JSON is "
        "checked equal before measuring.",
        f"- wrk with keep-alive, a new task id in every request; per concurrency, "
        f"{first['rounds']} rounds of each (lengths in each heading), alternating; the median "
        "round is shown (read ratios to about ±0.1 on this machine).",
        *(f"- {side}: {title}" for side, title in first["sides"].items()),
        "",
    ]
    for results in every.values():
        lines += [
            f"### {results['database']}: measured {results['date']}, Mortar at commit "
            f"{results['commit']}, rounds of {results['seconds_per_round']} s",
            "",
            "| request | conc. | req/s | p50 ms | p99 ms | REST / this | SQL statements per "
            "request |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for connections, run in results["runs"].items():
            rest = run["rest"]["requests_per_second"]
            for side in SIDES:
                measured = run[side]
                errors = f" — **{measured['errors']} HTTP errors**" if measured["errors"] else ""
                ratio = "" if side == "rest" else _ratio(rest / measured["requests_per_second"])
                lines.append(
                    f"| {side} | {connections} | {measured['requests_per_second']:.0f} "
                    f"| {measured['p50_ms']:.1f} | {measured['p99_ms']:.1f} | {ratio} "
                    f"| {report.statements_text(results['statements'][side])}{errors} |")
        cells = []
        for connections, run in results["runs"].items():
            ratio = run["rest"]["requests_per_second"] / run["graphql"]["requests_per_second"]
            verdict = "met" if ratio >= 1 else "**missed**"
            cells.append(f"{verdict} at concurrency {connections} ({_ratio(ratio)})")
        lines += ["", "Target: a REST GET at least as fast as the same document over /graphql "
                      f"(REST / graphql ≥ 1): {'; '.join(cells)}.", ""]
    return "\n".join(lines)


def _ratio(value: float) -> str:
    """Two decimals, rounded down: 0.997 shows as 0.99, not as a 1.00 that missed."""
    return f"{math.floor(value * 100) / 100:.2f}"


def main(argv: list[str] | None = None) -> int:
    return run_rounds(argv, __doc__.splitlines()[0], build_and_measure,
                      lambda results: report.save_section("rest", results["vendor"], results,
                                                          render))


if __name__ == "__main__":
    sys.exit(main())
