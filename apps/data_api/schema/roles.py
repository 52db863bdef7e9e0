"""What a root field of the schema does, carried on the field (graphql-core's `extensions`)
so that the request stage dispatches on it and never parses a field's name."""

from __future__ import annotations

from dataclasses import dataclass

from graphql import GraphQLField

QUERY_ACTIONS = ("all", "one")  # allTask, oneTask: per model
NODE_ACTIONS = ("node", "nodes")  # records of any model by their global ids
READ_ACTIONS = QUERY_ACTIONS + NODE_ACTIONS  # each planned into SQL by read/
MUTATION_ACTIONS = ("create", "createMany", "update", "updateMany", "upsert", "upsertMany",
                    "delete", "deleteMany", "restore", "restoreMany")  # restore*: a trash's
IDENTITY_ACTIONS = ("login", "refreshToken", "revokeRefreshToken", "generateJwt")


@dataclass(frozen=True)
class FieldRole:
    action: str  # one of the *_ACTIONS
    model: str | None = None  # the model's name; None for identity, node and nodes fields

    def field_name(self) -> str:
        return self.action + (self.model or "")


def with_role(field: GraphQLField, role: FieldRole) -> GraphQLField:
    field.extensions = {**(field.extensions or {}), "mortar": role}
    return field


def role_of(field: GraphQLField) -> FieldRole | None:
    return (field.extensions or {}).get("mortar")
