"""What differs between PostgreSQL and SQLite: how JSON is built, text matched, many rows
inserted with few parameters; `dialect()` picks the connection's."""

from __future__ import annotations

import abc
import functools
import json
from typing import Any

from django.db import connection

from .text import Sql, name_literal


class Dialect(abc.ABC):
    """How one database builds JSON and matches text; `dialect()` picks the connection's."""

    max_pairs: int  # how many (key, value) pairs one call of the object function takes

    def json_object(self, pairs: list[tuple[str, Sql]]) -> Sql:
        """A JSON object with one member per (key, value expression), in order; past what
        one function call takes, the objects of several calls joined as text."""
        if len(pairs) <= self.max_pairs:
            return self.object_of(pairs)
        step = self.max_pairs
        return self.joined_objects([self.object_of(pairs[i:i + step])
                                    for i in range(0, len(pairs), step)])

    @abc.abstractmethod
    def object_of(self, pairs: list[tuple[str, Sql]]) -> Sql:
        """One call of the database's JSON object function."""

    @abc.abstractmethod
    def joined_objects(self, objects: list[Sql]) -> Sql:
        """One JSON object with the members of these (non-empty) ones, in order."""

    def nested(self, value: Sql) -> Sql:
        """A JSON value made by a subquery, placed inside another JSON object."""
        return value

    @abc.abstractmethod
    def list_of(self, row_json: Sql, frm: Sql, order: Sql, page: Sql) -> Sql:
        """A JSON array of `row_json` over the rows of `frm`, ordered and paged."""

    def as_text(self, value: Sql) -> Sql:
        return value

    @abc.abstractmethod
    def empty_list(self) -> Sql:
        """An empty JSON array, to place inside a JSON object."""

    @abc.abstractmethod
    def id_list(self, ids: list[int]) -> Sql:
        """A subquery of these ids, bound as one parameter however many there are."""

    @abc.abstractmethod
    def insert_rows(self, table: str, columns: list[tuple[str, str]],
                    values: list[list[Any]]) -> Sql:
        """INSERT ... RETURNING id of many rows: `columns` are (quoted name, database type),
        `values` one list per column, bound as one parameter per column (PostgreSQL) or one
        for all (SQLite)."""

    @abc.abstractmethod
    def insert_pairs(self, table: str, first: str, second: str,
                     pairs: list[tuple[int, int]]) -> Sql:
        """Insert (first, second) rows, skipping those already there; bound as two (PostgreSQL)
        or one (SQLite) parameters however many rows there are."""


class Postgres(Dialect):
    max_pairs = 50  # json_build_object takes at most 100 arguments

    def object_of(self, pairs):
        if not pairs:
            return Sql("json_build_object()")
        keys = [name_literal(key) + ", " + value for key, value in pairs]
        return "json_build_object(" + Sql.join(", ", keys) + ")"

    def joined_objects(self, objects):
        # {"a" : 1} and {"b" : 2} as text, each without the brace that joins them
        texts = ["(" + o + ")::text" for o in objects]
        parts = (["left(" + texts[0] + ", -1)"]
                 + ["substr(left(" + t + ", -1), 2)" for t in texts[1:-1]]
                 + ["substr(" + texts[-1] + ", 2)"])
        return "(" + Sql.join(" || ',' || ", parts) + ")::json"

    def list_of(self, row_json, frm, order, page):
        # The aggregate takes the rows in the sorted subquery's order: PostgreSQL keeps it when
        # the outer level only aggregates (no join; "Aggregate Functions" in its manual). A
        # row_number() to order by inside json_agg cost B's page 0.4 ms of its 2.8.
        return ("(SELECT coalesce(json_agg(s.j), '[]'::json) FROM (SELECT "
                + row_json + " AS j " + frm + " ORDER BY " + order + page + ") AS s)")

    def as_text(self, value):
        return "(" + value + ")::text"

    def id_list(self, ids):
        return Sql("SELECT unnest(CAST(%s AS bigint[]))", [list(ids)])

    def empty_list(self):
        return Sql("'[]'::json")

    def insert_rows(self, table, columns, values):
        names = ", ".join(name for name, _ in columns)
        arrays = ", ".join(f"CAST(%s AS {kind}[])" for _, kind in columns)
        return Sql(f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) RETURNING id",
                   values)

    def insert_pairs(self, table, first, second, pairs):
        return Sql(f"INSERT INTO {table} ({first}, {second}) SELECT * FROM "
                   "unnest(CAST(%s AS bigint[]), CAST(%s AS bigint[])) ON CONFLICT DO NOTHING",
                   [[p[0] for p in pairs], [p[1] for p in pairs]])

    def boolean(self, column):
        return Sql(column)

    def decimal(self, column, places):
        return Sql(f"({column})::text")

    def datetime(self, column):
        return Sql(column)

    def json_column(self, column):
        return Sql(column)

    def json_field(self, column, key):
        return Sql(f"({column} -> %s)", [key])

    def json_text_field(self, column, key):
        return Sql(f"({column} ->> %s)", [key])

    def concat(self, left: Sql, right: Sql) -> Sql:
        return "(" + left + " || " + right + ")"

    def matches(self, column, negate=False):
        return Sql(f"{column} {'NOT ' if negate else ''}ILIKE %s ESCAPE '\\'")

    def regex(self, column):
        return Sql(f"{column} ~ %s")


