"""sort, pagination, relations in results, limits, errors, and the statement count per request."""

import pytest
from django.db import connection

from models_registry.models import Application
from models_registry.runtime import runtime_models

from .conftest import ids


def test_sort_by_a_list_applies_in_order_with_id_as_tiebreaker(api):
    data = api.data("{ allTask(sort: [{ field: priority, order: DESC }, { field: done }], "
                    "limit: 8) { results { id priority done } } }")
    rows = data["allTask"]["results"]
    assert [r["priority"] for r in rows] == ["medium"] * 7 + ["low"]
    assert ids(data["allTask"]) == [7, 10, 13, 16, 19, 1, 4, 9]


def test_sort_through_a_belongs_to_relation(api):
    data = api.data("{ allTask(sort: { relation: { project: { name: ASC } } }, limit: 20) "
                    "{ results { id project { name } } } }")
    names = [r["project"]["name"] for r in data["allTask"]["results"]]
    assert names == sorted(names)
    assert ids(data["allTask"])[:3] == [2, 5, 8]  # Marketing, ids ascending within


@pytest.mark.parametrize("page", ["limit: 3, offset: 4", "take: 3, skip: 4"])
def test_pages_and_total_count(api, page):
    data = api.data(f"{{ allTask({page}) {{ totalCount results {{ id }} }} }}")
    assert data["allTask"] == {"totalCount": 20, "results": [{"id": 5}, {"id": 6}, {"id": 7}]}


def test_total_count_of_a_page_past_the_end(api):
    data = api.data("{ allTask(offset: 500) { totalCount results { id } } }")
    assert data["allTask"] == {"totalCount": 20, "results": []}


def test_total_count_of_an_empty_page(api):
    """take: 0 asks for no records, not for a count of 0."""
    data = api.data("{ allTask(take: 0) { totalCount results { id } } }")
    assert data["allTask"] == {"totalCount": 20, "results": []}


def test_count_only(api, django_assert_num_queries):
    api.data("{ allTask { totalCount } }")  # warm: schema built, connection set up
    with django_assert_num_queries(1):  # the count; the application row is checked inside it
        data = api.data('{ allTask(where: { done: { eq: true } }) { totalCount __typename } }')
    assert data["allTask"] == {"totalCount": 6, "__typename": "TaskResultSet"}


def test_default_page_is_50_and_more_than_the_maximum_is_refused(api, demo):
    Task = runtime_models(demo)["Task"]
    Task.objects.bulk_create([Task() for _ in range(40)])
    assert len(api.data("{ allTask { results { id } } }")["allTask"]["results"]) == 50
    error = api.error("{ allTask(limit: 201) { results { id } } }")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "between 0 and 200" in error["message"]
    Application.objects.filter(pk=demo.pk).update(max_page_size=300)
    assert len(api.data("{ allTask(limit: 201) { results { id } } }")["allTask"]["results"]) == 60


def test_synonyms_together_are_refused(api):
    error = api.error("{ allTask(limit: 3, take: 3) { totalCount } }")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "limit or take" in error["message"]


def test_relations_in_results(api, demo):
    data = api.data("""{ oneWebUser(where: { id: { eq: 1 } }) {
        firstName company { name webUsers(sort: { field: id, order: DESC }, limit: 2) { id } }
        roles(where: { name: { neq: "admin" } }) { name } } }""")
    assert data["oneWebUser"] == {
        "firstName": "Betty",
        "company": {"name": "Betty Blocks", "webUsers": [{"id": 3}, {"id": 2}]},
        "roles": [{"name": "editor"}],
    }
    Task = runtime_models(demo)["Task"]
    orphan = Task.objects.create()
    data = api.data(f"{{ oneTask(where: {{ id: {{ eq: {orphan.pk} }} }}) {{ project {{ id }} }} }}")
    assert data == {"oneTask": {"project": None}}
    assert api.data("{ oneTask(where: { id: { eq: 999 } }) { id } }") == {"oneTask": None}


def test_values_of_every_kind_render_as_json(api):
    data = api.data("""{ oneTask(where: { id: { eq: 1 } }) {
        id done endDate priority externalId createdAt __typename } }""")
    task = data["oneTask"]
    assert task["done"] is True and task["endDate"] == "2025-01-13"
    assert task["createdAt"].endswith("+00:00") and "T" in task["createdAt"]
    assert task["__typename"] == "Task"


