"""Inserting many records of a runtime class at once, their ids back in order."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils import timezone

from models_registry.runtime import RuntimeRecord

from .sql import q


def insert_records(cls: type[RuntimeRecord], rows: list[dict[str, Any]]) -> list[int]:
    """Insert records (values by attname; absent fields take their defaults); their ids.

    PostgreSQL: one statement with one array parameter per column (INSERT ... SELECT FROM
    unnest(...) RETURNING id), about a third cheaper than Django's bulk_create, whose statement
    carries one parameter per value. Elsewhere: Django's bulk_create. Both rely on the database
    returning ids in insertion order, as Django's bulk_create does.
    """
    if connection.vendor != "postgresql":
        objects = [cls(**row) for row in rows]
        cls.objects.bulk_create(objects)
        return [obj.pk for obj in objects]
    now = timezone.now()
    fields = [f for f in cls._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    defaults.update(created_at=now, updated_at=now)
    arrays = [[f.get_db_prep_save(row.get(f.attname, defaults[f.attname]), connection)
               for row in rows] for f in fields]
    columns = ", ".join(q(f.column) for f in fields)
    unnest = ", ".join(f"CAST(%s AS {f.db_type(connection)}[])" for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {q(cls._meta.db_table)} ({columns}) "
                       f"SELECT * FROM unnest({unnest}) RETURNING id", arrays)
        return [row[0] for row in cursor.fetchall()]
