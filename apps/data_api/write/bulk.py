"""Inserting many records of a runtime class at once, their ids back in order."""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from models_registry.runtime import RuntimeRecord

from ..sql.dialects import dialect
from ..sql.text import q


def insert_records(cls: type[RuntimeRecord], rows: list[dict[str, Any]]) -> list[int]:
    """Insert records (values by attname; absent fields take their defaults); their ids, in
    the order of `rows`.

    One statement, however many rows: PostgreSQL gets one array parameter per column, SQLite
    one JSON parameter for all (Django's bulk_create binds one parameter per value, which on
    SQLite splits 1,000 rows into 9 statements and costs a third more on PostgreSQL). Values
    are prepared by each field, as Django's own inserts do. Ids come from an increasing
    sequence, so sorted they follow the rows.
    """
    now = timezone.now()
    fields = [f for f in cls._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    defaults.update(created_at=now, updated_at=now)
    wrapper = connections[DEFAULT_DB_ALIAS]  # not the proxy: it is asked once per value
    columns = [[f.get_db_prep_save(row.get(f.attname, defaults[f.attname]), wrapper)
                for row in rows] for f in fields]
    insert = dialect().insert_rows(
        q(cls._meta.db_table), [(q(f.column), f.db_type(wrapper)) for f in fields], columns)
    with connection.cursor() as cursor:
        cursor.execute(insert.text, insert.params)
        return sorted(row[0] for row in cursor.fetchall())