def test_aliases_and_fragments(api):
    data = api.data("""
        query { first: oneTask(where: { id: { eq: 1 } }) { ...bits label: name }
                last: oneTask(where: { id: { eq: 20 } }) { ... on Task { id } } }
        fragment bits on Task { id project { title: name } }""")
    assert data == {"first": {"id": 1, "project": {"title": "Office move"},
                              "label": "Design homepage"},
                    "last": {"id": 20}}


def test_passwords_are_never_readable(api):
    response = api.post("{ allWebUser { results { password } } }")
    error = response.json()["errors"][0]
    assert "Cannot query field 'password'" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_one_failing_field_does_not_hide_the_others(api):
    body = api("{ ok: allTask(limit: 1) { results { id } } bad: allTask(limit: 9999) "
               "{ results { id } } }")
    assert body["data"] == {"ok": {"results": [{"id": 1}]}, "bad": None}
    assert body["errors"][0]["path"] == ["bad"]
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def deep_query() -> str:
    # four record levels: Task -> Project -> Task -> Project
    return """{ allTask(limit: 200) { totalCount results { id name done endDate
        project { name tasks(limit: 3) { id project { name } } } } } }"""


@pytest.fixture
def many_tasks(demo):
    built = runtime_models(demo)
    Task, Project = built["Task"], built["Project"]
    project_attname = Task._mortar.attname("project")
    projects = Project.objects.bulk_create(
        [Project(**{Project._mortar.attname("name"): f"P{i}"}) for i in range(20)])
    Task.objects.bulk_create([
        Task(**{Task._mortar.attname("name"): f"t{i}", project_attname: projects[i % 20]})
        for i in range(480)])
    assert Task.objects.count() == 500


def test_statements_do_not_grow_with_rows(api, many_tasks, django_assert_num_queries):
    """A depth-4 query over 500 records: one statement, which also checks the application row
    (the freshness check). The same with 1 record."""
    api.data(deep_query())  # warm: caches, and the connection's statement timeout
    with django_assert_num_queries(1):
        data = api.data(deep_query())
    assert data["allTask"]["totalCount"] == 500
    assert len(data["allTask"]["results"]) == 200
    assert all(len(r["project"]["tasks"]) <= 3 for r in data["allTask"]["results"] if r["project"])
    with django_assert_num_queries(1):
        api.data(deep_query().replace("limit: 200", "limit: 1"))


def test_too_many_top_level_fields_is_refused_before_any_sql(api, django_assert_num_queries):
    api.data("{ allTask { totalCount } }")  # warm: schema built, connection set up
    fields = " ".join(f"f{i}: allTask {{ totalCount }}" for i in range(11))
    with django_assert_num_queries(1):  # the application row only (is the refusal current?)
        error = api.error(f"{{ {fields} }}")
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "11 top-level fields" in error["message"]


def test_nesting_deeper_than_four_is_refused(api):
    error = api.error("""{ allTask { results { project { tasks { project { tasks { id } } } } }
                      } }""")
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "5 deep" in error["message"]
    assert api.data("{ allTask(limit: 1) { results { project { tasks(limit: 1) { project "
                    "{ name } } } } } }")


def test_introspection_can_be_switched_off(api, demo):
    assert api.data("{ __schema { queryType { name } } }")["__schema"]["queryType"] == {
        "name": "Query"}
    Application.objects.filter(pk=demo.pk).update(introspection_enabled=False)
    error = api.error("{ __schema { queryType { name } } }")
    assert "introspection" in error["message"]


def test_introspection_beside_data_goes_through_graphql_core(api):
    data = api.data("{ __typename t: oneTask(where: { id: { eq: 2 } }) { id project { name } } "
                    "__type(name: \"Task\") { name } }")
    assert data == {"__typename": "Query", "t": {"id": 2, "project": {"name": "Marketing"}},
                    "__type": {"name": "Task"}}


@pytest.mark.django_db
def test_statement_timeout_stops_a_slow_statement():
    from django.db import OperationalError

    from apps.data_api.errors import coded
    from apps.data_api.request.timeout import statement_timeout

    # Both end by themselves (seconds past the timeout), so a timeout that does not fire
    # fails the test rather than hanging it.
    slow = ("SELECT pg_sleep(2)" if connection.vendor == "postgresql" else
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000) "
            "SELECT count(*) FROM n")
    with pytest.raises(OperationalError) as stopped, statement_timeout(50):
        with connection.cursor() as cursor:
            cursor.execute(slow)
    assert coded(stopped.value).code == "TIMEOUT"


