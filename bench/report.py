"""The data API benchmark's output: lines while it runs, results/data_api.json, and the generated
part of bench/RESULTS.md (text outside the markers there is kept)."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).parent
RESULTS_JSON = HERE / "results" / "data_api.json"
RESULTS_MD = HERE / "RESULTS.md"
BEGIN = "<!-- begin: written by python -m bench.data_api; edit outside these markers -->"
END = "<!-- end: written by python -m bench.data_api -->"
VENDORS = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
STATEMENT_TARGETS = {"A": 2, "B": 1, "C": 1}
# Mortar's requests/s as a share of the floor's (issue 21), by database
SHARE_TARGETS = {"postgresql": {"A": 0.95, "B": 0.8, "C": 0.8, "D": 0.8, "E": 0.6},
                 "sqlite": {"C": 0.5}}
COMMAND = """\
make bench   # which runs:
MORTAR_SECRET_KEY=… python scripts/test_services.py --databases postgres -- python -m bench
MORTAR_SECRET_KEY=… python scripts/test_services.py --databases sqlite -- \\
  python -m bench --only data_api"""


# -- while running --------------------------------------------------------------------------

def say_dataset(filled: dict) -> None:
    print(f"  {filled['projects']:,} projects, {filled['tasks']:,} tasks, {filled['tags']} tags, "
          f"{filled['task_tags']:,} task-tag links in {filled['seconds']:.1f} s", flush=True)


def say_statements(counted: dict) -> None:
    for key, figures in counted.items():
        print(f"  {key}: SQL statements per request: {statements_text(figures)}", flush=True)


def say_run(key: str, connections: int, side: str, run: dict) -> None:
    errors = f", {run['errors']} ERRORS" if run["errors"] else ""
    rounds = " ".join(f"{rps:.0f}" for rps in run["rounds_requests_per_second"])
    print(f"  {key} c={connections} {side:<6} {run['requests_per_second']:>8.1f} req/s  "
          f"p50 {run['p50_ms']:6.2f} ms  p99 {run['p99_ms']:6.2f} ms  (rounds: {rounds} req/s)"
          f"{errors}", flush=True)


def _ratio(value: float) -> str:
    """Two decimals, rounded down: 0.497 shows as 0.49, not as a 0.50 that missed."""
    return f"{math.floor(value * 100) / 100:.2f}"


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}"


def statements_text(figures: dict) -> str:
    text = _number(figures["statements"])
    if figures["app_row"]:
        text += f" (of them {_number(figures['app_row'])} a separate application-row read)"
    if figures.get("at_database") is not None:
        text += f"; {_number(figures['at_database'])} at the database"
    return text


# -- environment ----------------------------------------------------------------------------

def database_version() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('server_version')")
            return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


def environment() -> dict:
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": {name: version(name) for name in
                     ("django", "graphql-core", "granian", "gunicorn", "psycopg")},
        "wrk": wrk.split()[1] if wrk else "?",
        "commit": _commit(),
        "argv": sys.argv,
    }


def _commit() -> str:
    """The commit measured, marked when Mortar's own code differs from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True,
                              cwd=HERE.parent).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "?"
    changed = git("status", "--porcelain", "--", "apps", "models_registry", "mortar")
    return f"{commit} with uncommitted changes" if changed else commit


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


# -- saved results --------------------------------------------------------------------------

FORMAT = 4  # of the saved results; 3: with the references beside C; 4: and C's ceiling


def save(vendor: str, results: dict) -> None:
    """Keep this database's results beside the other database's, then rewrite RESULTS.md."""
    RESULTS_JSON.parent.mkdir(exist_ok=True)
    every = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    # Figures saved by an older version of this benchmark are laid out differently: drop them.
    every = {other: kept for other, kept in every.items() if kept.get("format") == FORMAT}
    every[vendor] = {**results, "format": FORMAT}
    RESULTS_JSON.write_text(json.dumps(every, indent=2) + "\n")
    print(f"\nsaved to {RESULTS_JSON}")
    figures = render(every)
    print("\n" + figures)
    empty = f"# Benchmark results\n\n{BEGIN}\n{END}\n"
    old = RESULTS_MD.read_text() if RESULTS_MD.exists() else empty
    before, _, rest = old.partition(BEGIN)
    _, _, after = rest.partition(END)
    RESULTS_MD.write_text(f"{before}{BEGIN}\n{figures}\n{END}{after}")
    print(f"wrote {RESULTS_MD}")


