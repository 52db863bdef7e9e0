"""The audit log's and the trash's costs, in-process through Django's WSGI handler (no HTTP:
what each adds is measured where it is spent, against the whole request).

- Audit: a createManyTask of 1,000 and an updateManyTask of 10,000 rows (bench/mutations.py's
  requests) with their events' record values (`models_registry.snapshots`) and without them
  (the events' `after` left NULL), in alternating rounds.
- Trash: the data API's reads A, B and C (bench/data_api.py) with the Task model's trash off,
  then on with 1% of the tasks in it, in alternating rounds; and the statements per read.

Usage: python -m bench.trash [--quick]   (make bench runs it on PostgreSQL and on SQLite)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from bench import report
from bench.data_api import PATH, QUERIES, bench_database, build_bench_application
from bench.mutations import CREATE_MANY, ITEMS, UPDATE_MANY, task_items, update_variables

ROUNDS = 5
READS_PER_ROUND = 60
WRITES_PER_ROUND = 3
TRASHED_SHARE = 100  # one task in this many is in the trash while it is on


def timed_post(handler, body: str) -> float:
    from bench.statements import post

    started = time.perf_counter()
    post(handler, PATH, body)
    return time.perf_counter() - started


def audit_cost(handler, ids: dict, rounds: int) -> dict:
    """Medians of the two mutations with and without the events' values."""
    from models_registry import events

    keeping = events._after_sql
    without = {"create": [], "update": []}
    with_values = {"create": [], "update": []}
    number = 0
    for round_number in range(rounds):
        order = ((True, with_values), (False, without))
        for values_kept, found in order if round_number % 2 else order[::-1]:
            events._after_sql = keeping if values_kept else (lambda *_: ("NULL", []))
            try:
                for _ in range(WRITES_PER_ROUND):
                    number += 1
                    found["create"].append(timed_post(handler, json.dumps({
                        "query": CREATE_MANY, "variables": {
                            "input": task_items(ITEMS, 3_000_000 + number * ITEMS, **ids)}})))
                    found["update"].append(timed_post(handler, json.dumps({
                        "query": UPDATE_MANY, "variables": update_variables(number % 2 == 0)})))
            finally:
                events._after_sql = keeping
    return {key: {"with_ms": 1000 * statistics.median(with_values[key]),
                  "without_ms": 1000 * statistics.median(without[key])}
            for key in ("create", "update")}


def trash_cost(handler, names, rounds: int) -> dict:
    """Medians of reads A, B and C with the trash off and on (1% of tasks in it)."""
    from django.db import connection

    from models_registry import changes
    from models_registry.models import DataModel

    task = DataModel.objects.get(application__slug="bench", name="Task")
    times = {state: {key: [] for key in "ABC"} for state in ("off", "on")}
    for key in "ABC":  # warm: the first requests of a process are not the ones measured
        for record_id in range(1, READS_PER_ROUND + 1):
            timed_post(handler, QUERIES[key].body(record_id) if QUERIES[key].by_id
                       else QUERIES[key].body())
    record_id = 0
    for round_number in range(rounds):
        for state in ("off", "on") if round_number % 2 == 0 else ("on", "off"):
            if state == "on":
                changes.set_trash(task, True)
                with connection.cursor() as cursor:  # 1% of the tasks in the trash
                    cursor.execute(f"UPDATE {names.task} SET deleted_at = CURRENT_TIMESTAMP "
                                   f"WHERE id % {TRASHED_SHARE} = 7")
            for key in "ABC":
                query = QUERIES[key]
                timed_post(handler, query.body(4242) if query.by_id else query.body())
                for _ in range(READS_PER_ROUND):
                    record_id = record_id % 99_000 + 1009  # none of them in the trash
                    times[state][key].append(timed_post(
                        handler, query.body(record_id) if query.by_id else query.body()))
            if state == "on":
                with connection.cursor() as cursor:
                    cursor.execute(f"UPDATE {names.task} SET deleted_at = NULL")
                changes.set_trash(task, False)
    return {key: {state: 1000 * statistics.median(times[state][key]) for state in times}
            for key in "ABC"}