def test_schema_changes_are_not_bound_by_the_api_timeout(demo):
    """The API's timeout stays on the connection (no statement per request to set it); schema
    changes, which may scan big tables, lift it inside their own transaction."""
    from apps.data_api.request.timeout import statement_timeout
    from models_registry import changes

    with statement_timeout(50):
        pass
    slow = ("SELECT pg_sleep(0.2)" if connection.vendor == "postgresql" else
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) "
            "SELECT count(*) FROM n")
    with changes.schema_change(demo):
        with connection.cursor() as cursor:
            cursor.execute(slow)


def test_a_new_literal_in_a_known_shape_is_still_checked(api):
    assert api.data("{ oneTask(where: { id: { eq: 4 } }) { id } }") == {"oneTask": {"id": 4}}
    assert api.data("{ oneTask(where: { id: { eq: 5 } }) { id } }") == {"oneTask": {"id": 5}}
    error = api.error("{ oneTask(where: { id: { eq: 99999999999 } }) { id } }")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "where.id.eq"


def test_new_literals_in_a_known_shape_skip_the_parser(api, monkeypatch):
    from apps.data_api.request import documents

    query = '{ allTask(where: { name: { matches: %s }, id: { in: %s } }) { results { id } } }'
    assert api.data(query % ('"design"', "[1, 9, 10]"))["allTask"]["results"] == [
        {"id": 1}, {"id": 9}]
    parsed = []
    original = documents.parse
    monkeypatch.setattr(documents, "parse", lambda text: parsed.append(text) or original(text))

    assert api.data(query % ('"o\\u006E"', "[4, 11, 12]"))["allTask"]["results"] == [
        {"id": 4}]  # "on", written with an escape
    assert api.data(query % ('"""copy"""', "[2, 3, 5]"))["allTask"]["results"] == [{"id": 2}]
    assert parsed == []
    # a list written as one value is coerced as the type says ([Int!] here)
    assert api.data(query % ('"e"', "4"))["allTask"]["results"] == [{"id": 4}]


def test_variable_defaults_keep_their_literals(api):
    query = "query($id: Int = %d) { oneTask(where: { id: { eq: $id } }) { id } }"
    assert api.data(query % 3) == {"oneTask": {"id": 3}}
    assert api.data(query % 5) == {"oneTask": {"id": 5}}


@pytest.mark.parametrize("literal, value", [
    ('"on"', "on"), ('"o\\u006E"', "on"), ('"""on"""', "on"), ('"""\n    on\n"""', "on"),
    ('"\\"q\\""', '"q"'), ('"a # not a comment"', "a # not a comment"),
    ('"\\uD83D\\uDE00"', "\U0001F600"), ('"\\u{1F600}"', "\U0001F600"), ('"\tx"', "\tx"),
])
def test_literals_read_without_the_parser_mean_what_the_parser_says(api, literal, value):
    query = '{ allTask(where: { name: { matches: %s } }) { results { id } } } # %s'
    api.data(query % ('"design"', "a comment"))  # the template of this shape
    by_variable = api.data("query($v: String) { allTask(where: { name: { matches: $v } }) "
                           "{ results { id } } }", {"v": value})
    assert api.data(query % (literal, "another")) == by_variable


@pytest.mark.parametrize("text", [
    '{ allTask(limit: 01) { totalCount } }',
    '{ allTask(limit: 1.) { totalCount } }',
    '{ allTask(where: { name: { eq: "\\uD800" } }) { totalCount } }',
    '{ allTask(limit: <number>) { totalCount } }',
])
def test_text_that_only_looks_like_a_known_shape_goes_to_the_parser(api, text):
    api.data('{ allTask(limit: 1) { totalCount } }')
    api.data('{ allTask(where: { name: { eq: "x" } }) { totalCount } }')
    error = api.error(text)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_include_and_skip_follow_each_requests_variables(api):
    query = ("query($deep: Boolean!) { allTask(limit: 1) { totalCount "
             "results @include(if: $deep) { project { tasks { project { tasks { id } } } } } } }")
    assert api.data(query, {"deep": False}) == {"allTask": {"totalCount": 20}}
    error = api.error(query, {"deep": True})  # the same document, now five levels deep
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert api.data(query, {"deep": False}) == {"allTask": {"totalCount": 20}}
