"""The floor: a minimal WSGI app (no Django) answering the benchmark's queries A, B, C and E with
the same JSON document as Mortar, each from ONE hand-written SQL statement (E's an UPDATE ...
RETURNING, its own transaction).

Served by gunicorn with the same configuration as Mortar
(`gunicorn 'bench.floor_app:from_environment()'`). POST the same body as to Mortar at /a, /b or
/c or /e; C and E take the record id from the body: `eq: <id>` in the document or the
variable `id` (C), `updateTask(id: <id>, input: { done: true|false })` (E).
Environment: BENCH_FLOOR_DATABASE (a postgres:// URL or a SQLite file path) and
BENCH_FLOOR_NAMES (JSON of bench.dataset.Names: the runtime tables and columns).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading

# Task fields of every query: the page (A, B) and the single record (C) build them alike.
POSTGRES_TASK = """json_build_object(
    'id', t.id, 'name', t.{task_name}, {extra}
    'project', (SELECT json_build_object('name', p.{project_name})
                FROM {project} p WHERE p.id = t.{task_project}),
    'tags', (SELECT coalesce(json_agg(json_build_object('name', g.{tag_name}) ORDER BY g.id),
                             '[]'::json)
             FROM {task_tags} l JOIN {tag} g ON g.id = l.b_id WHERE l.a_id = t.id))"""
POSTGRES_PAGE = """(SELECT coalesce(json_agg({task} ORDER BY t.id), '[]'::json)
    FROM (SELECT * FROM {table} WHERE {priority} >= %(priority)s ORDER BY id LIMIT %(limit)s) t)"""
POSTGRES = {
    "a": "SELECT json_build_object('data', json_build_object('allTask', json_build_object("
         "'totalCount', (SELECT count(*) FROM {table} WHERE {priority} >= %(priority)s), "
         "'results', {page})))::text",
    "b": "SELECT json_build_object('data', json_build_object('allTask', json_build_object("
         "'results', {page})))::text",
    "c": "SELECT json_build_object('data', json_build_object('oneTask', "
         "(SELECT {task} FROM {table} t WHERE t.id = %(id)s)))::text",
    # autocommit: the statement is its transaction
    "e": "UPDATE {table} SET {done} = %(done)s, updated_at = now() WHERE id = %(id)s RETURNING "
         "json_build_object('data', json_build_object('updateTask', json_build_object("
         "'id', id, 'done', {done})))::text",
}

SQLITE_TASK = """json_object(
    'id', t.id, 'name', t.{task_name}, {extra}
    'project', (SELECT json_object('name', p.{project_name})
                FROM {project} p WHERE p.id = t.{task_project}),
    'tags', (SELECT json_group_array(json_object('name', g.{tag_name}))
             FROM (SELECT g.* FROM {task_tags} l JOIN {tag} g ON g.id = l.b_id
                   WHERE l.a_id = t.id ORDER BY g.id) g))"""
# A subquery's JSON comes back as text: json() makes it JSON again inside json_object.
SQLITE_PAGE = """(SELECT json_group_array(json(j)) FROM (SELECT {task} AS j FROM {table} t
    WHERE t.{priority} >= :priority ORDER BY t.id LIMIT :limit))"""
SQLITE = {
    "a": "SELECT json_object('data', json_object('allTask', json_object("
         "'totalCount', (SELECT count(*) FROM {table} WHERE {priority} >= :priority), "
         "'results', json({page}))))",
    "b": "SELECT json_object('data', json_object('allTask', json_object("
         "'results', json({page}))))",
    "c": "SELECT json_object('data', json_object('oneTask', "
         "json((SELECT {task} FROM {table} t WHERE t.id = :id))))",
    "e": "UPDATE {table} SET {done} = :done, updated_at = datetime('now') WHERE id = :id "
         "RETURNING json_object('data', json_object('updateTask', json_object('id', id, "
         "'done', json(CASE WHEN {done} THEN 'true' ELSE 'false' END))))",
}
PAGE_FIELDS = {"postgresql": "'done', t.{done}, 'endDate', t.{end_date},",
               "sqlite": "'done', json(CASE WHEN t.{done} THEN 'true' ELSE 'false' END), "
                         "'endDate', t.{end_date},"}
PAGE_PARAMS = {"priority": 3, "limit": 100}
# The id in C's document (`eq: 4242`) or in its variables (`"id": 4242`), E's (`id: 4242`).
RECORD_ID = re.compile(rb'(?:eq:\s*|"id":\s*|\(id:\s*)(\d+)')
DONE = re.compile(rb"done:\s*(true|false)")


def statements(vendor: str, names: dict[str, str]) -> dict[str, str]:
    """The SQL of A, B and C for `vendor`, with the runtime table and column names filled in."""
    task, page, queries = ((POSTGRES_TASK, POSTGRES_PAGE, POSTGRES) if vendor == "postgresql"
                           else (SQLITE_TASK, SQLITE_PAGE, SQLITE))
    page_task = task.format(extra=PAGE_FIELDS[vendor].format(**names), **names)
    one_task = task.format(extra="", **names)
    page_sql = page.format(task=page_task, table=names["task"], priority=names["priority"])
    return {
        key: sql.format(page=page_sql, task=one_task if key == "c" else page_task,
                        table=names["task"], priority=names["priority"], done=names["done"])
        for key, sql in queries.items()
    }


class Database:
    """One connection per server thread, opened on first use and kept (no pool, no ORM)."""

    def __init__(self, where: str):
        self.where = where
        self.vendor = "postgresql" if where.startswith(("postgres://", "postgresql://")) else (
            "sqlite")
        self.local = threading.local()

    def _connection(self):
        connection = getattr(self.local, "connection", None)
        if connection is None:
            if self.vendor == "postgresql":
                import psycopg

                connection = psycopg.connect(self.where, autocommit=True)
            else:
                connection = sqlite3.connect(self.where)
            self.local.connection = connection
        return connection

    def one_value(self, sql: str, params: dict) -> str:
        connection = self._connection()
        value = connection.execute(sql, params).fetchone()[0]
        if self.vendor == "sqlite" and connection.in_transaction:  # E's UPDATE began one
            connection.commit()
        return value


def make_answer(where: str, names: dict[str, str]):
    """answer(path, body) -> (HTTP status line, JSON bytes): the floor's answer to one request
    (also bench/ceiling_app.py's, inside Django)."""
    database = Database(where)
    queries = statements(database.vendor, names)

    def answer(path: str, body: bytes) -> tuple[str, bytes]:
        if path == "/healthz":
            return "200 OK", b'{"status":"ok"}'
        key = path.strip("/")
        if key not in queries:
            return "404 Not Found", b'{"error":"no such query"}'
        params = dict(PAGE_PARAMS)
        if key in ("c", "e"):
            found = RECORD_ID.search(body)
            if found is None:
                return "400 Bad Request", b'{"error":"no id"}'
            params = {"id": int(found.group(1))}
        if key == "e":
            params["done"] = DONE.search(body).group(1) == b"true"
        return "200 OK", database.one_value(queries[key], params).encode()

    return answer


def make_app(where: str, names: dict[str, str]):
    answer = make_answer(where, names)

    def application(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        status, text = answer(environ.get("PATH_INFO", ""), body)
        start_response(status, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(text)))])
        return [text]

    return application


def from_environment():
    """gunicorn's application factory."""
    return make_app(*where_from_environment())


def where_from_environment() -> tuple[str, dict[str, str]]:
    """(the database, the runtime names) from BENCH_FLOOR_DATABASE and BENCH_FLOOR_NAMES."""
    return os.environ["BENCH_FLOOR_DATABASE"], json.loads(os.environ["BENCH_FLOOR_NAMES"])