def render(every: dict) -> str:
    first = next(iter(every.values()))
    lines = [
        "## Data API: GraphQL requests over HTTP (reads A–D, a small write E), beside their "
        "floor",
        "",
        "Command (`make bench BENCH_ARGS=--quick` for a smoke run):",
        "",
        "```sh",
        COMMAND,
        "```",
        "",
        f"- Machine: {first['cpus']} CPUs ({first['cpu_model']}), {first['system']}; "
        f"the servers, the database and wrk share them.",
        f"- Versions: Python {first['python']}, "
        + ", ".join(f"{name} {v}" for name, v in first["versions"].items())
        + f", wrk {first['wrk']}.",
        f"- Servers: {first['server']}. Mortar is `mortar.wsgi` with "
        "MORTAR_DEBUG unset; the floor is `bench/floor_app.py`: one hand-written SQL statement "
        "per request through psycopg (sqlite3 on SQLite), no Django, its JSON checked equal to "
        "Mortar's before measuring.",
        f"- Load: wrk with keep-alive; per query and concurrency, {first['rounds']} rounds on "
        "each server (their length is in each table's heading), alternating between Mortar and "
        f"the floor, after a {first['warm_seconds']} s warm-up per query; each side's median "
        "round is shown, and Mortar / floor is the median of the rounds' ratios (each Mortar "
        "round against the floor's round beside it; round-to-round spread on this machine is "
        "often ±10%, so read ratios to ±0.1). "
        "Concurrency 1 = 1 connection, 8 = 8 connections (2 wrk threads). C, D and E ask for "
        "a different task id in every request.",
        f"- Data: {first['dataset']['projects']:,} projects, {first['dataset']['tasks']:,} tasks, "
        f"{first['dataset']['tags']} tags, {first['dataset']['task_tags']:,} task-tag links.",
        "- Queries (POST bodies; C, D and E with a new id in each request):",
        *(f"  - {key}, {query['title']}: `{query['body']}`"
          for key, query in first["queries"].items()),
        "- SQL statements per request: counted in-process through the WSGI handler on warm "
        "requests: what Django's cursor sees (the application row, the freshness check, is read "
        "inside the data statement); *at the database* is what PostgreSQL counted for the same "
        "requests, which would also show statements made beside Django's cursor (such as "
        "Django's connection health check).",
        "",
    ]
    for vendor, results in every.items():
        lines += _table(vendor, results)
    lines += _targets(every)
    for vendor, results in every.items():
        lines += _references(vendor, results)
    return "\n".join(lines)


