"""Cursor paging benchmark (issue 16): page 1 and page 900 of 100,000 tasks at 100 a page, by
cursor (first/after) and by offset (limit/offset), over HTTP against Mortar's server.

Builds the read benchmark's `bench` application (bench.dataset: 100,000 tasks) in a database
of its own and serves it with granian (the read benchmark's server settings, debug off). For
each sort it asks `allTask(limit: 1, offset: 89899) { edges { cursor } }` for the cursor of the
89,900th task, checks that `first: 100, after: <it>` answers the same tasks as
`limit: 100, offset: 89900`, then times the four requests (cursor and offset, page 1 and page
900) one at a time on one keep-alive connection, in interleaved rounds. Sorts: the default (id),
a text property (`name`, id the tiebreaker) without an index, as Mortar leaves it, and the same
after the benchmark creates an index on (name, id) itself. In this process, through the WSGI
handler: the SQL statements per request, the data statement's own time, and on PostgreSQL
its EXPLAIN ANALYZE (rows of the task table read); on SQLite its EXPLAIN QUERY PLAN.

Usage: python -m bench.cursors [--quick]   (DATABASE_URL: postgres:// or sqlite:)
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import statistics
import sys
import time
from urllib.parse import urlsplit

from bench import report, servers
from bench.data_api import bench_database, build_bench_application

PATH = "/api/bench/graphql"
PAGE_SIZE, PAGE = 100, 900
BEFORE_PAGE = PAGE_SIZE * (PAGE - 1)  # 89,900 tasks come before page 900
SELECTION = ("edges { cursor node { id name priority } } "
             "pageInfo { hasNextPage hasPreviousPage endCursor }")
INDEX = "bench_cursors_task_name_id"
SORTS = {  # key: (title, the sort argument)
    "id": ("id (the default sort)", ""),
    "name": ("name, then id; no index on name (as Mortar makes the table)",
             "sort: [{ field: name, order: ASC }], "),
    "name_indexed": ("name, then id; with an index on (name, id) the benchmark creates",
                     "sort: [{ field: name, order: ASC }], "),
}
CASES = {  # key: (paging, page)
    "cursor_1": ("cursor", 1), "cursor_900": ("cursor", PAGE),
    "offset_1": ("offset", 1), "offset_900": ("offset", PAGE),
}


def documents(sort: str, cursor: str) -> dict[str, str]:
    """The four requests of a sort (`cursor`: the 89,900th task's, from a real answer)."""
    def all_task(args: str) -> str:
        return f"{{ allTask({sort}{args}) {{ {SELECTION} }} }}"

    return {"cursor_1": all_task(f"first: {PAGE_SIZE}"),
            "cursor_900": all_task(f"first: {PAGE_SIZE}, after: {json.dumps(cursor)}"),
            "offset_1": all_task(f"limit: {PAGE_SIZE}, offset: 0"),
            "offset_900": all_task(f"limit: {PAGE_SIZE}, offset: {BEFORE_PAGE}")}


class Client:
    """One keep-alive HTTP connection to the server; `post` answers (seconds, data)."""

    def __init__(self, base: str):
        parts = urlsplit(base)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)

    def post(self, query: str) -> tuple[float, dict]:
        body = json.dumps({"query": query}).encode()
        started = time.perf_counter()
        self.connection.request("POST", PATH, body, {"Content-Type": "application/json"})
        response = self.connection.getresponse()
        content = response.read()
        elapsed = time.perf_counter() - started
        answer = json.loads(content)
        if response.status != 200 or "errors" in answer:
            raise RuntimeError(f"Mortar answered {query[:120]} with {response.status}: "
                               f"{content[:500]!r}")
        return elapsed, answer["data"]["allTask"]

    def close(self) -> None:
        self.connection.close()


def cursor_of_last_before_page(client: Client, sort: str) -> tuple[str, int]:
    """The cursor (and id) of the 89,900th task in this sort, from a real answer."""
    _, data = client.post(f"{{ allTask({sort}limit: 1, offset: {BEFORE_PAGE - 1}) "
                          "{ edges { cursor node { id } } } }")
    edge = data["edges"][0]
    return edge["cursor"], int(edge["node"]["id"])


