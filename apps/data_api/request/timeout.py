"""The statement timeout of an application, around the statements of one request."""

from __future__ import annotations

import time
import weakref

from django.db import DEFAULT_DB_ALIAS, connections

from ..sql.deadline import set_sqlite_deadline

_timeouts_set: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class statement_timeout:
    """Stop statements that run longer than `ms`.

    PostgreSQL: the session's statement_timeout, set only when this connection's value differs
    (no statement per request). SQLite: a progress handler that interrupts past the deadline.
    """

    def __init__(self, ms: int):
        self.ms = ms

    def __enter__(self):
        # `connections[...]` once: each attribute of `django.db.connection` looks it up again
        self.connection = connection = connections[DEFAULT_DB_ALIAS]
        connection.ensure_connection()
        raw = connection.connection
        if connection.vendor == "postgresql":
            if _timeouts_set.get(raw) != self.ms:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('statement_timeout', %s, false)",
                                   [f"{self.ms}ms"])
                _timeouts_set[raw] = self.ms
        elif connection.vendor == "sqlite":
            deadline = time.monotonic() + self.ms / 1000
            set_sqlite_deadline(deadline)
            raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        return self

    def __exit__(self, *exc):
        if self.connection.vendor == "sqlite":
            set_sqlite_deadline(None)
            if self.connection.connection is not None:
                self.connection.connection.set_progress_handler(None, 0)
        return False