def _table(vendor: str, results: dict) -> list[str]:
    lines = [
        f"### {results['database']}: measured {results['date']}, Mortar at commit "
        f"{results['commit']}, rounds of {results['seconds_per_round']} s",
        "",
        "| query | conc. | Mortar req/s | p50 ms | p99 ms | floor req/s | p50 ms | p99 ms "
        "| Mortar / floor | SQL statements per request |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for key, query in results["queries"].items():
        for connections, run in query["runs"].items():
            mortar, floor = run["mortar"], run["floor"]
            errors = sum(side["errors"] for side in (mortar, floor))
            lines.append(
                f"| {key} | {connections} | {mortar['requests_per_second']:.0f} "
                f"| {mortar['p50_ms']:.1f} | {mortar['p99_ms']:.1f} "
                f"| {floor['requests_per_second']:.0f} | {floor['p50_ms']:.1f} "
                f"| {floor['p99_ms']:.1f} | {_ratio(run['ratio'])} "
                f"| {statements_text(query['statements'])}"
                + (f" — **{errors} HTTP errors**" if errors else "") + " |")
    lines.append("")
    return lines


def _targets(every: dict) -> list[str]:
    names = [VENDORS[vendor] for vendor in every]
    lines = ["### Targets", "", "| target | " + " | ".join(names) + " |",
             "| --- |" + " --- |" * len(names)]
    for key, limit in STATEMENT_TARGETS.items():
        cells = [_statement_verdict(r["queries"][key]["statements"], limit)
                 for r in every.values()]
        lines.append(f"| {key}: at most {limit} SQL statement{'s' * (limit > 1)} | "
                     + " | ".join(cells) + " |")
    for key in SHARE_TARGETS["postgresql"]:  # issue 21's targets, by database
        for connections in next(iter(every.values()))["queries"][key]["runs"]:
            cells = []
            for vendor, results in every.items():
                ratio = results["queries"][key]["runs"][connections]["ratio"]
                target = SHARE_TARGETS.get(vendor, {}).get(key)
                cells.append(f"{_ratio(ratio)} (no target)" if target is None else
                             f"{'met' if ratio >= target else '**missed**'} ({_ratio(ratio)} "
                             f"of {target})")
            lines.append(f"| {key} at concurrency {connections}: a share of the floor's "
                         "requests/s | " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def _references(vendor: str, results: dict) -> list[str]:
    """C beside the same server without parts of Mortar, each as a share of the floor's C."""
    titles, runs = results["references"]["titles"], results["references"]["runs"]
    lines = [f"### What C's floor leaves for Mortar ({VENDORS[vendor]})", "",
             "Measured after the table above, in rounds of their own (the order reversed every "
             "other round), on the same server settings (Mortar and C's ceiling under granian, "
             "the floor under gunicorn); each share is the median of its rounds' ratios to the "
             "floor's round of the same pass. C's ceiling is `bench/ceiling_app.py`: the floor's "
             "own statement served through what every data API request passes before Mortar's "
             "endpoint, so C's share cannot exceed its share without leaving Django's handler, "
             "the API's headers or the rate limit's take per request.", "",
             "| server, request | conc. | req/s | p50 ms | share of the floor's req/s |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for connections, run in runs.items():
        for side, title in titles.items():
            measured = run[side]
            errors = f" — **{measured['errors']} HTTP errors**" if measured["errors"] else ""
            lines.append(f"| {title} | {connections} | {measured['requests_per_second']:.0f} "
                         f"| {measured['p50_ms']:.1f} "
                         f"| {_ratio(measured['share'])}{errors} |")
    lines.append("")
    return lines


def _statement_verdict(figures: dict, limit: int) -> str:
    total = figures["statements"]
    text = f"{'met' if total <= limit else '**missed**'} ({_number(total)})"
    at_database = figures.get("at_database")
    if at_database is not None and at_database > total:
        text += f"; {_number(at_database)} at the database"
    return text


def save_section(name: str, vendor: str, results: dict, render) -> None:
    """Keep one benchmark's results per database in results/<name>.json and write
    `render(every)` between that benchmark's markers in RESULTS.md (added at the end the
    first time); the data API read benchmark has its own `save` above."""
    path = RESULTS_JSON.parent / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    every = json.loads(path.read_text()) if path.exists() else {}
    every[vendor] = results
    path.write_text(json.dumps(every, indent=2) + "\n")
    text = render(every)
    print("\n" + text)
    begin = f"<!-- begin: written by python -m bench.{name}; edit outside these markers -->"
    end = f"<!-- end: written by python -m bench.{name} -->"
    old = RESULTS_MD.read_text()
    if begin not in old:
        old += f"\n{begin}\n{end}\n"
    before, _, rest = old.partition(begin)
    _, _, after = rest.partition(end)
    RESULTS_MD.write_text(f"{before}{begin}\n{text}\n{end}{after}")
    print(f"wrote {RESULTS_MD}")
