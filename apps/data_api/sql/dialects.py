"""What differs between PostgreSQL and SQLite: how JSON is built, text matched, many rows
inserted with few parameters; `dialect()` picks the connection's."""

from __future__ import annotations

import abc
import base64
import functools
import hashlib
import hmac
import json
import re
from typing import Any

import re2
from django.db import connection
from django.db.backends.signals import connection_created
from django.dispatch import receiver

from .deadline import past_sqlite_deadline
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

    # Whether numbers in the JSON `values_array` writes are read back as Decimal (exact, as
    # PostgreSQL's numeric) or as float (SQLite keeps decimals as REAL).
    exact_numbers: bool

    @abc.abstractmethod
    def values_array(self, values: list[Sql]) -> Sql:
        """These values as the text of a JSON array, each as the database writes it in JSON,
        so that binding it back as a parameter compares equal to the value."""

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
                     pairs: list[tuple[int, int]], returning: str | None = None) -> Sql:
        """Insert (first, second) rows, skipping those already there; bound as two (PostgreSQL)
        or one (SQLite) parameters however many rows there are. `returning`: a column whose
        value comes back for each row inserted (not for those skipped)."""

    @abc.abstractmethod
    def regex_error(self, pattern: str) -> str | None:
        """Why `regex(column)` cannot run this pattern, for the client; None when it can."""

    @abc.abstractmethod
    def hmac_sha256(self, key: bytes, message: Sql) -> Sql:
        """The HMAC-SHA256 of the text `message` under `key`, as hex digits (the same as
        Python's hmac.new(key, message.encode(), "sha256").hexdigest())."""

    @abc.abstractmethod
    def base64(self, text: Sql) -> Sql:
        """The base64 of the UTF-8 bytes of the text `text`, in one line (the same as Python's
        base64.b64encode(text.encode()).decode())."""


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

    exact_numbers = True

    def values_array(self, values):
        return "json_build_array(" + Sql.join(", ", values) + ")::text"

    def id_list(self, ids):
        return Sql("SELECT unnest(CAST(%s AS bigint[]))", [list(ids)])

    def empty_list(self):
        return Sql("'[]'::json")

    def insert_rows(self, table, columns, values):
        names = ", ".join(name for name, _ in columns)
        arrays = ", ".join(f"CAST(%s AS {kind}[])" for _, kind in columns)
        return Sql(f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) RETURNING id",
                   values)

    def insert_pairs(self, table, first, second, pairs, returning=None):
        back = f" RETURNING {returning}" if returning else ""
        return Sql(f"INSERT INTO {table} ({first}, {second}) SELECT * FROM "
                   "unnest(CAST(%s AS bigint[]), CAST(%s AS bigint[])) ON CONFLICT DO NOTHING"
                   + back, [[p[0] for p in pairs], [p[1] for p in pairs]])

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

    def hmac_sha256(self, key, message):
        # RFC 2104 over the built-in sha256() (pgcrypto's hmac() is an extension), the key's
        # two pads bound as parameters
        padded = key.ljust(64, b"\0")
        inner, outer = (bytes(b ^ pad for b in padded) for pad in (0x36, 0x5C))
        return ("encode(sha256(" + Sql("CAST(%s AS bytea)", [outer]) + " || sha256("
                + Sql("CAST(%s AS bytea)", [inner]) + " || convert_to(" + message
                + ", 'UTF8'))), 'hex')")

    def base64(self, text):
        # encode() breaks its base64 into lines of 76 characters
        return "replace(encode(convert_to(" + text + ", 'UTF8'), 'base64'), chr(10), '')"

    def matches(self, column, negate=False):
        return Sql(f"{column} {'NOT ' if negate else ''}ILIKE %s ESCAPE '\\'")

    def regex(self, column):
        return Sql(f"{column} ~ %s")

    def regex_error(self, pattern):
        # PostgreSQL's own engine runs it, stopped by the statement timeout; the check before
        # stays Python's re (close to its syntax), as it was
        try:
            re.compile(pattern)
        except re.error as error:
            return str(error)
        return None


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

    def insert_pairs(self, table, first, second, pairs, returning=None):
        # "WHERE true": as in insert_rows, before a RETURNING
        back = f" WHERE true RETURNING {returning}" if returning else ""
        return Sql(f"INSERT OR IGNORE INTO {table} ({first}, {second}) SELECT "
                   "json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(%s)"
                   + back, [json.dumps(pairs)])

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

    exact_numbers = False

    def values_array(self, values):
        # json_array writes a REAL with 15 digits, which may read back as another double;
        # 17 always read back as the same one
        exact = ["CASE typeof(" + v + ") WHEN 'real' THEN json(printf('%%!.17g', " + v
                 + ")) ELSE " + v + " END" for v in values]
        return "json_array(" + Sql.join(", ", exact) + ")"

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

    def hmac_sha256(self, key, message):
        return "mortar_hmac_sha256(" + Sql("%s", [key]) + ", " + message + ")"

    def base64(self, text):
        return "mortar_base64(" + text + ")"

    def matches(self, column, negate=False):
        return Sql(f"{column} {'NOT ' if negate else ''}LIKE %s ESCAPE '\\'")

    def regex(self, column):
        return Sql(f"mortar_regex({column}, %s)")

    def regex_error(self, pattern):
        try:
            re2.compile(pattern, _RE2_OPTIONS)
        except re2.error as error:
            reason = error.args[0] if error.args else ""
            if isinstance(reason, bytes):
                reason = reason.decode(errors="replace")
            return (f"{reason}; regular expressions here are RE2's: no backreferences or "
                    "lookaround")
        return None


@functools.cache
def dialect() -> Dialect:
    return Postgres() if connection.vendor == "postgresql" else Sqlite()


# SQLite's regex: RE2 matches in time linear in the text whatever the pattern (Python's re
# backtracks: `^(a+)+$` against 40 characters takes hours inside one function call, which the
# statement timeout cannot interrupt), and releases the GIL while it matches. max_mem bounds
# the program's size and each cached pattern's memory (RE2's default is 8 MiB).
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.max_mem = 1 << 20
_RE2_OPTIONS.never_capture = True  # only whether it matches is asked
_RE2_OPTIONS.log_errors = False  # a refused pattern is the client's error, answered to it


def _regex(raw_connection, text: str | None, pattern: str | None) -> bool | None:
    if text is None or pattern is None:
        return None
    if past_sqlite_deadline():  # stopped as the progress handler stops a statement: TIMEOUT
        raw_connection.interrupt()
        return None
    return re2.compile(pattern, _RE2_OPTIONS).search(text) is not None  # compiled: cached


def _hmac_sha256(key: bytes | None, message: str | None) -> str | None:
    if key is None or message is None:
        return None
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _base64(text: str | None) -> str | None:
    if text is None:
        return None
    return base64.b64encode(str(text).encode()).decode("ascii")


@receiver(connection_created)
def _add_sqlite_functions(sender, connection, **kwargs) -> None:
    """SQLite has no HMAC, no safe regex and no base64: Sqlite.hmac_sha256, Sqlite.regex and
    Sqlite.base64 call these (connected in DataApiConfig)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "mortar_regex", 2, functools.partial(_regex, connection.connection),
            deterministic=True)
        connection.connection.create_function("mortar_hmac_sha256", 2, _hmac_sha256,
                                              deterministic=True)
        connection.connection.create_function("mortar_base64", 1, _base64, deterministic=True)