class Sqlite(Dialect):
    def id_list(self, ids):
        return Sql("SELECT value FROM json_each(%s)", [json.dumps(list(ids))])

    def empty_list(self):
        return Sql("json('[]')")

    def insert_rows(self, table, columns, values):
        names = ", ".join(name for name, _ in columns)
        picks = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
        rows = json.dumps([list(row) for row in zip(*values, strict=True)], default=str)
        # "WHERE true": SQLite's parser needs it between a SELECT and an upsert-free RETURNING
        return Sql(f"INSERT INTO {table} ({names}) SELECT {picks} FROM json_each(%s) WHERE true "
                   "RETURNING id", [rows])

    def insert_pairs(self, table, first, second, pairs):
        return Sql(f"INSERT OR IGNORE INTO {table} ({first}, {second}) SELECT "
                   "json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(%s)",
                   [json.dumps(pairs)])

    max_pairs = 63  # SQLite's functions take at most 127 arguments

    def object_of(self, pairs):
        keys = [name_literal(key) + ", " + value for key, value in pairs]
        return "json_object(" + Sql.join(", ", keys) + ")"

    def joined_objects(self, objects):
        parts = (["substr(" + objects[0] + ", 1, length(" + objects[0] + ") - 1)"]
                 + ["substr(" + o + ", 2, length(" + o + ") - 2)" for o in objects[1:-1]]
                 + ["substr(" + objects[-1] + ", 2)"])
        return "json(" + Sql.join(" || ',' || ", parts) + ")"

    def nested(self, value):
        # JSON made in a subquery comes back as text; json() marks it as JSON again.
        return "json(" + value + ")"

    def list_of(self, row_json, frm, order, page):
        # SQLite 3.40 has no ORDER BY inside aggregates: the subquery's order is kept.
        return ("(SELECT coalesce(json_group_array(json(s.j)), json('[]')) FROM (SELECT "
                + row_json + " AS j " + frm + " ORDER BY " + order + page + ") AS s)")

    def boolean(self, column):
        return Sql(f"CASE WHEN {column} IS NULL THEN NULL WHEN {column} THEN json('true') "
                   f"ELSE json('false') END")

    def decimal(self, column, places):
        return Sql(f"printf('%%.{int(places)}f', {column})")

    def datetime(self, column):
        # Django keeps UTC as 'YYYY-MM-DD HH:MM:SS[.ffffff]' text in SQLite.
        return Sql(f"(replace({column}, ' ', 'T') || '+00:00')")

    def json_column(self, column):
        return Sql(f"json({column})")

    def json_field(self, column, key):
        return Sql(f"json_extract({column}, %s)", [f"$.{key}"])

    def json_text_field(self, column, key):
        return Sql(f"json_extract({column}, %s)", [f"$.{key}"])

    def concat(self, left, right):
        return "(" + left + " || " + right + ")"

    def matches(self, column, negate=False):
        return Sql(f"{column} {'NOT ' if negate else ''}LIKE %s ESCAPE '\\'")

    def regex(self, column):
        return Sql(f"{column} REGEXP %s")


@functools.cache
def dialect() -> Dialect:
    return Postgres() if connection.vendor == "postgresql" else Sqlite()
