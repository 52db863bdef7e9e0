"""What a runtime class represents: its model's metadata, its fields by user name, and the
relation ends that lead to other models. Built once per runtime build (`runtime`) and read by
everything that turns user names into tables and columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models

from .models import DataModel, Property, Relation

# The fields every model has, by user name, and their columns.
SYSTEM_COLUMNS = {"id": "id", "createdAt": "created_at", "updatedAt": "updated_at"}
# The field of a model with a trash (column deleted_at): when a record was moved there.
DELETED_AT = "deletedAt"


@dataclass(eq=False)
class RelationEnd:
    """A relation seen from one of its models: `side` says which ("source" holds the
    belongs-to column or is habtm's first model), `target` the model at the other end."""

    relation: Relation
    side: str  # "source" or "target"
    target: ModelSpec

    @property
    def many(self) -> bool:
        """The field is a list: has-many (the target side of a belongs-to) or habtm."""
        return self.relation.kind != Relation.Kind.BELONGS_TO or self.side == "target"

    @property
    def has_many(self) -> bool:
        """A list whose records point at this one with their belongs-to column."""
        return self.relation.kind == Relation.Kind.BELONGS_TO and self.side == "target"

    @property
    def habtm(self) -> bool:
        return self.relation.kind == Relation.Kind.HABTM

    @property
    def attname(self) -> str:
        """The runtime attribute of this end on its own model (`r12`, `r12_set`, `m3`)."""
        return relation_attname(self.relation, self.side)

    @property
    def link_columns(self) -> tuple[str, str]:
        """habtm: the link table's (column of this end's record, column of the other's)."""
        return ("a_id", "b_id") if self.side == "source" else ("b_id", "a_id")


@dataclass(eq=False)
class ModelSpec:
    """What one runtime class represents."""

    data_model: DataModel
    properties: dict[str, Property] = field(default_factory=dict)  # by user name
    ends: dict[str, RelationEnd] = field(default_factory=dict)  # relation fields by user name
    model_class: type[models.Model] | None = None  # the runtime class, once it is built

    @property
    def name(self) -> str:
        return self.data_model.name

    @property
    def pk(self) -> int:
        return self.data_model.pk

    def attname(self, field_name: str) -> str:
        """The runtime attribute behind a user field name (`endDate` -> `p12`)."""
        if field_name in SYSTEM_COLUMNS:
            return SYSTEM_COLUMNS[field_name]
        if field_name in self.properties:
            return self.properties[field_name].attname
        return self.ends[field_name].attname


def relation_attname(relation: Relation, side: str) -> str:
    base = f"r{relation.pk}" if relation.kind == Relation.Kind.BELONGS_TO else f"m{relation.pk}"
    return base if side == "source" else f"{base}_set"
