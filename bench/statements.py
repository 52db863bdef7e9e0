"""SQL statements per request: what Django's cursor sees, and what reaches the database.

Each request goes through the WSGI handler in this process, with the request signals that
production fires (so Django's per-request connection upkeep runs too). CaptureQueriesContext
sees the statements made through Django's cursor; those made on the raw connection (such as
Django's connection health check) only show at the database: on PostgreSQL they are counted
there, from its committed-transaction counter (in autocommit a statement is a transaction).
"""

from __future__ import annotations

import io
import sys

import psycopg
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test.utils import CaptureQueriesContext

from models_registry.application_rows import application_row_sql

REPEATS = 20  # requests per count; the database-side count is their average


def post(handler, path: str, body: str, method: str = "POST") -> bytes:
    """One request through a WSGI application (Django's handler, or the floor's), as gunicorn
    would make it (`method` GET with an empty body for a GET)."""
    data = body.encode()
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(data)), "wsgi.input": io.BytesIO(data),
        "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": True,
        "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
    }
    statuses = []
    response = handler(environ, lambda status, headers: statuses.append(status))
    try:
        content = b"".join(response)
    finally:
        if hasattr(response, "close"):  # Django's: request_finished, its connection upkeep
            response.close()
    if not statuses[0].startswith("200"):
        raise RuntimeError(f"{path} answered {statuses[0]}: {content[:300]!r}")
    return content


def data_statement(handler, path: str, body: str, task_table: str) -> tuple[str, object, int]:
    """A warm request's one statement on the task table (its SQL and parameters, as they went
    to the database) and how many statements the request ran through Django's cursor."""
    executed: list[tuple[str, object]] = []

    def capture(execute, sql, params, many, context):
        executed.append((sql, params))
        return execute(sql, params, many, context)

    post(handler, path, body)  # warm: the application's schema, the document's plan
    with connection.execute_wrapper(capture):
        post(handler, path, body)
    data = [(sql, params) for sql, params in executed if task_table in sql]
    if len(data) != 1:
        raise RuntimeError(f"{len(data)} statements read the task table, not one: {body}")
    return *data[0], len(executed)


def count(path: str, bodies: list[str]) -> dict:
    """Statements per request for `bodies` (one after another, after a warm-up request each)."""
    handler = WSGIHandler()
    for body in bodies:
        post(handler, path, body)
    with PostgresCounter() as at_database, CaptureQueriesContext(connection) as captured:
        for _ in range(REPEATS):
            for body in bodies:
                post(handler, path, body)
    requests = REPEATS * len(bodies)
    # A separate read of the application row; warm reads check it inside their data statement.
    app_row_sql = application_row_sql().replace("%s", "")
    app_rows = sum(query["sql"].startswith(app_row_sql) for query in captured.captured_queries)
    return {
        "statements": len(captured) / requests,
        "app_row": app_rows / requests,
        "at_database": None if at_database.statements is None
        else at_database.statements / requests,
    }


class PostgresCounter:
    """Statements PostgreSQL ran for this database while the block ran (None elsewhere)."""

    def __enter__(self):
        self.statements = None
        if connection.vendor == "postgresql":
            self.before = self._committed()
        return self

    def __exit__(self, *exc):
        if connection.vendor == "postgresql":
            # Minus the statement that flushed the counters, a transaction of its own.
            self.statements = self._committed() - self.before - 1
        return False

    @staticmethod
    def _committed() -> int:
        """Committed transactions of this database, after flushing this backend's counters."""
        with connection.connection.cursor() as raw:  # not through Django: not captured
            raw.execute("SELECT pg_stat_force_next_flush()")
        settings = connection.settings_dict
        # Read from another database, so that the reading adds nothing to the figure.
        with psycopg.connect(dbname="postgres", host=settings["HOST"], port=settings["PORT"],
                             user=settings["USER"], password=settings["PASSWORD"],
                             autocommit=True) as observer:
            return observer.execute("SELECT xact_commit FROM pg_stat_database "
                                    "WHERE datname = %s", [settings["NAME"]]).fetchone()[0]
