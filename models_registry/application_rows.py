"""The application rows as this process last read them, and how a request sees that its
application is still the one in the database.

A request reads its application's row with one indexed query (or not at all: it starts from
the remembered row, and its first data statement also compares the row's fingerprint); the
Application object is made again only when the row changed.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.db import connection

from .lru import LruCache
from .models import Application

_application_rows: LruCache[tuple[str, Application]] = LruCache(
    lambda: settings.MORTAR_RUNTIME_CACHE_SIZE, "application rows")


def current_application(slug: str) -> Application:
    """The application row as of now (one indexed query); see `read_application`."""
    return read_application(slug)[0]


def read_application(slug: str) -> tuple[Application, str]:
    """The application row as of now and its fingerprint: one indexed query.

    The row is read with a plain cursor (no ORM query building, the costly part of a read
    this small); the Application object is made again only when the row changed. Callers
    must treat the returned object as read-only: it is shared between requests.
    """
    with connection.cursor() as cursor:
        cursor.execute(application_row_sql(), [slug])
        row = cursor.fetchone()
    if row is None:
        raise Application.DoesNotExist(f"There is no application {slug!r}.")
    fingerprint = row[0]
    cached = _application_rows.get(slug)
    if cached is not None and cached[0] == fingerprint:
        return cached[1], fingerprint
    application = Application.objects.get(slug=slug)  # rare: only when the row changed
    _application_rows.put(slug, (fingerprint, application))
    return application, fingerprint


def remembered_application(slug: str) -> tuple[Application, str] | None:
    """The application as this process last read it, and its fingerprint; no query.

    A request may start from it when its first statement also compares
    `application_fingerprint_sql()` with this fingerprint and the request is run again
    should the two differ.
    """
    remembered = _application_rows.get(slug)
    return None if remembered is None else (remembered[1], remembered[0])


@functools.cache
def application_fingerprint_sql() -> str:
    """A scalar subquery whose value changes whenever anything in the row of the application
    with slug %s does (NULL once it is gone): the whole row as JSON text."""
    return f"(SELECT {_fingerprint()} FROM {_application_table()} WHERE slug = %s)"


def _application_table() -> str:
    return connection.ops.quote_name(Application._meta.db_table)


def _fingerprint() -> str:
    columns = ", ".join(connection.ops.quote_name(f.column)
                        for f in Application._meta.concrete_fields)
    if connection.vendor == "postgresql":
        return f"json_build_array({columns})::text"
    return f"json_array({columns})"


@functools.cache
def application_row_sql() -> str:
    return f"SELECT {_fingerprint()} FROM {_application_table()} WHERE slug = %s"


def forget_application_rows() -> None:
    _application_rows.clear()