def check_pages(client: Client, docs: dict[str, str], sort_key: str) -> None:
    """Cursor and offset paging must answer the same tasks, or the comparison means nothing."""
    ids = {}
    for case, document in docs.items():
        _, data = client.post(document)
        ids[case] = [int(edge["node"]["id"]) for edge in data["edges"]]
        if len(ids[case]) != PAGE_SIZE or not data["pageInfo"]["hasNextPage"]:
            raise RuntimeError(f"{sort_key} {case}: {len(ids[case])} tasks, pageInfo "
                               f"{data['pageInfo']}")
        if data["pageInfo"]["hasPreviousPage"] != (CASES[case][1] > 1):
            raise RuntimeError(f"{sort_key} {case}: hasPreviousPage is wrong: "
                               f"{data['pageInfo']}")
    for page in ("1", str(PAGE)):
        if ids[f"cursor_{page}"] != ids[f"offset_{page}"]:
            raise RuntimeError(f"{sort_key}: page {page} by cursor and by offset differ: "
                               f"{ids[f'cursor_{page}'][:5]}... vs "
                               f"{ids[f'offset_{page}'][:5]}...")
    if sort_key == "id" and ids["cursor_900"] != list(range(BEFORE_PAGE + 1,
                                                           BEFORE_PAGE + PAGE_SIZE + 1)):
        raise RuntimeError(f"page {PAGE} by id is not tasks {BEFORE_PAGE + 1}..")


def time_requests(client: Client, docs: dict[str, str], repeats: int) -> dict:
    """`repeats` rounds, each request once per round (interleaved, so that a slow spell of
    the machine does not fall on one case only), after 3 warm-up rounds."""
    for _ in range(3):
        for document in docs.values():
            client.post(document)
    seconds: dict[str, list[float]] = {case: [] for case in docs}
    for _ in range(repeats):
        for case, document in docs.items():
            seconds[case].append(client.post(document)[0])
    return {case: summary(measured) for case, measured in seconds.items()}


def summary(seconds: list[float]) -> dict:
    ordered = sorted(seconds)
    return {"requests": len(ordered), "median_ms": statistics.median(ordered) * 1000,
            "p95_ms": ordered[math.ceil(len(ordered) * 0.95) - 1] * 1000,
            "min_ms": ordered[0] * 1000}


# -- in this process: statements, their own time, their plans ---------------------------------

def inspect_statements(docs: dict[str, str], task_table: str, repeats: int) -> dict:
    """Per request: SQL statements through the WSGI handler, and of its data statement (the
    one that reads the task table) the time alone (median of `repeats`) and its plan."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    from bench.statements import data_statement

    handler = WSGIHandler()
    found = {}
    for case, document in docs.items():
        sql, params, statements = data_statement(handler, PATH, json.dumps({"query": document}),
                                                 task_table)
        found[case] = {"statements": statements, "statement_ms": statement_ms(sql, params,
                                                                             repeats),
                       **plan(sql, params, task_table, text=case == "cursor_900")}
    connection.close()
    return found


def statement_ms(sql: str, params, repeats: int) -> float:
    from django.db import connection

    seconds = []
    with connection.cursor() as cursor:
        for _ in range(repeats + 1):
            started = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            seconds.append(time.perf_counter() - started)
    return statistics.median(seconds[1:]) * 1000


def plan(sql: str, params, task_table: str, text: bool) -> dict:
    """PostgreSQL: EXPLAIN ANALYZE's execution time and rows of the task table read (the
    text plan too when `text`); SQLite: EXPLAIN QUERY PLAN."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            depth, lines = {0: -1}, []
            for node, parent, _, detail in cursor.fetchall():  # indented as the sqlite3 shell
                depth[node] = depth.get(parent, -1) + 1
                lines.append("  " * depth[node] + detail)
            return {"plan": lines}
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
        explained = cursor.fetchone()[0]
        if isinstance(explained, str):
            explained = json.loads(explained)
        top = explained[0]
        found = {"execution_ms": top["Execution Time"],
                 "task_rows_read": rows_read(top["Plan"], task_table)}
        if text:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql, params)
            found["plan"] = [row[0] for row in cursor.fetchall()]
    return found


