"""The deadline of this thread's SQLite statement: set by the request's statement timeout, read
by the functions of Python's that SQLite calls once a row (sql.dialects), which run too few of
SQLite's own instructions for its progress handler to stop a slow one in time."""

from __future__ import annotations

import threading
import time

_deadline = threading.local()  # connections are per thread: so is their deadline


def set_sqlite_deadline(at: float | None) -> None:
    """`at` in time.monotonic() seconds; None: no statement is timed."""
    _deadline.at = at


def past_sqlite_deadline() -> bool:
    """Has this thread's SQLite statement run past its timeout?"""
    at = getattr(_deadline, "at", None)
    return at is not None and time.monotonic() > at
