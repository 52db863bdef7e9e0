"""Mutation benchmark: createManyTask of 1,000 tasks (a project and 2 tags each) and
updateManyTask over 10,000 rows, over HTTP against Mortar's server, beside their floor.

The floor writes the same rows in one transaction without Mortar: psycopg `executemany` for
the tasks (their ids returned) and `COPY` for the task-tag links on PostgreSQL; sqlite3
`executemany` on SQLite; and one hand-written UPDATE for the update. Statements per request
are counted in-process through the WSGI handler, for 10 and for 1,000 items; of them, those of
the change events (the outbox: the counter's upsert and one INSERT of all the events); and the
time the change events take of a request, measured in-process where it is spent.

Usage: python -m bench.mutations [--quick]   (DATABASE_URL: postgres:// or sqlite:)
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
from bench.data_api import bench_database, build_bench_application

PATH = "/api/bench/graphql"
ITEMS = 1_000
UPDATED_PROJECTS = 100  # projects 1..100 hold 10,000 of the 100,000 tasks
CREATE_MANY = ("mutation($input: [TaskInput!]!) { createManyTask(input: $input) { id } }")
UPDATE_MANY = ("mutation($where: TaskFilterInput!, $input: TaskInput!) { "
               "updateManyTask(where: $where, input: $input) { id } }")
FLOOR_SHARE = 1 / 3


def task_items(count: int, start: int, tag_ids: list[int], project_ids: list[int]) -> list:
    """`count` new tasks: a project each and two distinct tags."""
    return [{"name": f"Bench task {start + i}", "done": False, "endDate": "2024-06-01",
             "priority": 1 + i % 5, "project": {"id": project_ids[i % len(project_ids)]},
             "tags": {"_add": [{"id": tag_ids[i % len(tag_ids)]},
                               {"id": tag_ids[(i + 1) % len(tag_ids)]}]}}
            for i in range(count)]


def update_variables(done: bool) -> dict:
    return {"where": {"project": {"id": {"lteq": UPDATED_PROJECTS}}}, "input": {"done": done}}


def post(url: str, query: str, variables: dict) -> tuple[float, dict]:
    data = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        body = json.loads(response.read())
    elapsed = time.perf_counter() - started
    if "errors" in body:
        raise RuntimeError(f"Mortar refused the benchmark's mutation: {body['errors']}")
    return elapsed, body


def count_statements(ids: dict) -> dict:
    """Statements per request through the WSGI handler: createMany of 10 and of 1,000 items,
    and updateMany over 10,000 rows (how many of them are UPDATEs)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.statements import post as handler_post
    from models_registry.models import ChangeEvent, EventSequence

    outbox = (ChangeEvent._meta.db_table, EventSequence._meta.db_table)

    handler = WSGIHandler()

    def statements(query: str, variables: dict) -> list[str]:
        body = json.dumps({"query": query, "variables": variables})
        with CaptureQueriesContext(connection) as captured:
            handler_post(handler, PATH, body)
        return [q["sql"] for q in captured.captured_queries
                if not q["sql"].startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))]

    statements(CREATE_MANY, {"input": task_items(1, 0, **ids)})  # warm
    few = statements(CREATE_MANY, {"input": task_items(10, 10, **ids)})
    many = statements(CREATE_MANY, {"input": task_items(ITEMS, 100, **ids)})
    update = statements(UPDATE_MANY, update_variables(True))
    return {"create_10": len(few), "create_1000": len(many),
            "create_1000_inserts": sum(q.startswith("INSERT") for q in many),
            "create_1000_events": sum(any(t in q for t in outbox) for q in many),
            "update": len(update), "update_updates": sum(q.startswith("UPDATE") for q in update),
            "update_events": sum(any(t in q for t in outbox) for q in update)}


OUTBOX_REPEATS = 7


