"""Scalars, filter inputs and other shared GraphQL types of the data API.

Output values are rendered by the database (see planner); these scalars validate and coerce what
clients send (literals and variables) and pass through what the planner produced.
"""

from __future__ import annotations

import decimal
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLID,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLString,
    ValueNode,
    value_from_ast_untyped,
)
from graphql.language import FloatValueNode, IntValueNode, StringValueNode

from models_registry.kinds import KINDS

from ..sql.global_ids import GLOBAL_ID_FIELD


def _scalar(name: str, kind: str, accepts: tuple[type, ...], description: str) -> GraphQLScalarType:
    """A scalar whose input is checked and converted by the property kind's own parser."""

    def parse_value(value: Any) -> Any:
        if not isinstance(value, accepts) or isinstance(value, bool):
            raise ValueError(f"expected a {KINDS[kind].label}")
        return KINDS[kind].parse(value)

    def parse_literal(node: ValueNode, variables=None) -> Any:
        if isinstance(node, StringValueNode):
            return parse_value(node.value)
        if isinstance(node, IntValueNode) and int in accepts:
            return parse_value(int(node.value))
        if isinstance(node, FloatValueNode) and float in accepts:
            return parse_value(node.value)  # the literal's digits, exactly
        raise ValueError(f"expected a {KINDS[kind].label}")

    return GraphQLScalarType(name, description=description, serialize=lambda v: v,
                             parse_value=parse_value, parse_literal=parse_literal)


Decimal = _scalar("Decimal", "decimal", (str, int, float, decimal.Decimal),
                  'An exact decimal number, as a string in JSON: "12.50".')
Date = _scalar("Date", "date", (str,), "A date in ISO 8601 form: 2024-01-31.")
DateTime = _scalar("DateTime", "datetime", (str,),
                   "A moment in ISO 8601 form with its zone: 2024-01-31T09:30:00+01:00.")
Time = _scalar("Time", "time", (str,), "A time of day: 09:30 or 09:30:15.")
JSON = GraphQLScalarType(
    "JSON", description="Any JSON value.", serialize=lambda v: v,
    parse_value=lambda v: v,
    parse_literal=lambda node, variables=None: value_from_ast_untyped(node, variables),
)

SortOrder = GraphQLEnumType(
    "SortOrder", {"ASC": GraphQLEnumValue("ASC"), "DESC": GraphQLEnumValue("DESC")}
)

File = GraphQLObjectType(
    "File",
    {
        "name": GraphQLField(GraphQLString),
        "url": GraphQLField(GraphQLString),
        "size": GraphQLField(GraphQLInt),
        "contentType": GraphQLField(GraphQLString),
    },
    description="A stored file: its name, where to download it, its size in bytes and type.",
)

Node = GraphQLInterfaceType(
    "Node",
    {GLOBAL_ID_FIELD: GraphQLField(
        GraphQLNonNull(GraphQLID),
        description="The record's global id: opaque; `node` and `nodes` find the record by it.")},
    # graphql-core's executor (introspection beside data) gets node records marked with their
    # type by read/results.field_value; planned reads never ask
    resolve_type=lambda value, info, abstract_type: getattr(value, "type_name", None),
    description="A record of any model of the application, found by its global id with "
                "`node(id:)` or `nodes(ids:)`.",
)

PageInfo = GraphQLObjectType(
    "PageInfo",
    {
        "hasNextPage": GraphQLField(
            GraphQLNonNull(GraphQLBoolean),
            description="Whether records follow this page: ask for them with `first` and "
                        "`after: endCursor`."),
        "hasPreviousPage": GraphQLField(
            GraphQLNonNull(GraphQLBoolean),
            description="Whether records come before this page: ask for them with `last` and "
                        "`before: startCursor`."),
        "startCursor": GraphQLField(GraphQLString,
                                    description="The first edge's cursor; null on an empty page."),
        "endCursor": GraphQLField(GraphQLString,
                                  description="The last edge's cursor; null on an empty page."),
    },
    description="Where a page of a list stands (Relay's cursor connections).",
)

COMMON_OPERATORS = ("eq", "neq", "in", "nin")
PRESENCE_OPERATORS = ("exists", "does_not_exist")
ORDER_OPERATORS = ("gt", "gteq", "lt", "lteq", "gte", "lte")
TEXT_OPERATORS = ("matches", "does_not_match", "starts_with", "ends_with", "regex")


def list_of(item):
    """[item!]!"""
    return GraphQLNonNull(GraphQLList(GraphQLNonNull(item)))


def _filter(name: str, scalar, operators: tuple[str, ...]) -> GraphQLInputObjectType:
    fields = {}
    for op in operators:
        if op in ("in", "nin"):
            fields[op] = GraphQLInputField(GraphQLList(GraphQLNonNull(scalar)))
        elif op in PRESENCE_OPERATORS:
            fields[op] = GraphQLInputField(
                GraphQLBoolean, description="true: has a value; false: has none.")
        else:
            fields[op] = GraphQLInputField(scalar)
    return GraphQLInputObjectType(name, fields)


_ALL = COMMON_OPERATORS + PRESENCE_OPERATORS
StringFilter = _filter("StringFilter", GraphQLString, _ALL + TEXT_OPERATORS)
IntFilter = _filter("IntFilter", GraphQLInt, _ALL + ORDER_OPERATORS)
DecimalFilter = _filter("DecimalFilter", Decimal, _ALL + ORDER_OPERATORS)
BooleanFilter = _filter("BooleanFilter", GraphQLBoolean, ("eq", "neq") + PRESENCE_OPERATORS)
DateFilter = _filter("DateFilter", Date, _ALL + ORDER_OPERATORS)
DateTimeFilter = _filter("DateTimeFilter", DateTime, _ALL + ORDER_OPERATORS)
TimeFilter = _filter("TimeFilter", Time, _ALL + ORDER_OPERATORS)
PresenceFilter = _filter("PresenceFilter", GraphQLBoolean, PRESENCE_OPERATORS)

# The types `kinds.API_KINDS` names.
NAMED_TYPES: dict[str, Any] = {t.name: t for t in (
    GraphQLString, GraphQLInt, GraphQLBoolean, Decimal, Date, DateTime, Time, JSON, File,
    StringFilter, IntFilter, DecimalFilter, BooleanFilter, DateFilter, DateTimeFilter,
    TimeFilter, PresenceFilter)}

PAGE_ARGUMENTS = {
    "skip": GraphQLArgument(GraphQLInt), "take": GraphQLArgument(GraphQLInt),
    "offset": GraphQLArgument(GraphQLInt), "limit": GraphQLArgument(GraphQLInt),
}
# Relay's: a nested list pages forward only (its records have no edges to carry cursors; those
# of allX with the same sort serve)
FORWARD_CURSOR_ARGUMENTS = {
    "first": GraphQLArgument(GraphQLInt, description="How many records, from the start or "
                                                     "after `after` (instead of limit)."),
    "after": GraphQLArgument(GraphQLString, description="A cursor (an edge's, or "
                                                        "pageInfo.endCursor): the records "
                                                        "after it."),
}
CURSOR_ARGUMENTS = {
    **FORWARD_CURSOR_ARGUMENTS,
    "last": GraphQLArgument(GraphQLInt, description="How many records, from the end or before "
                                                    "`before`."),
    "before": GraphQLArgument(GraphQLString, description="A cursor (an edge's, or "
                                                         "pageInfo.startCursor): the records "
                                                         "before it."),
}
