"""Run a top-level read field: its one statement (one per model for `node`/`nodes`), and the
field's JSON text from the rows."""

from __future__ import annotations

import dataclasses
import json
from operator import itemgetter
from typing import Any

from django.db import connection
from graphql import GraphQLField
from graphql.language import FieldNode

from ..context import Context
from ..sql.text import Sql
from .planner import Planner, TopLevelPlan

NODE_ACTIONS = ("node", "nodes")


def field_json(context: Context, action: str, model: str | None, field_def: GraphQLField,
               nodes: list[FieldNode], forbidden: list | None = None) -> str:
    """The JSON text of one top-level allX/oneX field: one statement (a second only when a page
    past the end, after a cursor, or of size 0 came back empty, for the count and pageInfo its
    rows would have carried). Its last column says whether the
    application row is unchanged, checked before the rows are used. Relation fields left empty
    because the caller may not read their model are added to `forbidden` (path, refusal).
    `node`/`nodes`: see `node_records`."""
    if action in NODE_ACTIONS:
        found = node_records(context, action, field_def, nodes, forbidden)
        texts = ["null" if text is None else text for _, text in found]
        return texts[0] if action == "node" else "[" + ",".join(texts) + "]"
    plan, refused = _plan(context, action, model, field_def, nodes)
    if forbidden is not None:
        forbidden.extend(refused)
    with connection.cursor() as cursor:
        cursor.execute(plan.sql.text, plan.sql.params)
        rows = cursor.fetchall()
        if rows:
            context.freshness.check(rows[0][-1])
        if plan.shape == "one":
            return rows[0][0] if rows else "null"
        if plan.shape == "count":
            return result_set_json(plan, [], rows[0][0])
        count, other = None, None
        if rows:
            count, other = _same_in_every_row(plan, rows[0])
        elif plan.page.offset or plan.page.size == 0 or plan.page.from_cursor:
            # an empty page says nothing of the count, nor of the records before it
            count, other = _run_alone(cursor, plan)
        else:
            count, other = 0, False
    return result_set_json(plan, rows, count, other)


def _same_in_every_row(plan: TopLevelPlan, row: tuple) -> tuple[int | None, bool | None]:
    count = row[plan.columns["count"]] if "count" in plan.columns else None
    other = bool(row[plan.columns["other"]]) if "other" in plan.columns else None
    return count, other


def _run_alone(cursor, plan: TopLevelPlan) -> tuple[int | None, bool | None]:
    """The count and "other" of a page without rows, in one statement of their own."""
    asked = [sql for sql in (plan.count_sql, plan.other_sql) if sql is not None]
    if not asked:
        return None, None
    sql = "SELECT " + Sql.join(", ", ["(" + part + ")" for part in asked])
    cursor.execute(sql.text, sql.params)
    found = list(cursor.fetchone())
    count = found.pop(0) if plan.count_sql is not None else None
    return count, None if plan.other_sql is None else bool(found[0])


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


def _plan(context: Context, action: str, model: str, field_def: GraphQLField,
          nodes: list[FieldNode]) -> tuple[TopLevelPlan, list]:
    """The field's plan and the relation fields it leaves empty: kept from an earlier request
    of the same shape when there is one (`plan_cache`)."""
    def make_planner(variables: dict | None) -> Planner:
        if variables is None:
            return _planner(context)
        return _planner(dataclasses.replace(context, variables={**context.variables,
                                                                **variables}))

    if context.plans is None:
        planner = _planner(context)
        return planner.plan(action, model, field_def, nodes), planner.forbidden
    return context.plans.plan(context.shape, make_planner, action, model, field_def, nodes)


def _planner(context: Context) -> Planner:
    return Planner(context.built, context.schema, context.fragments, context.variables,
                   context.application, context.freshness.column(), context.access)


def result_set_json(plan: TopLevelPlan, rows: list[tuple], count: int | None,
                    other: bool | None = None) -> str:
    """The JSON text of an allX field from its statement's rows (`plan.page.size` of them, and
    one more when it peeked past the page)."""
    page = plan.page
    more = page is not None and len(rows) > page.size
    rows = rows[:page.size] if page is not None else rows
    if page is not None and page.backward:
        rows = rows[::-1]
    cursors = _Cursors(plan, rows)
    members = []
    for key, name in plan.keys:
        if name == "results":
            column = plan.columns[(key,)]
            value = "[" + ",".join(map(itemgetter(column), rows)) + "]"
        elif name == "edges":
            value = "[" + ",".join(_edge(plan, key, row, cursors.of(index))
                                   for index, row in enumerate(rows)) + "]"
        elif name == "pageInfo":
            value = _page_info(plan, key, cursors, more, other)
        elif name == "totalCount":
            value = str(count)
        else:
            value = json.dumps(plan.type_name)
        members.append(json.dumps(key) + ":" + value)
    return "{" + ",".join(members) + "}"


class _Cursors:
    """The cursors of a page's rows, each made (signed) only when asked for."""

    def __init__(self, plan: TopLevelPlan, rows: list[tuple]):
        self.codec = plan.codec
        self.column = plan.columns.get("cursor")
        self.rows = rows

    def of(self, index: int) -> str | None:
        if self.column is None or not self.rows:
            return None
        return self.codec.encode(self.rows[index][self.column])


def _edge(plan: TopLevelPlan, key: str, row: tuple, cursor: str | None) -> str:
    members = []
    for member, name in plan.members[key]:
        if name == "node":
            value = row[plan.columns[(key, member)]]
        elif name == "cursor":
            value = json.dumps(cursor)
        else:
            value = json.dumps(plan.type_name.removesuffix("ResultSet") + "Edge")
        members.append(json.dumps(member) + ":" + value)
    return "{" + ",".join(members) + "}"


def _page_info(plan: TopLevelPlan, key: str, cursors: _Cursors, more: bool,
               other: bool | None) -> str:
    """Relay's PageInfo: the side the page was read towards has more when a row was found
    past it; the other side, when there are records on the cursor's far side (with no
    cursor: none; by offset: any skipped)."""
    page = plan.page
    before_start = page.offset > 0 if not page.from_cursor else bool(other)
    known = {"hasNextPage": before_start if page.backward else more,
             "hasPreviousPage": more if page.backward else before_start,
             "startCursor": cursors.of(0), "endCursor": cursors.of(len(cursors.rows) - 1),
             "__typename": "PageInfo"}
    return "{" + ",".join(json.dumps(member) + ":" + json.dumps(known[name])
                          for member, name in plan.members[key]) + "}"
