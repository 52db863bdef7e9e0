"""The audit log's and the trash's costs, in-process through Django's WSGI handler (no HTTP:
what each adds is measured where it is spent, against the whole request).

- Audit: a createManyTask of 1,000 and an updateManyTask of 10,000 rows (bench/mutations.py's
  requests) with their events' record values (`models_registry.snapshots`) and without them
  (the events' `after` left NULL), taking turns.
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
from bench.mutations import (
    CREATE_MANY,
    ITEMS,
    UPDATE_MANY,
    related_ids,
    task_items,
    update_variables,
)

ROUNDS = 5
READS_PER_ROUND = {"A": 80, "B": 300, "C": 600}  # about a second of each per round
WARM = 20  # requests of each read after each switch, not measured
WRITES = 8  # of each mutation, with and without the values, one after the other
TRASHED_SHARE = 100  # one task in this many is in the trash while it is on


def timed_post(handler, body: str) -> float:
    from bench.statements import post

    started = time.perf_counter()
    post(handler, PATH, body)
    return time.perf_counter() - started


def audit_cost(handler, ids: dict) -> dict:
    """Medians of the two mutations with and without the events' values, requests taking
    turns: the whole request, and its events' writing (`ChangeBatch.flush`) alone, where the
    values are read."""
    from models_registry import events

    keeping, flush = events._after_sql, events.ChangeBatch.flush
    spent = [0.0]

    def timed_flush(*args, **kwargs):
        started = time.perf_counter()
        try:
            return flush(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    found = {(key, kept): {"request": [], "flush": []} for key in ("create", "update")
             for kept in (True, False)}
    events.ChangeBatch.flush = timed_flush
    try:
        for number in range(2 * WRITES + 2):
            kept = number % 2 == 0
            events._after_sql = keeping if kept else (lambda *_: ("NULL", []))
            for key, body in (
                    ("create", {"query": CREATE_MANY, "variables": {
                        "input": task_items(ITEMS, 3_000_000 + number * ITEMS, **ids)}}),
                    ("update", {"query": UPDATE_MANY,
                                "variables": update_variables(number % 4 < 2)})):
                spent[0] = 0.0
                took = timed_post(handler, json.dumps(body))
                if number >= 2:  # the first of each warms
                    found[(key, kept)]["request"].append(took)
                    found[(key, kept)]["flush"].append(spent[0])
    finally:
        events._after_sql, events.ChangeBatch.flush = keeping, flush
    return {key: {f"{part}_{'with' if kept else 'without'}_ms":
                  1000 * statistics.median(found[(key, kept)][part])
                  for kept in (True, False) for part in ("request", "flush")}
            for key in ("create", "update")}


def trash_cost(handler, names, rounds: int) -> dict:
    """Medians of reads A, B and C with the trash off and on (1% of tasks in it), the two
    states taking turns round by round."""
    from django.db import connection

    from models_registry import changes
    from models_registry.models import DataModel

    task = DataModel.objects.get(application__slug="bench", name="Task")
    times = {state: {key: [] for key in "ABC"} for state in ("off", "on")}
    record_id = 0

    def read(key: str) -> float:
        nonlocal record_id
        record_id = record_id % 99_000 + 1009  # none of them in the trash
        query = QUERIES[key]
        return timed_post(handler, query.body(record_id) if query.by_id else query.body())

    for round_number in range(rounds):
        for state in ("off", "on") if round_number % 2 == 0 else ("on", "off"):
            if state == "on":
                changes.set_trash(task, True)
                with connection.cursor() as cursor:  # 1% of the tasks in the trash
                    cursor.execute(f"UPDATE {names.task} SET deleted_at = CURRENT_TIMESTAMP "
                                   f"WHERE id % {TRASHED_SHARE} = 7")
            for key in "ABC":
                for _ in range(WARM):
                    read(key)
                times[state][key].extend(read(key) for _ in range(READS_PER_ROUND[key]))
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

    handler = WSGIHandler()
    statements = statements_with_trash()
    reads = trash_cost(handler, names, rounds)
    for key, figures in reads.items():
        print(f"  read {key}: {figures['off']:.2f} ms with the trash off, {figures['on']:.2f} ms "
              f"on ({figures['on'] / figures['off'] - 1:+.1%})", flush=True)
    audit = audit_cost(handler, related_ids(names))
    for key, figures in audit.items():
        print(f"  {key}: events written in {figures['flush_with_ms']:.1f} ms with their values, "
              f"{figures['flush_without_ms']:.1f} ms without, of requests of "
              f"{figures['request_with_ms']:.1f} and {figures['request_without_ms']:.1f} ms "
              f"(the values: {values_share(figures):.1%} of the request)", flush=True)
    return {"vendor": connection.vendor, "database": report.database_version(),
            "rounds": rounds, "reads": reads, "statements": statements, "audit": audit,
            **report.environment()}


def values_share(figures: dict) -> float:
    """What reading the events' values adds to a request, as a share of it without them."""
    return ((figures["flush_with_ms"] - figures["flush_without_ms"])
            / figures["request_without_ms"])


def render(every: dict) -> str:
    lines = [
        "## Audit log and trash: what each adds to a request",
        "",
        "Command: `make bench` (it runs `python -m bench.trash` on PostgreSQL and on SQLite; "
        "`--quick` for 2 rounds instead of 5). In-process through Django's WSGI handler, no "
        "HTTP; alternating rounds, medians of every request of a kind.",
        "",
        "- Reads A, B and C of the data API benchmark (80, 300 and 600 requests per round, "
        f"after {WARM} unmeasured) with the Task model's trash off, then on with one task in "
        f"{TRASHED_SHARE} in the trash: the trash is a condition in the read's one statement.",
        f"- createManyTask of {ITEMS:,} and updateManyTask of 10,000 rows ({WRITES} of each "
        "with the change events' record values, the audit log's before/after, and as many "
        "without, taking turns): the requests' medians and their events' writing alone "
        "(`ChangeBatch.flush`, where the values are read).",
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
    lines += ["", "| database | measured | request | request ms without / with values "
                  "| events written ms without / with | the values' share |",
              "| --- | --- | --- | ---: | ---: | ---: |"]
    for results in every.values():
        measured = f"{results['date']}, {results['commit']}"
        for key, what in (("create", f"createManyTask, {ITEMS:,} tasks"),
                          ("update", "updateManyTask, 10,000 rows")):
            figures = results["audit"][key]
            lines.append(f"| {results['database']} | {measured} | {what} | "
                         f"{figures['request_without_ms']:.1f} / "
                         f"{figures['request_with_ms']:.1f} | "
                         f"{figures['flush_without_ms']:.1f} / {figures['flush_with_ms']:.1f} | "
                         f"{values_share(figures):.1%} |")
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