def rows_read(node: dict, table: str) -> int:
    """Rows the scans of `table` in this plan produced or filtered out, over all loops."""
    total = 0
    if node.get("Relation Name") == table:
        per_loop = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
                    + node.get("Rows Removed by Index Recheck", 0))
        total += round(per_loop * node.get("Actual Loops", 1))
    return total + sum(rows_read(child, table) for child in node.get("Plans", []))


# -- the run ----------------------------------------------------------------------------------

def create_index(table: str, column: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f'CREATE INDEX {INDEX} ON {table} ("{column}", id)')
        cursor.execute(f"ANALYZE {table}")


def build_and_measure(url: str, quick: bool) -> dict:
    repeats, statement_repeats = (10, 3) if quick else (40, 10)
    started, load_before = time.monotonic(), os.getloadavg()
    names, filled = build_bench_application(url, "Cursor paging")
    from django.db import connection

    vendor, server_version = connection.vendor, report.database_version()
    connection.close()
    logs = report.RESULTS_JSON.parent  # gitignored; the server's log stays for a look
    logs.mkdir(exist_ok=True)
    sorts: dict = {}
    with servers.mortar(os.environ.copy(),
                          logs / f"{vendor}-mortar-cursors.log") as mortar:
        for key, (title, sort) in SORTS.items():
            if key == "name_indexed":
                create_index(names.task, names.task_name)
            # A connection per sort: the server may close one idle (the in-process part).
            client = Client(mortar)
            try:
                cursor, cursor_id = cursor_of_last_before_page(client, sort)
                docs = documents(sort, cursor)
                check_pages(client, docs, key)
                timed = time_requests(client, docs, repeats)
            finally:
                client.close()
            inspected = inspect_statements(docs, names.task, statement_repeats)
            sorts[key] = {"title": title, "cursor_of_id": cursor_id, "documents": docs,
                          "cases": {case: {**timed[case], **inspected[case]}
                                    for case in CASES}}
            say(key, sorts[key], vendor)
    return {"vendor": vendor, "database": server_version, "server": servers.describe(),
            "dataset": filled, "repeats": repeats, "statement_repeats": statement_repeats,
            "sorts": sorts, "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()],
            "seconds": round(time.monotonic() - started, 1), **report.environment()}


def say(key: str, measured: dict, vendor: str) -> None:
    print(f"  sort {key}: cursor of task {measured['cursor_of_id']} (the 89,900th)", flush=True)
    for case, figures in measured["cases"].items():
        rows = (f"  {figures['task_rows_read']:>7,} task rows read, EXPLAIN ANALYZE "
                f"{figures['execution_ms']:.1f} ms" if "task_rows_read" in figures else "")
        print(f"    {case:<11} median {figures['median_ms']:7.2f} ms  p95 "
              f"{figures['p95_ms']:7.2f} ms  statement alone {figures['statement_ms']:7.2f} ms  "
              f"{figures['statements']} SQL statement(s){rows}", flush=True)
    for paging in ("cursor", "offset"):
        cases = measured["cases"]
        print(f"    {paging}: page {PAGE} / page 1 = "
              f"{cases[f'{paging}_{PAGE}']['median_ms'] / cases[f'{paging}_1']['median_ms']:.2f}",
              flush=True)
    plan_lines = measured["cases"]["cursor_900"]["plan"]
    print(f"    {'EXPLAIN ANALYZE' if vendor == 'postgresql' else 'EXPLAIN QUERY PLAN'} "
          f"of the cursor page {PAGE} statement:", flush=True)
    for line in plan_lines:
        print(f"      {line}", flush=True)


# -- RESULTS.md -------------------------------------------------------------------------------

