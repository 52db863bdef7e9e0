"""Run a top-level read field: its one statement (one per model for `node`/`nodes`), and the
field's JSON text from the rows."""

from __future__ import annotations

import json
from typing import Any

from django.db import connection
from graphql import GraphQLField
from graphql.language import FieldNode

from ..context import Context
from .planner import Planner, TopLevelPlan

NODE_ACTIONS = ("node", "nodes")


def field_json(context: Context, action: str, model: str | None, field_def: GraphQLField,
               nodes: list[FieldNode], forbidden: list | None = None) -> str:
    """The JSON text of one top-level allX/oneX field: one statement (a second only to count
    when a page past the end, or of size 0, came back empty). Its last column says whether the
    application row is unchanged, checked before the rows are used. Relation fields left empty
    because the caller may not read their model are added to `forbidden` (path, refusal).
    `node`/`nodes`: see `node_records`."""
    if action in NODE_ACTIONS:
        found = node_records(context, action, field_def, nodes, forbidden)
        texts = ["null" if text is None else text for _, text in found]
        return texts[0] if action == "node" else "[" + ",".join(texts) + "]"
    planner = _planner(context)
    plan = planner.plan(action, model, field_def, nodes)
    if forbidden is not None:
        forbidden.extend(planner.forbidden)
    with connection.cursor() as cursor:
        cursor.execute(plan.sql.text, plan.sql.params)
        rows = cursor.fetchall()
        if rows:
            context.freshness.check(rows[0][-1])
        if plan.shape == "one":
            return rows[0][0] if rows else "null"
        if plan.shape == "count":
            return result_set_json(plan, [], rows[0][0])
        count = None
        if plan.count_sql is not None:
            if rows:
                count = rows[0][1]
            elif plan.offset or plan.limit == 0:  # an empty page says nothing of the count
                cursor.execute(plan.count_sql.text, plan.count_sql.params)
                count = cursor.fetchone()[0]
            else:
                count = 0
    return result_set_json(plan, rows, count)


def field_value(context: Context, action: str, model: str | None, field_def: GraphQLField,
                nodes: list[FieldNode]) -> Any:
    """The value of one top-level read field for graphql-core's executor: its JSON parsed, each
    record of `node`/`nodes` a `TypedRecord` (the executor needs its type: the JSON has only
    the keys the client asked for)."""
    if action not in NODE_ACTIONS:
        return json.loads(field_json(context, action, model, field_def, nodes))
    found = [None if text is None else TypedRecord(type_name, json.loads(text))
             for type_name, text in node_records(context, action, field_def, nodes)]
    return found[0] if action == "node" else found


class TypedRecord(dict):
    """A record's JSON members, and the name of its type (the `Node` interface's resolve_type
    reads it)."""

    def __init__(self, type_name: str, members: dict):
        super().__init__(members)
        self.type_name = type_name


def node_records(context: Context, action: str, field_def: GraphQLField,
                 nodes: list[FieldNode],
                 forbidden: list | None = None) -> list[tuple[str | None, str | None]]:
    """(type name, JSON text) of each record a `node`/`nodes` field asks for, in order;
    (None, None) for each that does not exist or that the caller may not read. One statement
    per model the ids name, each checking the application row as allX's does."""
    planner = _planner(context)
    plan = planner.plan_nodes(action, field_def, nodes)
    if forbidden is not None:
        forbidden.extend(planner.forbidden)
    found: dict[tuple[str, int], str] = {}
    with connection.cursor() as cursor:
        for model, sql in plan.statements.items():
            cursor.execute(sql.text, sql.params)
            rows = cursor.fetchall()
            if rows:
                context.freshness.check(rows[0][-1])
            found.update(((model, row[0]), row[1]) for row in rows)
    return [(key[0], found[key]) if key in found else (None, None) for key in plan.asked]


def _planner(context: Context) -> Planner:
    return Planner(context.built, context.schema, context.fragments, context.variables,
                   context.application, context.freshness.column(), context.access)


def result_set_json(plan: TopLevelPlan, rows: list[tuple], count: int | None) -> str:
    """The JSON text of an allX field from its statement's rows."""
    members = []
    for key, name in plan.keys:
        if name == "results":
            value = "[" + ",".join(row[0] for row in rows) + "]"
        elif name == "totalCount":
            value = str(count)
        else:
            value = json.dumps(plan.type_name)
        members.append(json.dumps(key) + ":" + value)
    return "{" + ",".join(members) + "}"
