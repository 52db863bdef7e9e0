"""What each property kind is to the data API: one row per kind of `models_registry.kinds`.

A row says the GraphQL type a kind is read as and written with, its `where` input type,
whether it can be sorted by or named in upsert's `uniqueBy`, how the planner selects its
column and how a mutation's input becomes the stored value. Types are named here, not
imported: `schema/` turns the names into types, and `read/` and `write/` use this table
without the schema builder.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from models_registry.models import Property
from models_registry.specs import ModelSpec


class Read(enum.Enum):
    """How the planner selects a column as JSON."""

    PLAIN = "plain"
    DECIMAL = "decimal"  # a string, exactly
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    JSON = "json"
    FILE = "file"  # {name url size contentType}


class Write(enum.Enum):
    """How a mutation's input value becomes the stored one."""

    PLAIN = "plain"  # the model field's to_python, then the model's validations
    PASSWORD = "password"  # validated as plain text, stored hashed
    FILE = "file"  # a signed reference from POST /api/<app>/files


@dataclass(frozen=True)
class ApiKind:
    output: str | None  # the GraphQL type of its values (None: never readable)
    filter: str | None  # the input type of its `where` operators (None: not filterable)
    input: str | None  # the GraphQL type it is written with (None: not writable)
    sortable: bool = True
    unique_by: bool = True
    read: Read = Read.PLAIN
    write: Write = Write.PLAIN


_TEXT = ApiKind("String", "StringFilter", "String")
_DECIMAL = ApiKind("Decimal", "DecimalFilter", "Decimal", read=Read.DECIMAL)
_FILE = ApiKind("File", "PresenceFilter", "String", sortable=False, unique_by=False,
                read=Read.FILE, write=Write.FILE)

API_KINDS: dict[str, ApiKind] = {
    "text": _TEXT, "rich_text": _TEXT, "email": _TEXT, "url": _TEXT, "phone": _TEXT,
    "enum": _TEXT,
    "integer": ApiKind("Int", "IntFilter", "Int"),
    # the database assigns auto numbers: readable, not writable
    "auto_number": ApiKind("Int", "IntFilter", None, unique_by=False),
    "decimal": _DECIMAL, "price": _DECIMAL,
    "boolean": ApiKind("Boolean", "BooleanFilter", "Boolean", read=Read.BOOLEAN),
    "date": ApiKind("Date", "DateFilter", "Date"),
    "datetime": ApiKind("DateTime", "DateTimeFilter", "DateTime", read=Read.DATETIME),
    "time": ApiKind("Time", "TimeFilter", "Time"),
    "json": ApiKind("JSON", "PresenceFilter", "JSON", sortable=False, unique_by=False,
                    read=Read.JSON),
    "file": _FILE, "image": _FILE,
    # written, never read or filtered
    "password": ApiKind(None, None, "String", sortable=False, unique_by=False,
                        write=Write.PASSWORD),
}


def api_kind(prop: Property) -> ApiKind:
    return API_KINDS[prop.kind]


def readable_properties(spec: ModelSpec) -> dict[str, Property]:
    return {name: prop for name, prop in spec.properties.items()
            if API_KINDS[prop.kind].output is not None}


def writable_properties(spec: ModelSpec) -> dict[str, Property]:
    return {name: prop for name, prop in spec.properties.items()
            if API_KINDS[prop.kind].input is not None}