def render(every: dict) -> str:
    first = next(iter(every.values()))
    lines = [
        f"## Cursor paging: page 1 and page {PAGE} of {first['dataset']['tasks']:,} tasks, "
        "by cursor and by offset",
        "",
        "Command: `make bench` (it runs `python -m bench.cursors` on PostgreSQL and on "
        "SQLite); alone: `MORTAR_SECRET_KEY=… python scripts/test_services.py --databases "
        "postgres -- python -m bench --only cursors` (`--databases sqlite` for SQLite; "
        "`--quick` for 10 rounds instead of 40).",
        "",
        f"- Machine: {first['cpus']} CPUs ({first['cpu_model']}), {first['system']}; the "
        "server, the database, Redis and the client share them. Versions: Python "
        f"{first['python']}, " + ", ".join(f"{n} {v}" for n, v in first["versions"].items())
        + ".",
        f"- The read benchmark's `bench` application ({first['dataset']['tasks']:,} tasks, "
        f"ids 1..{first['dataset']['tasks']:,}, name `'Task ' || id`); one Mortar server "
        f"({first['server']}). Requests one at a time on one keep-alive connection, the four "
        "of a sort interleaved round by round, after 3 warm-up rounds; median and p95 of "
        "the rounds (counted in each heading). Every request selects "
        f"`{SELECTION}`, {PAGE_SIZE} a page.",
        f"- Cursor page {PAGE}: `first: {PAGE_SIZE}, after: <cursor>` with the cursor of the "
        f"{BEFORE_PAGE:,}th task taken from a real answer (`limit: 1, offset: "
        f"{BEFORE_PAGE - 1}`); offset page {PAGE}: `limit: {PAGE_SIZE}, offset: "
        f"{BEFORE_PAGE}`. Both are checked to answer the same tasks before timing.",
        "- *Statement alone*: the request's data statement (captured through the WSGI handler) "
        "run again in-process, median. *Task rows read* (PostgreSQL): rows the statement's "
        "scans of the task table returned or filtered out, from EXPLAIN ANALYZE (the "
        "hasPreviousPage EXISTS included).",
        "- Sorts: " + "; ".join(f"**{key}**: {title}" for key, (title, _) in SORTS.items())
        + ". Mortar creates no index on properties: the last is what an index would allow.",
        "",
    ]
    for results in every.values():
        load = (f"load average {results['load_before'][0]:.1f} before, "
                f"{results['load_after'][0]:.1f} after")
        lines += [
            f"### {results['database']}: measured {results['date']}, Mortar at commit "
            f"{results['commit']}, {results['repeats']} rounds ({load}; "
            f"{results['seconds']:.0f} s in all)",
            "",
            f"| sort | paging | page 1 median / p95 ms | page {PAGE} median / p95 ms "
            f"| page {PAGE} / page 1 | statement alone ms, page 1 → {PAGE} "
            f"| task rows read, page 1 → {PAGE} | SQL statements |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for key, measured in results["sorts"].items():
            for paging in ("cursor", "offset"):
                one, far = measured["cases"][f"{paging}_1"], measured["cases"][f"{paging}_{PAGE}"]
                rows = (f"{one['task_rows_read']:,} → {far['task_rows_read']:,}"
                        if "task_rows_read" in one else "—")
                lines.append(
                    f"| {key} | {paging} | {one['median_ms']:.1f} / {one['p95_ms']:.1f} "
                    f"| {far['median_ms']:.1f} / {far['p95_ms']:.1f} "
                    f"| {far['median_ms'] / one['median_ms']:.2f} "
                    f"| {one['statement_ms']:.1f} → {far['statement_ms']:.1f} | {rows} "
                    f"| {one['statements']}, {far['statements']} |")
        word = "EXPLAIN ANALYZE" if results["vendor"] == "postgresql" else "EXPLAIN QUERY PLAN"
        lines += ["", f"{word} of the cursor page {PAGE} statement, per sort:", ""]
        for key, measured in results["sorts"].items():
            lines += [f"- {key}:", "", "  ```",
                      *(f"  {line}" for line in measured["cases"]["cursor_900"]["plan"]),
                      "  ```", ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 rounds, not 40")
    args = parser.parse_args(argv)
    with bench_database(os.environ.get("DATABASE_URL") or "sqlite:///") as url:
        results = build_and_measure(url, args.quick)
    report.save_section("cursors", results["vendor"], results, render)
    return 0


if __name__ == "__main__":
    sys.exit(main())