def outbox_share(ids: dict) -> dict:
    """What the change events cost inside a createManyTask of 1,000 and an updateManyTask of
    10,000 rows, in-process through the WSGI handler: the time spent noting the changes
    (`ChangeBatch.add`), writing them (`flush`: the counter's upsert and the one INSERT) and
    telling watchers and webhooks after the commit, against the whole request's; medians of
    OUTBOX_REPEATS requests. (The HTTP figures above move by more than 10% between runs of the
    same code; this share is what the outbox adds, measured where it is spent.)"""
    from django.core.handlers.wsgi import WSGIHandler

    from bench.statements import post as handler_post
    from models_registry import events

    spent = [0.0]

    def timed(function):
        def run(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - started
        return run

    handler = WSGIHandler()
    patched = {"add": events.ChangeBatch.add, "flush": events.ChangeBatch.flush}
    for name, function in patched.items():
        setattr(events.ChangeBatch, name, timed(function))
    events.events_committed.send_robust = timed(events.events_committed.send_robust)
    try:
        figures = {}
        for key, query, variables_of in (
                ("create", CREATE_MANY,
                 lambda i: {"input": task_items(ITEMS, 2_000_000 + i * ITEMS, **ids)}),
                ("update", UPDATE_MANY, lambda i: update_variables(i % 2 == 0))):
            totals, outbox = [], []
            for i in range(OUTBOX_REPEATS + 1):
                body = json.dumps({"query": query, "variables": variables_of(i)})
                spent[0] = 0.0
                started = time.perf_counter()
                handler_post(handler, PATH, body)
                if i:  # the first warms
                    totals.append(time.perf_counter() - started)
                    outbox.append(spent[0])
            figures[key] = {"request_ms": 1000 * statistics.median(totals),
                            "outbox_ms": 1000 * statistics.median(outbox)}
        return figures
    finally:
        for name, function in patched.items():
            setattr(events.ChangeBatch, name, function)
        del events.events_committed.send_robust


class Floor:
    """The same writes without Mortar, one transaction each, on a connection of its own."""

    def __init__(self, vendor: str, settings: dict, names, ids: dict):
        self.vendor, self.names, self.ids = vendor, names, ids
        if vendor == "postgresql":
            import psycopg

            self.connection = psycopg.connect(
                dbname=settings["NAME"], host=settings["HOST"], port=settings["PORT"],
                user=settings["USER"], password=settings["PASSWORD"])
        else:
            import sqlite3

            self.connection = sqlite3.connect(settings["NAME"])

    def create(self, start: int) -> float:
        n, items = self.names, task_items(ITEMS, start, **self.ids)
        now = "now()" if self.vendor == "postgresql" else "datetime('now')"
        mark = "%s" if self.vendor == "postgresql" else "?"
        insert = (f"INSERT INTO {n.task} (created_at, updated_at, {n.task_name}, {n.done}, "
                  f"{n.end_date}, {n.priority}, {n.task_project}) VALUES ({now}, {now}, "
                  f"{', '.join([mark] * 5)}) RETURNING id")
        rows = [(i["name"], i["done"], i["endDate"], i["priority"], i["project"]["id"])
                for i in items]
        started = time.perf_counter()
        cursor = self.connection.cursor()
        if self.vendor == "postgresql":
            cursor.executemany(insert, rows, returning=True)
            task_ids = []
            while True:
                task_ids.append(cursor.fetchone()[0])
                if not cursor.nextset():
                    break
            links = [(task_id, ref["id"]) for task_id, item in zip(task_ids, items, strict=True)
                     for ref in item["tags"]["_add"]]
            with cursor.copy(f"COPY {n.task_tags} (a_id, b_id) FROM STDIN") as copy:
                for link in links:
                    copy.write_row(link)
        else:
            task_ids = [cursor.execute(insert, row).fetchone()[0] for row in rows]
            links = [(task_id, ref["id"]) for task_id, item in zip(task_ids, items, strict=True)
                     for ref in item["tags"]["_add"]]
            cursor.executemany(f"INSERT INTO {n.task_tags} (a_id, b_id) VALUES (?, ?)", links)
        self.connection.commit()
        return time.perf_counter() - started

    def update(self, done: bool) -> float:
        n = self.names
        now = "now()" if self.vendor == "postgresql" else "datetime('now')"
        mark = "%s" if self.vendor == "postgresql" else "?"
        started = time.perf_counter()
        cursor = self.connection.cursor()
        cursor.execute(f"UPDATE {n.task} SET {n.done} = {mark}, updated_at = {now} WHERE "
                       f"{n.task_project} <= {mark} RETURNING id", (done, UPDATED_PROJECTS))
        cursor.fetchall()
        self.connection.commit()
        return time.perf_counter() - started

    def close(self) -> None:
        self.connection.close()


def measure(mortar: str, floor: Floor, repeats: int, ids: dict) -> dict:
    created, floor_created, updated, floor_updated = [], [], [], []
    # Warm-up, not timed: each worker builds the schema and plans on its first requests.
    for warm in range(4):
        post(mortar + PATH, CREATE_MANY, {"input": task_items(ITEMS, 1_000_000 + warm * ITEMS,
                                                               **ids)})
        post(mortar + PATH, UPDATE_MANY, update_variables(warm % 2 == 0))
    for round_ in range(repeats):  # alternating, so drifts of the machine hit both
        start = 10_000 * (round_ + 1)
        created.append(post(mortar + PATH, CREATE_MANY,
                            {"input": task_items(ITEMS, start, **ids)})[0])
        floor_created.append(floor.create(start + 5_000))
        updated.append(post(mortar + PATH, UPDATE_MANY, update_variables(round_ % 2 == 0))[0])
        floor_updated.append(floor.update(round_ % 2 == 0))
    rows = 10 * ITEMS  # tasks per project (100) x UPDATED_PROJECTS
    return {
        "create": {"mortar_seconds": created, "floor_seconds": floor_created,
                   "mortar_rows_per_second": ITEMS / statistics.median(created),
                   "floor_rows_per_second": ITEMS / statistics.median(floor_created)},
        "update": {"rows": rows, "mortar_seconds": updated, "floor_seconds": floor_updated,
                   "mortar_rows_per_second": rows / statistics.median(updated),
                   "floor_rows_per_second": rows / statistics.median(floor_updated)},
    }


def related_ids(names) -> dict:
    """The ids new tasks take their tags and projects from (`task_items`'s arguments)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {names.tag} ORDER BY id")
        tag_ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT id FROM {names.project} ORDER BY id")
        project_ids = [row[0] for row in cursor.fetchall()]
    return {"tag_ids": tag_ids, "project_ids": project_ids}


def build_and_measure(url: str, repeats: int) -> dict:
    names, _ = build_bench_application(url, "Mutations")
    from django.db import connection

    ids = related_ids(names)
    counted = count_statements(ids)
    print(f"  statements per request: createMany of 10: {counted['create_10']}, of 1,000: "
          f"{counted['create_1000']} ({counted['create_1000_inserts']} INSERTs, "
          f"{counted['create_1000_events']} of them the change events'); updateMany over "
          f"10,000 rows: {counted['update']} ({counted['update_updates']} UPDATE, "
          f"{counted['update_events']} the change events')", flush=True)
    outbox = outbox_share(ids)
    for key, what in (("create", "createManyTask of 1,000"), ("update", "updateManyTask of "
                                                                        "10,000 rows")):
        figures = outbox[key]
        print(f"  outbox in a {what}: {figures['outbox_ms']:.1f} ms of "
              f"{figures['request_ms']:.1f} ms in-process "
              f"({figures['outbox_ms'] / figures['request_ms']:.1%})", flush=True)
    vendor, server_version = connection.vendor, report.database_version()
    settings = dict(connection.settings_dict)
    connection.close()
    floor = Floor(vendor, settings, names, ids)
    logs = report.RESULTS_JSON.parent
    logs.mkdir(exist_ok=True)
    try:
        with servers.mortar(os.environ.copy(),
                              logs / f"{vendor}-mortar-mutations.log") as mortar:
            measured = measure(mortar, floor, repeats, ids)
    finally:
        floor.close()
    for key, figures in measured.items():
        print(f"  {key}: Mortar {figures['mortar_rows_per_second']:,.0f} rows/s, floor "
              f"{figures['floor_rows_per_second']:,.0f} rows/s", flush=True)
    return {"vendor": vendor, "database": server_version, "repeats": repeats,
            "statements": counted, "outbox": outbox, **measured, **report.environment()}


def events_text(count: int | None) -> str:
    """How many of a request's statements are the change events' (runs before the outbox
    counted none)."""
    return "" if count is None else f"; {count} of them the change events'"


def render(every: dict) -> str:
    lines = [
        "## Data API: mutations over HTTP, beside their floor",
        "",
        "Command: `make bench` (it runs `python -m bench.mutations` on PostgreSQL and on "
        "SQLite; `--quick` for 2 rounds instead of 5).",
        "",
        f"- createManyTask: {ITEMS:,} new tasks per request, each with a project and 2 tags "
        "(selection `{ id }`); updateManyTask: `done` set on the 10,000 tasks of projects "
        "1–100. Requests one after another over HTTP to Mortar's server (the read benchmark's "
        "server settings); medians of the rounds. The floor: the same rows in one "
        "transaction, in-process, without HTTP (psycopg `executemany` + `COPY` on PostgreSQL, "
        "sqlite3 `executemany` on SQLite; one hand-written UPDATE ... RETURNING id).",
        "",
        "| database | measured | what | Mortar rows/s | floor rows/s | Mortar / floor "
        "| statements per request |",
        "| --- | --- | --- | ---: | ---: | ---: | --- |",
    ]
    for results in every.values():
        counted = results["statements"]
        for key, what, statements in (
                ("create", f"createManyTask, {ITEMS:,} tasks",
                 f"{counted['create_1000']} ({counted['create_1000_inserts']} INSERTs"
                 f"{events_text(counted.get('create_1000_events'))}); "
                 f"{counted['create_10']} for 10 tasks"),
                ("update", "updateManyTask, 10,000 rows",
                 f"{counted['update']} ({counted['update_updates']} UPDATE"
                 f"{events_text(counted.get('update_events'))})")):
            figures = results[key]
            ratio = figures["mortar_rows_per_second"] / figures["floor_rows_per_second"]
            verdict = "" if key == "update" else (
                " (met)" if ratio >= FLOOR_SHARE else " (**missed**)")
            lines.append(
                f"| {results['database']} | {results['date']}, {results['commit']} | {what} | "
                f"{figures['mortar_rows_per_second']:,.0f} | "
                f"{figures['floor_rows_per_second']:,.0f} | {ratio:.2f}{verdict} | "
                f"{statements} |")
    lines += ["", "Target: createManyTask at least a third of the floor's rows per second; "
              "statements per request constant; updateManyTask one UPDATE statement."]
    shares = [(results["database"], results["outbox"]) for results in every.values()
              if "outbox" in results]  # runs before the change feed measured none
    if shares:
        lines += ["", "The change events' part of a request (the outbox: noting the changes, "
                  "the counter's upsert and one INSERT of the events, telling watchers and "
                  "webhooks after the commit), in-process through the WSGI handler, medians of "
                  f"{OUTBOX_REPEATS} requests:", "",
                  "| database | request | outbox | share |", "| --- | --- | ---: | ---: |"]
        for database, outbox in shares:
            for key, what in (("create", f"createManyTask, {ITEMS:,} tasks"),
                              ("update", "updateManyTask, 10,000 rows")):
                figures = outbox[key]
                lines.append(f"| {database} | {what} | {figures['outbox_ms']:.1f} ms of "
                             f"{figures['request_ms']:.1f} ms | "
                             f"{figures['outbox_ms'] / figures['request_ms']:.1%} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds, not 5")
    args = parser.parse_args(argv)
    with bench_database(os.environ.get("DATABASE_URL") or "sqlite:///") as url:
        results = build_and_measure(url, 2 if args.quick else 5)
    report.save_section("mutations", results["vendor"], results, render)
    return 0


if __name__ == "__main__":
    sys.exit(main())
