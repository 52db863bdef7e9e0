"""Run a top-level read field: its one statement, and the field's JSON text from the rows."""

from __future__ import annotations

import json

from django.db import connection
from graphql import GraphQLField
from graphql.language import FieldNode

from ..context import Context
from .planner import Planner, TopLevelPlan


def field_json(context: Context, action: str, model: str, field_def: GraphQLField,
               nodes: list[FieldNode], forbidden: list | None = None) -> str:
    """The JSON text of one top-level allX/oneX field: one statement (a second only to count
    when a page past the end, or of size 0, came back empty). Its last column says whether the
    application row is unchanged, checked before the rows are used. Relation fields left empty
    because the caller may not read their model are added to `forbidden` (path, refusal)."""
    planner = Planner(context.built, context.schema, context.fragments, context.variables,
                      context.application, context.freshness.column(), context.access)
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
