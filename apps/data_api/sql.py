"""SQL text with its bound parameters, and what differs between PostgreSQL and SQLite.

Every value a client sends travels as a parameter; only names from the registry (table and
column names built from ids, quoted) and fixed keywords are written into the text.
"""

from __future__ import annotations

import abc
import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import connection


@dataclass(slots=True)
class Sql:
    text: str
    params: list[Any] = field(default_factory=list)  # never changed in place: shared

    def __add__(self, other: Sql | str) -> Sql:
        if isinstance(other, str):
            return Sql(self.text + other, self.params)
        if not other.params:
            return Sql(self.text + other.text, self.params)
        return Sql(self.text + other.text, [*self.params, *other.params])

    def __radd__(self, other: str) -> Sql:
        return Sql(other + self.text, self.params)

    @staticmethod
    def join(separator: str, parts: list[Sql]) -> Sql:
        return Sql(separator.join(p.text for p in parts), [x for p in parts for x in p.params])


@functools.lru_cache(maxsize=4096)
def q(name: str) -> str:
    """A quoted table or column name (cached: one database per process, and the names are
    those of the registry)."""
    return connection.ops.quote_name(name)


GRAPHQL_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


def name_literal(name: str) -> Sql:
    """A GraphQL name (a response key, a type name) as an SQL string literal.

    Names are written into the text rather than bound so that a query's text depends only on
    its shape: PostgreSQL then prepares it once per connection. GraphQL names are letters,
    digits and _, so a literal of one cannot break out of its quotes; anything else is refused.
    """
    if not GRAPHQL_NAME.match(name):
        raise ValueError(f"not a GraphQL name: {name!r}")
    return Sql(f"'{name}'")


def text_param(value: str) -> Sql:
    """A bound text value whose type the database cannot infer from where it stands."""
    return Sql("CAST(%s AS text)", [value])


class Aliases:
    """Table aliases unique within one statement: t0, t1, ..."""

    def __init__(self):
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return f"t{self.count - 1}"


class Dialect(abc.ABC):
    """How one database builds JSON and matches text; `dialect()` picks the connection's."""

    @abc.abstractmethod
    def json_object(self, pairs: list[tuple[str, Sql]]) -> Sql:
        """A JSON object with one member per (key, value expression)."""

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
    def json_object(self, pairs):
        if not pairs:
            return Sql("json_build_object()")
        keys = [name_literal(key) + ", " + value for key, value in pairs]
        return "json_build_object(" + Sql.join(", ", keys) + ")"

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

    def json_object(self, pairs):
        keys = [name_literal(key) + ", " + value for key, value in pairs]
        return "json_object(" + Sql.join(", ", keys) + ")"

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
