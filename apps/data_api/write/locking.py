"""Optimistic locking: `ifUpdatedAt` refuses a write when the records changed since the client
read them (CONFLICT, the current updatedAt in `extensions`).

The comparison is the database's, on the stored value (to the microsecond), made by the
statement that locks the records: `SELECT ... FOR UPDATE` on PostgreSQL, where a concurrent
writer's transaction is waited for and its result compared; SQLite's transactions are
IMMEDIATE, one writer at a time. No write can come between the check and the mutation's own.
The current values are rendered as the planner renders `updatedAt` (the same dialect
expressions), so what a conflict reports is what `oneX { updatedAt }` answers, byte for byte,
and a client may send it back as it is.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

from django.db import connection

from models_registry.runtime import RuntimeModels, RuntimeRecord

from ..errors import Conflict
from ..read.filters import FilterCompiler
from ..sql.dialects import dialect
from ..sql.text import Aliases, Sql, q

if TYPE_CHECKING:
    from apps.identity.access import Access

ARGUMENT = "ifUpdatedAt"


def lock_unchanged(built: RuntimeModels, access: Access, cls: type[RuntimeRecord],
                   where: dict, operation: str, since: dt.datetime, *, exact: bool,
                   doing: str = "written") -> list[int]:
    """Lock the records of `cls` matching `where` that the caller may `operation` until the
    transaction ends, and their ids, in order. Raises Conflict when any of them changed since:
    its updatedAt differs from `since` (`exact`) or is later than `since`. Records the caller
    may not `operation` are neither locked nor compared; a conflict shows the updatedAt only
    of records he may read."""
    sql = _locking_sql(built, access, cls, where, operation, since, exact)
    with connection.cursor() as cursor:
        cursor.execute(sql.text, sql.params)
        rows = cursor.fetchall()
    changed = [{"id": record_id, "updatedAt": None if shown is None
                else json.loads(shown)["updatedAt"]}
               for record_id, unchanged, shown in rows if not unchanged]
    if changed:
        raise _conflict(cls._mortar.name, changed, exact, doing)
    return [row[0] for row in rows]


def _locking_sql(built, access, cls, where, operation, since, exact) -> Sql:
    """SELECT id, whether it is unchanged, its updatedAt as the planner renders it (NULL when
    the caller may not read it) FROM the records ... FOR UPDATE."""
    sql_dialect = dialect()
    aliases = Aliases()
    alias = aliases.next()
    filters = FilterCompiler(built, sql_dialect, aliases, access)
    column = f"{alias}.updated_at"
    stored = cls._meta.get_field("updated_at").get_db_prep_value(since, connection,
                                                                 prepared=False)
    unchanged = Sql(f"CASE WHEN {column} {'=' if exact else '<='} %s THEN 1 ELSE 0 END",
                    [stored])
    rendered = sql_dialect.as_text(sql_dialect.json_object(
        [("updatedAt", sql_dialect.datetime(column))]))
    shown = ("CASE WHEN " + filters.permitted(cls, alias, "read") + " THEN " + rendered
             + " END")
    lock = f" FOR UPDATE OF {alias}" if connection.vendor == "postgresql" else ""
    return (f"SELECT {alias}.id, " + unchanged + ", " + shown
            + f" FROM {q(cls._meta.db_table)} {alias} WHERE "
            + filters.condition(cls, alias, where) + " AND "
            + filters.permitted(cls, alias, operation) + " ORDER BY 1" + lock)


def _conflict(model: str, changed: list[dict], exact: bool, doing: str) -> Conflict:
    if exact:
        return Conflict(
            f"This {model} changed since you read it (its updatedAt is no longer "
            f"{ARGUMENT}): nothing was {doing}. Read it again and retry with its current "
            "updatedAt (extensions.updatedAt).",
            field=ARGUMENT, id=changed[0]["id"], updatedAt=changed[0]["updatedAt"])
    ids = ", ".join(str(record["id"]) for record in changed)
    return Conflict(
        f"{len(changed)} of the {model} records where matches changed after {ARGUMENT} "
        f"(id {ids}): nothing was {doing}. Read them again and retry with the latest "
        "updatedAt you read (extensions.changed).", field=ARGUMENT, changed=changed)


def gone(model: str) -> Conflict:
    """upsertX with ifUpdatedAt when uniqueBy finds no record: the one read is gone."""
    return Conflict(
        f"No {model} that you may change matches uniqueBy any more (deleted, or its uniqueBy "
        f"values changed, since you read it): {ARGUMENT} expects that record, so nothing was "
        f"written. Read again; to create the record, send the upsert without {ARGUMENT}.",
        field=ARGUMENT, id=None, updatedAt=None)
