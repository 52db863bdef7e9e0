"""Keyset cursors (Relay's `after`/`before`): where a record stands in a sorted list.

A cursor holds the model, the sort and the record's values of its sort keys (`id` last, the
tiebreaker), signed with the secret key so that a client can neither forge nor edit one: the
values it carries go back into SQL as bound parameters of the comparison that starts the next
page. A page begins after the cursor's position, not after a count of rows, so records
inserted or deleted meanwhile move no record across the page boundary; and the database finds
that position through the sort's index instead of reading and skipping every row before it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.core import signing

from ..errors import BadUserInput
from ..sql.text import Sql


@dataclass(frozen=True)
class SortKey:
    """One key of a sort: its value's SQL, direction (nulls last ascending, first
    descending) and how the cursor's signature names it."""

    value: Sql
    ascending: bool
    label: str  # "title:text", "project.name:text", "id"
    nullable: bool = True  # False for the system columns: a plain comparison can use an index

    def reversed(self) -> SortKey:
        return replace(self, ascending=not self.ascending)

    def order(self) -> Sql:
        if not self.nullable:
            return self.value + (" ASC" if self.ascending else " DESC")
        # PostgreSQL's defaults, spelt out so that SQLite sorts nulls the same way.
        return self.value + (" ASC NULLS LAST" if self.ascending else " DESC NULLS FIRST")


def reversed_keys(keys: list[SortKey]) -> list[SortKey]:
    """The keys of the opposite order (the last page first)."""
    return [key.reversed() for key in keys]


def order_by(keys: list[SortKey]) -> Sql:
    return Sql.join(", ", [key.order() for key in keys])


def sort_signature(keys: list[SortKey]) -> list[str]:
    return [f"{key.label} {'ASC' if key.ascending else 'DESC'}" for key in keys]


class CursorCodec:
    """Cursors of the records of one model of one application under one sort."""

    def __init__(self, app: str, model: str, action: str, keys: list[SortKey],
                 exact_numbers: bool):
        self.model = model
        self.action = action  # where cursors of this model come from: "allTask"
        self.signature = sort_signature(keys)
        self.count = len(keys)
        self.exact_numbers = exact_numbers
        # the application's slug in the salt: a cursor of another application is no cursor
        self.signer = signing.Signer(salt=f"mortar.cursor:{app}")
        self.prefix = json.dumps([model, self.signature], separators=(",", ":"))[:-1] + ","

    def encode(self, values_json: str) -> str:
        """The cursor of the record whose sort keys' values are the JSON array `values_json`
        (`Dialect.values_array`)."""
        signed = self.signer.sign(self.prefix + values_json + "]")
        return base64.urlsafe_b64encode(signed.encode()).decode("ascii")

    def decode(self, cursor: str, place: str) -> list[Any]:
        """The values a cursor carries; BAD_USER_INPUT for one that is not of this model and
        sort (the message says what the client can do instead)."""
        try:
            signed = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
            text = self.signer.unsign(signed)
        except (ValueError, binascii.Error, UnicodeError, signing.BadSignature) as error:
            raise BadUserInput(
                f"{place}: this is not a cursor this application gave out. Pass on an edge's "
                "cursor or pageInfo's startCursor/endCursor unchanged, or leave it out to "
                "start from the beginning.", field=place) from error
        model, signature, values = json.loads(
            text, parse_float=Decimal if self.exact_numbers else float)
        if model != self.model:
            raise BadUserInput(f"{place}: this cursor is of a {model} record, not of a "
                               f"{self.model}: cursors are given out by the list they page "
                               f"through ({self.action}).", field=place)
        if signature != self.signature:
            raise BadUserInput(
                f"{place}: this cursor is of another sort ({', '.join(signature)}) than this "
                f"list's ({', '.join(self.signature)}). Page with the sort the cursor was "
                "given out with, or start again without a cursor.", field=place)
        return values


def after(keys: list[SortKey], values: list[Any], inclusive: bool = False) -> Sql:
    """The condition on the records that come after the position `values` in the order of
    `keys` (and, `inclusive`, the records at it): the lexicographic order over the keys, with
    nulls where SQL sorts them. Values are bound parameters; a null writes its own test.

    Written so that an index on the keys bounds the scan where it can: a key that cannot be
    null first also gets a plain bound (`created_at >= x AND (...)`), and the position itself,
    when included, by the last key's comparison (`id >= y`)."""
    last = len(keys) - 1
    alternatives = []
    for index, key in enumerate(keys):
        or_equal = inclusive and index == last and not key.nullable
        later = _later(key, values[index], or_equal)
        if later is not None:
            alternatives.append(Sql.join(" AND ", [*_equal(keys, values, index), later]))
    if inclusive and keys[last].nullable:
        alternatives.append(Sql.join(" AND ", _equal(keys, values, len(keys))))
    if not alternatives:
        return Sql("1 = 0")
    condition = "(" + Sql.join(" OR ", ["(" + a + ")" for a in alternatives]) + ")"
    first = keys[0]
    if len(alternatives) > 1 and not first.nullable:
        condition = _later(first, values[0], or_equal=True) + " AND " + condition
    return condition


def _equal(keys: list[SortKey], values: list[Any], count: int) -> list[Sql]:
    return [key.value + " IS NULL" if value is None else key.value + Sql(" = %s", [value])
            for key, value in zip(keys[:count], values[:count], strict=True)]


def _later(key: SortKey, value: Any, or_equal: bool = False) -> Sql | None:
    """The condition that `key` comes strictly after `value` (`or_equal`: or equals it, for
    a key that is never null); None when nothing can."""
    if key.ascending:  # nulls last: nothing comes after a null
        if value is None:
            return None
        if not key.nullable:
            return key.value + Sql(" >= %s" if or_equal else " > %s", [value])
        return "(" + key.value + Sql(" > %s OR ", [value]) + key.value + " IS NULL)"
    if value is None:  # descending, nulls first: every value comes after a null
        return key.value + " IS NOT NULL"
    return key.value + Sql(" <= %s" if or_equal else " < %s", [value])
