"""SQL text with its bound parameters, and the names written into it.

Every value a client sends travels as a parameter; only names from the registry (table and
column names built from ids, quoted) and fixed keywords are written into the text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from models_registry.lru import report_cached


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


QUOTED_KEPT = 4096


@functools.lru_cache(maxsize=QUOTED_KEPT)
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


report_cached("quoted names", q)
