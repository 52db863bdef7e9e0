"""What a change event keeps of its record's values (never a password, whose kind keeps no
history; a file by its reference, the stored {name, key, size, contentType}): a create, all
of them; an update, those of the fields it set; a delete, none.

The values are read by the database in the INSERT of the events (`snapshot_sql`), from the
rows the write left, so a write spends no statement on them, and an update only builds the
few fields it set (all of them cost updateMany over 10,000 rows three times the events' time:
measured, bench/mutations.py). A record's events are thus its versions: its values after a
change are what its events up to it set (`record_history` replays them), and before it, what
the ones before it set.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils import timezone

from .kinds import KINDS
from .runtime import RuntimeRecord

# The most pairs one JSON-building call takes (PostgreSQL's functions take 100 arguments,
# SQLite's 127 unless built otherwise).
PAIRS_PER_CALL = 40


def kept_columns(cls: type[RuntimeRecord]) -> dict[str, tuple[str, str]]:
    """API name -> (column, how it goes in JSON: "json" nested, "decimal:<places>" as text, ""
    as it is) of what snapshots of `cls` keep, in field order. Decimals go as text: a JSON
    number is read back as a float, which no decimal survives exactly."""
    spec = cls._mortar
    kept = {}
    for name, prop in spec.properties.items():
        if KINDS[prop.kind].kept_in_history:
            field = cls._meta.get_field(prop.attname)
            kept[name] = (field.column, "json" if isinstance(field, models.JSONField)
                          else f"decimal:{field.decimal_places}"
                          if isinstance(field, models.DecimalField) else "")
    for name, end in spec.ends.items():
        if not end.many:
            kept[name] = (cls._meta.get_field(end.attname).column, "")
    return kept


def _as_json_value(column: str, how: str) -> str:
    """A column's value as the snapshot keeps it (the data API's way for decimals: exact text
    of PostgreSQL's numeric, SQLite's number with the property's places)."""
    if how.startswith("decimal:"):
        places = int(how.partition(":")[2])
        return (f"CAST({column} AS text)" if connection.vendor == "postgresql"
                else f"printf('%%.{places}f', {column})")  # %% : the INSERT takes parameters
    if how == "json" and connection.vendor != "postgresql":
        return f"json({column})"  # SQLite keeps JSON as text: json() nests it
    return column


def snapshot_sql(cls: type[RuntimeRecord], alias: str, names: Iterable[str] | None = None
                 ) -> str | None:
    """A JSON object of the row `alias` of `cls`'s table: the kept fields among `names` (all
    kept fields without them); None when none of `names` is kept."""
    kept = kept_columns(cls)
    quote = connection.ops.quote_name
    pairs = [(name, _as_json_value(f"{alias}.{quote(kept[name][0])}", kept[name][1]))
             for name in (kept if names is None else names) if name in kept]
    if not pairs and names is not None:
        return None
    chunks = [pairs[at:at + PAIRS_PER_CALL] for at in range(0, len(pairs), PAIRS_PER_CALL)]
    if connection.vendor == "postgresql":
        return " || ".join(
            "jsonb_build_object(" + ", ".join(f"'{name}', {value}" for name, value in chunk)
            + ")" for chunk in chunks) if chunks else "'{}'::jsonb"
    built = "json_object()"
    for number, chunk in enumerate(chunks):
        args = ", ".join(f"'{'$.' if number else ''}{name}', {value}" for name, value in chunk)
        built = f"json_object({args})" if number == 0 else f"json_set({built}, {args})"
    return built


def known_values(cls: type[RuntimeRecord], values: dict[str, Any]) -> str | None:
    """The JSON text of the kept ones among stored values a writer gave (by runtime attribute:
    `p12`, `r3_id`), as `snapshot_sql` would read them back; None when none is kept."""
    kept = kept_columns(cls)
    by_attname = {}
    for name in kept:
        field = cls._meta.get_field(cls._mortar.attname(name))
        by_attname[field.attname] = by_attname[field.name] = name
    found = {by_attname[attname]: value for attname, value in values.items()
             if attname in by_attname}
    if not found or any(isinstance(value, decimal.Decimal) for value in found.values()):
        return None  # a decimal is stored rounded, each database its own way: read it back
    return json.dumps(found, cls=DjangoJSONEncoder)


def readable(cls: type[RuntimeRecord] | None, values: dict | None) -> dict | None:
    """A snapshot as the API writes values (decimals and times as text, booleans as booleans,
    the same on both databases); a field the model no longer has is given as stored."""
    if values is None or cls is None:
        return values
    fields = _fields_by_name(cls)
    # A property that is a password now: what it held as text before is no more shown
    secret = {name for name, prop in cls._mortar.properties.items()
              if not KINDS[prop.kind].kept_in_history}
    shown = {}
    for name, value in values.items():
        found = fields.get(name)
        if name in secret:
            continue
        if found is None or value is None:
            shown[name] = value
            continue
        field, kind = found
        try:
            python = _python(field, value)
            shown[name] = kind.to_json(python) if kind else python
        except (ValidationError, TypeError, ValueError):  # of another kind then
            shown[name] = value
    return shown


def _python(field: models.Field, value: Any) -> Any:
    python = field.to_python(value)
    if isinstance(python, dt.datetime) and timezone.is_naive(python):
        python = timezone.make_aware(python, dt.UTC)  # SQLite's text is UTC
    return python


def restorable(cls: type[RuntimeRecord], values: dict) -> dict[str, Any]:
    """The runtime attributes (`p12`, `r3_id`) and values that put a record back to a snapshot:
    only what the model still has, and never a password or the record's id."""
    restored = {}
    for name, (field, _) in _fields_by_name(cls).items():  # in the model's order
        if name in values:
            value = values[name]
            try:
                restored[field.attname] = None if value is None else _python(field, value)
            except (ValidationError, TypeError, ValueError):
                continue  # the field was of another kind then: left as it is
    return restored


def api_names(cls: type[RuntimeRecord]) -> dict[str, str]:
    """Runtime attribute (`p12`, `r3_id`) -> API name of what snapshots keep (`restorable`'s
    keys back to the names events list)."""
    return {field.attname: name for name, (field, _) in _fields_by_name(cls).items()}


def _fields_by_name(cls: type[RuntimeRecord]) -> dict[str, tuple[models.Field, Any]]:
    """API name -> (model field, kind or None for a reference) of what snapshots keep."""
    spec = cls._mortar
    fields = {name: (cls._meta.get_field(prop.attname), KINDS[prop.kind])
              for name, prop in spec.properties.items() if KINDS[prop.kind].kept_in_history}
    fields.update((name, (cls._meta.get_field(end.attname), None))
                  for name, end in spec.ends.items() if not end.many)
    return fields
