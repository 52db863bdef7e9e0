"""How a record reaches its related records in SQL, for filters and for reading alike."""

from __future__ import annotations

from models_registry.models import Relation
from models_registry.specs import RelationEnd

from ..sql.text import Aliases, Sql, q


def related_rows(end: RelationEnd, outer: str, aliases: Aliases) -> tuple[str, Sql]:
    """(alias of the related table, "FROM ... WHERE <joined to outer>") for one relation end."""
    inner = aliases.next()
    relation = end.relation
    table = q(end.target.data_model.table_name)
    if relation.kind == Relation.Kind.BELONGS_TO:
        column = q(relation.attname)
        if end.side == "source":  # Task.project: the related record is the one pointed at
            return inner, Sql(f"FROM {table} {inner} WHERE {inner}.id = {outer}.{column}")
        return inner, Sql(f"FROM {table} {inner} WHERE {inner}.{column} = {outer}.id")
    link = aliases.next()
    near, far = end.link_columns
    return inner, Sql(
        f"FROM {table} {inner} JOIN {q(f'mortar_j{relation.pk}')} {link} "
        f"ON {link}.{far} = {inner}.id WHERE {link}.{near} = {outer}.id"
    )
