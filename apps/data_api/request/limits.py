"""Request limits checked before any SQL runs: top-level fields and nesting depth."""

from __future__ import annotations

from graphql import GraphQLObjectType, GraphQLSchema, get_named_type, is_abstract_type
from graphql.execution.collect_fields import collect_sub_fields
from graphql.language import FieldNode

from models_registry.models import Application

from ..errors import QueryTooComplex


def depths(schema: GraphQLSchema, root: GraphQLObjectType, fragments: dict, variables: dict,
           top_level: dict[str, list[FieldNode]], record_types: set[str]) -> dict[str, int]:
    """How many record levels each top-level field (a field of `root`) opens."""
    return {key: _depth(schema, fragments, variables, root, nodes, record_types)
            for key, nodes in top_level.items()}


def check_limits(measured: dict[str, int], application: Application) -> None:
    """Refuse more top-level fields or deeper nesting than the application allows;
    `measured` is what `depths` says."""
    if len(measured) > application.max_top_level_fields:
        raise QueryTooComplex(
            f"This request asks for {len(measured)} top-level fields; at most "
            f"{application.max_top_level_fields} are allowed. Split it into several requests.",
            limit=application.max_top_level_fields)
    for key, depth in measured.items():
        if depth > application.max_depth:
            raise QueryTooComplex(
                f"{key} nests records {depth} deep; at most {application.max_depth} levels are "
                "allowed (allTask → project → tasks is 3). Ask for the deeper records in a "
                "separate request.", limit=application.max_depth, path=[key])


def _depth(schema, fragments, variables, parent: GraphQLObjectType, nodes: list[FieldNode],
           record_types: set[str]) -> int:
    """How many record levels the field of `nodes` (a field of `parent`) opens."""
    field_def = parent.fields.get(nodes[0].name.value)
    if field_def is None:  # __typename and introspection
        return 0
    named = get_named_type(field_def.type)
    if is_abstract_type(named):  # node/nodes: as deep as the deepest of the record types
        return max((_levels(schema, fragments, variables, kind, nodes, record_types)
                    for kind in schema.get_possible_types(named)), default=0)
    if not isinstance(named, GraphQLObjectType):
        return 0
    return _levels(schema, fragments, variables, named, nodes, record_types)


def _levels(schema, fragments, variables, named: GraphQLObjectType, nodes: list[FieldNode],
            record_types: set[str]) -> int:
    """How many record levels the field of `nodes`, whose value is a `named`, opens."""
    here = 1 if named.name in record_types else 0
    children = collect_sub_fields(schema, fragments, variables, named, nodes)
    deepest = max((_depth(schema, fragments, variables, named, child, record_types)
                   for child in children.values()), default=0)
    return here + deepest
