"""The planner as a spec: for a few representative reads, the SQL it writes (kept in
`planner/<case>.<database>.sql`, beside the result it gives) and the result itself.

No HTTP: a document goes to the planner with the demo's runtime models and a principal's
permissions, and its one statement runs. Table and column names are written as the model and
property names they stand for (`"Task"."name"`), so the files read as SQL and do not depend
on the ids the database gave. A change in the SQL shows as a diff of these files in review;
`MORTAR_UPDATE_SNAPSHOTS=1 make test PYTEST_ARGS=tests/data_api/test_planner.py` writes them
anew.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from django.db import connection
from graphql import parse
from graphql.execution.collect_fields import collect_fields
from graphql.language import FragmentDefinitionNode

from apps.data_api.context import Context
from apps.data_api.read.results import field_json
from apps.data_api.request.schemas import api_schema
from apps.data_api.schema.roles import role_of
from apps.data_api.sql.text import Sql
from apps.identity.access import Access, Rule
from apps.identity.models import Permission
from apps.identity.principals import SERVER, Principal

SNAPSHOTS = Path(__file__).parent / "planner"
BETTY = Principal("user", user_id=1, auth_profile="web-users")

CASES = {
    "page_with_count": (
        "{ allTask(where: { done: { eq: false } }, sort: { field: endDate, order: DESC }, "
        "limit: 2) { totalCount results { id name endDate project { name } } } }",
        SERVER, {},
        {"totalCount": 14, "results": [
            {"id": 20, "name": "Celebrate launch", "endDate": "2025-05-26",
             "project": {"name": "Marketing"}},
            {"id": 19, "name": "Collect feedback", "endDate": "2025-05-19",
             "project": {"name": "Office move"}}]}),
    "nested_has_many_with_where_and_sort": (
        "{ allProject(limit: 2) { results { name tasks(where: { done: { eq: true } }, "
        "sort: { field: name, order: DESC }, limit: 2) { name done } } } }",
        SERVER, {},
        {"results": [
            {"name": "Website", "tasks": [{"name": "Test on mobile", "done": True},
                                          {"name": "Set up hosting", "done": True}]},
            {"name": "Office move", "tasks": [{"name": "Design homepage", "done": True},
                                              {"name": "Configure DNS", "done": True}]}]}),
    "filter_through_habtm": (
        '{ allWebUser(where: { roles: { name: { eq: "editor" } } }) '
        "{ results { email roles(sort: { field: name }) { name } } } }",
        SERVER, {},
        {"results": [{"email": "betty@example.com",
                      "roles": [{"name": "admin"}, {"name": "editor"}]},
                     {"email": "bob@example.com", "roles": [{"name": "editor"}]}]}),
    "permission_condition": (
        "{ allWebUser { totalCount results { email company { name } roles { name } } } }",
        BETTY, {("WebUser", "read"): Rule(Permission.Access.AUTHENTICATED, frozenset(),
                                          {"id": {"eq": "$currentUser"}}),
                ("Role", "read"): Rule(Permission.Access.PUBLIC, frozenset(), None)},
        # Company is not readable: left empty (the executor adds a FORBIDDEN at its path)
        {"totalCount": 1, "results": [
            {"email": "betty@example.com", "company": None,
             "roles": [{"name": "admin"}, {"name": "editor"}]}]}),
}


def readable(sql: str, built) -> str:
    """The statement with model and property names for table and column names, one clause a
    line, indented by subquery depth."""
    names = {}
    for cls in built.by_id.values():
        spec = cls._mortar
        names[spec.data_model.table_name] = spec.name
        for name, prop in spec.properties.items():
            names[prop.attname] = f"{spec.name}.{name}"
        for name, end in spec.ends.items():
            if end.side == "source":
                names[end.relation.attname] = f"{spec.name}.{name}"
                names[f"mortar_j{end.relation.pk}"] = f"{spec.name}.{name} links"
    sql = re.sub(r'"?\b(mortar_[tj]\d+|[pr]\d+)\b"?',
                 lambda m: f'"{names[m[1]]}"' if m[1] in names else m[0], sql)
    lines, depth = [], 0
    for part in re.split(r"(?=\b(?:SELECT|FROM|WHERE|ORDER BY|LIMIT|JOIN)\b)", sql):
        if part.strip():
            lines.append("  " * depth + part.strip())
        depth += part.count("(") - part.count(")")
    return "\n".join(lines)


class Unchanged:
    """The freshness check as a constant column, so that the plan depends on the query."""

    def column(self) -> Sql:
        return Sql("1")

    def check(self, unchanged) -> None:
        assert unchanged


def plan_and_run(demo, query: str, principal: Principal, rules: dict) -> tuple[str, dict]:
    """The statements the planner wrote for the query's one field (readable), and its value."""
    api = api_schema(demo)
    model_ids = {cls._mortar.name: pk for pk, cls in api.built.by_id.items()}
    access = Access(principal, {(model_ids[model], operation): rule
                                for (model, operation), rule in rules.items()},
                    {"web-users": model_ids["WebUser"]})  # BETTY's profile
    document = parse(query)
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    (nodes,) = collect_fields(api.schema, fragments, {}, api.schema.query_type,
                              document.definitions[0].selection_set).values()
    field_def = api.schema.query_type.fields[nodes[0].name.value]
    role = role_of(field_def)

    context = Context(api.built, api.schema, demo, Unchanged(), access, fragments, {})
    executed = []

    def capture(execute, sql, params, many, context):
        executed.append(readable(sql, api.built) + "\n-- params: " + json.dumps(
            params, default=str))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        value = json.loads(field_json(context, role.action, role.model, field_def, nodes))
    return "\n\n".join(executed), value


@pytest.mark.parametrize("case", CASES)
def test_the_planner_writes_this_sql_for_this_result(demo, case):
    query, principal, rules, expected = CASES[case]
    sql, value = plan_and_run(demo, query, principal, rules)
    assert value == expected
    snapshot = SNAPSHOTS / f"{case}.{connection.vendor}.sql"
    text = (f"-- {query}\n-- result: {json.dumps(value)}\n\n{sql}\n")
    if os.environ.get("MORTAR_UPDATE_SNAPSHOTS"):
        SNAPSHOTS.mkdir(exist_ok=True)
        snapshot.write_text(text)
    assert snapshot.exists(), f"no {snapshot.name}: run with MORTAR_UPDATE_SNAPSHOTS=1"
    assert text == snapshot.read_text(), (
        f"the planner's SQL for {case} changed: review the diff, then write it anew with "
        "MORTAR_UPDATE_SNAPSHOTS=1")