def statements_with_trash() -> dict:
    from bench.data_api import count_statements
    from models_registry import changes
    from models_registry.models import DataModel

    task = DataModel.objects.get(application__slug="bench", name="Task")
    off = count_statements()
    changes.set_trash(task, True)
    try:
        on = count_statements()
    finally:
        changes.set_trash(task, False)
    return {key: {"off": off[key], "on": on[key]} for key in "ABC"}


def build_and_measure(url: str, rounds: int) -> dict:
    names, _ = build_bench_application(url, "Audit and trash")
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {names.tag} ORDER BY id")
        tag_ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT id FROM {names.project} ORDER BY id")
        project_ids = [row[0] for row in cursor.fetchall()]
    handler = WSGIHandler()
    statements = statements_with_trash()
    reads = trash_cost(handler, names, rounds)
    for key, figures in reads.items():
        print(f"  read {key}: {figures['off']:.2f} ms with the trash off, {figures['on']:.2f} ms "
              f"on ({figures['on'] / figures['off'] - 1:+.1%})", flush=True)
    audit = audit_cost(handler, {"tag_ids": tag_ids, "project_ids": project_ids}, rounds)
    for key, figures in audit.items():
        print(f"  {key}: {figures['with_ms']:.1f} ms with the events' values, "
              f"{figures['without_ms']:.1f} ms without "
              f"({figures['with_ms'] / figures['without_ms'] - 1:+.1%})", flush=True)
    return {"vendor": connection.vendor, "database": report.database_version(),
            "rounds": rounds, "reads": reads, "statements": statements, "audit": audit,
            **report.environment()}


def render(every: dict) -> str:
    lines = [
        "## Audit log and trash: what each adds to a request",
        "",
        "Command: `make bench` (it runs `python -m bench.trash` on PostgreSQL and on SQLite; "
        "`--quick` for 2 rounds instead of 5). In-process through Django's WSGI handler, no "
        "HTTP; alternating rounds, medians of every request of a kind.",
        "",
        f"- Reads A, B and C of the data API benchmark ({READS_PER_ROUND} requests per read "
        f"and round) with the Task model's trash off, then on with one task in "
        f"{TRASHED_SHARE} in the trash: the trash is a condition in the read's one statement.",
        f"- createManyTask of {ITEMS:,} and updateManyTask of 10,000 rows "
        f"({WRITES_PER_ROUND} of each per round) with the change events' record values (the "
        "audit log's before/after) and without them.",
        "",
        "| database | measured | read | trash off ms | trash on ms | change | statements "
        "off / on |",
        "| --- | --- | --- | ---: | ---: | ---: | --- |",
    ]
    for results in every.values():
        measured = f"{results['date']}, {results['commit']}"
        for key, figures in results["reads"].items():
            counted = results["statements"][key]
            lines.append(f"| {results['database']} | {measured} | {key} | {figures['off']:.2f} "
                         f"| {figures['on']:.2f} | {figures['on'] / figures['off'] - 1:+.1%} | "
                         f"{report.statements_text(counted['off'])} / "
                         f"{report.statements_text(counted['on'])} |")
    lines += ["", "| database | measured | request | without values ms | with values ms "
                  "| change |", "| --- | --- | --- | ---: | ---: | ---: |"]
    for results in every.values():
        measured = f"{results['date']}, {results['commit']}"
        for key, what in (("create", f"createManyTask, {ITEMS:,} tasks"),
                          ("update", "updateManyTask, 10,000 rows")):
            figures = results["audit"][key]
            lines.append(f"| {results['database']} | {measured} | {what} | "
                         f"{figures['without_ms']:.1f} | {figures['with_ms']:.1f} | "
                         f"{figures['with_ms'] / figures['without_ms'] - 1:+.1%} |")
    lines += ["", "Target: the trash's reads within noise of it being off; the audit log "
                  "within 10% of the mutations without it."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds, not 5")
    args = parser.parse_args(argv)
    with bench_database(os.environ.get("DATABASE_URL") or "sqlite:///") as url:
        results = build_and_measure(url, 2 if args.quick else ROUNDS)
    report.save_section("trash", results["vendor"], results, render)
    return 0


if __name__ == "__main__":
    sys.exit(main())
