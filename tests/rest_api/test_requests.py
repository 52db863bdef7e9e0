"""Requests to saved endpoints: one test per rule of the seed's "Request" section
(shared/seeds/004), then the answers being the GraphQL endpoint's (authentication, limits,
CORS, ETags, bodies), then the cost of a request."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql import GraphQLFloat, GraphQLID, GraphQLNonNull, GraphQLScalarType

from apps.audit.models import AuditEntry
from apps.data_api.request import documents
from apps.identity import tokens
from apps.identity.models import AuthProfile
from apps.rest_api import checks
from apps.rest_api.models import RestEndpoint
from apps.rest_api.variables import VariableTypeError, from_url
from models_registry import changes
from models_registry.application_rows import read_application
from models_registry.models import Application
from models_registry.runtime import runtime_models
from tests.conftest import everyone_may
from tests.data_api.conftest import Api

from .conftest import ONE_TASK, Rest, error_of

COUNT_DONE = "query($done: Boolean) { allTask(where: { done: { eq: $done } }) { totalCount } }"
CREATE_PROJECT = "mutation($input: ProjectInput!) { createProject(input: $input) { id name } }"


def task_count(application: Application, **where) -> int:
    cls = runtime_models(application).by_name["Task"]
    return cls.objects.filter(**{cls._mortar.attname(k): v for k, v in where.items()}).count()


def project_names(application: Application) -> list[str]:
    cls = runtime_models(application).by_name["Project"]
    return sorted(cls.objects.values_list(cls._mortar.attname("name"), flat=True))


# -- the seed's Request section, one rule each ----------------------------------------------


def test_literal_urls_match_literally(rest):
    """/s1/s2/s3 answers that path only: no other case, length or text."""
    rest.save("undone", "tasks/open/count", 'query { allTask(where: { done: { eq: false } }) '
                                            '{ totalCount } }')
    assert rest.get("tasks/open/count").json() == {"data": {"allTask": {"totalCount": 14}}}
    for other in ("tasks/Open/count", "tasks/open", "tasks/open/count/x", "tasks/closed/count"):
        response = rest.get(other)
        assert response.status_code == 404, other
        assert error_of(response)["extensions"] == {"code": "NOT_FOUND"}


def test_colon_segments_capture_a_variable(rest):
    """/s1/:id/s3: the segment's text is the variable $id."""
    rest.save("project-task", "projects/:project/tasks/first",
              "query($project: Int!) { oneTask(where: { project: { id: { eq: $project } } }) "
              "{ id project { id } } }")
    assert rest.get("projects/3/tasks/first").json() == \
        {"data": {"oneTask": {"id": 2, "project": {"id": 3}}}}
    assert rest.get("projects/1/tasks/first").json()["data"]["oneTask"]["project"] == {"id": 1}


def test_variables_from_route_query_string_and_body(rest):
    """One request gives $project in the path, $done in the query string and $take in the
    body."""
    rest.save("tasks", "projects/:project/tasks",
              "query($project: Int!, $done: Boolean!, $take: Int!) { allTask(where: { project: "
              "{ id: { eq: $project } }, done: { eq: $done } }, take: $take) "
              "{ totalCount results { id done project { id } } } }")
    body = rest.post("projects/1/tasks?done=false", {"take": 2}).json()
    assert body["data"]["allTask"]["totalCount"] == 4  # tasks 9, 12, 15 and 18
    assert body["data"]["allTask"]["results"] == [
        {"id": 9, "done": False, "project": {"id": 1}},
        {"id": 12, "done": False, "project": {"id": 1}}]


def test_the_url_wins_over_the_body(rest):
    rest.save("task", "tasks/:id", ONE_TASK)
    assert rest.post("tasks/3", {"id": 4}).json()["data"]["oneTask"]["id"] == 3


def test_a_query_string_variable_is_given_once_and_other_names_are_ignored(rest):
    rest.save("count", "tasks/count", COUNT_DONE)
    twice = rest.get("tasks/count?done=true&done=false")
    assert twice.status_code == 400
    assert error_of(twice)["extensions"] == {"code": "BAD_USER_INPUT", "variable": "done"}
    tracked = rest.get("tasks/count?done=true&utm_source=mail&page=x")
    assert tracked.json() == {"data": {"allTask": {"totalCount": 6}}}


def test_json_body_values_are_passed_as_they_are(rest, demo, server_key):
    """An input object and an Int from the body reach the document unchanged; a number
    written as text in the body is not read as one (no coercion), unlike in the URL."""
    rest.save("create", "projects", CREATE_PROJECT)
    created = rest.post("projects", {"input": {"name": "From REST"}}, **server_key)
    assert created.status_code == 200
    assert created.json()["data"]["createProject"]["name"] == "From REST"
    assert "From REST" in project_names(demo)

    rest.save("task", "tasks", ONE_TASK)
    assert rest.post("tasks", {"id": 2}).json()["data"]["oneTask"]["id"] == 2
    assert rest.get("tasks", {"id": "2"}).json()["data"]["oneTask"]["id"] == 2
    as_text = rest.post("tasks", {"id": "2"})
    assert as_text.status_code == 400
    assert error_of(as_text)["extensions"]["code"] == "BAD_USER_INPUT"
    assert "$id" in error_of(as_text)["message"]


def test_missing_nullable_variable_is_null(rest):
    """$done left out is null (`eq: null` matches no task), not left undefined (which would
    leave the condition out and count all 20)."""
    rest.save("count", "tasks/count", COUNT_DONE)
    graphql = Api()
    assert graphql(COUNT_DONE, {})["data"]["allTask"]["totalCount"] == 20
    null = graphql(COUNT_DONE, {"done": None})
    assert null["data"]["allTask"]["totalCount"] == 0
    assert rest.get("tasks/count").json() == null
    assert rest.post("tasks/count").json() == null


def test_boolean_from_the_url(rest, demo):
    rest.save("count", "tasks/count", COUNT_DONE)
    done, undone = task_count(demo, done=True), task_count(demo, done=False)
    assert (done, undone) == (6, 14)
    assert rest.get("tasks/count?done=true").json()["data"]["allTask"]["totalCount"] == done
    assert rest.get("tasks/count?done=false").json()["data"]["allTask"]["totalCount"] == undone
    rest.save("by-state", "tasks/done/:done", COUNT_DONE)
    assert rest.get("tasks/done/false").json()["data"]["allTask"]["totalCount"] == undone


def test_a_boolean_flag_without_a_value_is_true(rest):
    """/api/rest/myquery?mybool is true."""
    rest.save("count", "tasks/count", COUNT_DONE)
    assert rest.get("tasks/count?done").json() == rest.get("tasks/count?done=true").json()
    assert rest.get("tasks/count?done=").json()["data"]["allTask"]["totalCount"] == 6


def test_string_from_the_url(rest):
    """Text that looks like a number stays text for a String variable."""
    rest.save("by-external-id", "tasks/external/:externalId",
              "query($externalId: String!) { oneTask(where: { externalId: { eq: $externalId } "
              "}) { id externalId } }")
    assert rest.get("tasks/external/ext-002").json() == \
        {"data": {"oneTask": {"id": 2, "externalId": "ext-002"}}}
    rest.save("by-name", "tasks/named",
              "query($name: String) { allTask(where: { name: { eq: $name } }) "
              "{ results { id } } }")
    assert rest.get("tasks/named", {"name": "Write copy"}).json() == \
        {"data": {"allTask": {"results": [{"id": 2}]}}}
    assert rest.get("tasks/named", {"name": "123"}).json() == \
        {"data": {"allTask": {"results": []}}}


UUID = GraphQLScalarType("UUID")


@pytest.mark.parametrize("type_", [GraphQLID, GraphQLNonNull(GraphQLID), UUID],
                         ids=["ID", "ID!", "UUID"])
def test_uuid_and_id_are_strings(type_):
    """No Mortar schema has an ID or UUID type (ids are Int), so this is the coercion itself:
    the text as it is, even when it looks like a number."""
    assert from_url("x", type_, "42", "the path") == "42"
    assert from_url("x", type_, "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "the query string") \
        == "1b4e28ba-2fa1-11d2-883f-0016d3cca427"


def test_int_from_the_url_is_a_number(rest):
    rest.save("page", "tasks/page",
              "query($take: Int!) { allTask(take: $take) { results { id } } }")
    assert rest.get("tasks/page?take=2").json() == \
        {"data": {"allTask": {"results": [{"id": 1}, {"id": 2}]}}}


@pytest.mark.parametrize("text, value", [("2.5", 2.5), ("-1", -1.0), ("1e3", 1000.0)])
def test_float_from_the_url_is_a_number(text, value):
    """No Mortar schema has a Float (numbers are Int or the exact Decimal), so this is the
    coercion itself."""
    assert from_url("x", GraphQLFloat, text, "the path") == value
    with pytest.raises(VariableTypeError):
        from_url("x", GraphQLFloat, "NaN", "the path")


def test_decimal_from_the_url_keeps_its_digits(make_app, make_model):
    """The Decimal kind's variables take the URL's number exactly (12.10 is not a float)."""
    shop = make_app("shop")
    everyone_may(make_model(shop, "Item", name="text", price="decimal"))
    cls = runtime_models(shop).by_name["Item"]
    for name, price in (("cheap", "12.09"), ("exact", "12.10"), ("dear", "12.11")):
        cls.objects.create(**{cls._mortar.attname("name"): name,
                              cls._mortar.attname("price"): price})
    shop_rest = Rest(shop)
    shop_rest.save("cheaper", "items/cheaper-than/:price",
                   "query($price: Decimal!) { allItem(where: { price: { lte: $price } }) "
                   "{ results { name price } } }")
    assert shop_rest.get("items/cheaper-than/12.10").json() == {"data": {"allItem": {
        "results": [{"name": "cheap", "price": "12.09"}, {"name": "exact", "price": "12.10"}]}}}
    assert shop_rest.get("items/cheaper-than/12.1x").status_code == 400


@pytest.mark.parametrize("declared, argument, given", [
    ("$take: Int", "take: $take", "take=abc"),
    ("$take: Int", "take: $take", "take=1.5"),
    ("$done: Boolean", "where: { done: { eq: $done } }", "done=maybe"),
    ("$done: Boolean", "where: { done: { eq: $done } }", "done=1"),
    ("$end: Date", "where: { endDate: { eq: $end } }", "end=2025-01-13"),  # another scalar
    ("$order: SortOrder", "sort: [{ field: id, order: $order }]", "order=ASC"),  # an enum
    ("$where: TaskFilterInput", "where: $where", "where={}"),  # an input object
    ("$ids: [Int!]", "where: { id: { in: $ids } }", "ids=1"),  # a list
])
def test_other_types_and_mismatches_are_variable_type_errors(rest, declared, argument, given):
    """400, BAD_USER_INPUT, naming the variable: the client learns which one to fix."""
    name = declared.split(":")[0][1:]
    rest.save("anything", "tasks/any", f"query({declared}) {{ allTask({argument}) "
                                       "{ totalCount } }")
    response = rest.get(f"tasks/any?{given}")
    assert response.status_code == 400
    error = error_of(response)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "variable": name}
    assert error["message"].startswith(f"Variable ${name} ")


def test_a_path_variable_that_does_not_fit_is_a_variable_type_error(rest):
    rest.save("task", "tasks/:id", ONE_TASK)
    response = rest.get("tasks/abc")
    assert response.status_code == 400
    assert error_of(response) == {
        "message": "Variable $id (Int!) in the path must be a whole number, not 'abc'.",
        "extensions": {"code": "BAD_USER_INPUT", "variable": "id"}}


def test_two_endpoints_matching_one_request_is_500(rest, demo):
    """A collision the checks refuse, written anyway (two builders saving at once)."""
    RestEndpoint.objects.create(application=demo, name="by-id", url="tasks/:id", query=ONE_TASK)
    RestEndpoint.objects.create(application=demo, name="by-key", url="tasks/:key",
                                query=ONE_TASK.replace("$id", "$key"))
    response = rest.get("tasks/1")
    assert response.status_code == 500
    assert error_of(response) == {
        "message": "Endpoints by-id and by-key both answer GET /rest/tasks/1; a builder must "
                   "change one of them.",
        "extensions": {"code": "INTERNAL_SERVER_ERROR"}}


def test_a_path_without_the_method_is_405_listing_the_methods(rest, server_key):
    rest.save("task", "tasks/:id", ONE_TASK, ["GET"])
    rest.save("rename", "tasks/:id", "mutation($id: Int!, $name: String!) { updateTask(id: "
              "$id, input: { name: $name }) { id name } }", ["PATCH"])
    response = rest.call("DELETE", "tasks/1", **server_key)
    assert response.status_code == 405
    assert response["Allow"] == "GET, PATCH"
    assert error_of(response)["extensions"] == {"code": "BAD_USER_INPUT"}
    renamed = rest.call("PATCH", "tasks/1", {"name": "Patched"}, **server_key)
    assert renamed.json() == {"data": {"updateTask": {"id": 1, "name": "Patched"}}}


def test_queries_answer_get_and_post_by_default(rest):
    rest.save("task", "tasks/:id", ONE_TASK)
    expected = {"data": {"oneTask": {"id": 1, "name": "Design homepage", "done": True}}}
    assert rest.get("tasks/1").json() == expected
    assert rest.post("tasks/1").json() == expected
    for method in ("PUT", "PATCH", "DELETE"):
        response = rest.call(method, "tasks/1")
        assert (response.status_code, response["Allow"]) == (405, "GET, POST"), method


def test_mutations_answer_post_by_default(rest, demo, server_key):
    rest.save("create", "projects", CREATE_PROJECT)
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        response = rest.call(method, "projects", {"input": {"name": "No"}}, **server_key)
        assert (response.status_code, response["Allow"]) == (405, "POST"), method
    assert "No" not in project_names(demo)
    assert rest.post("projects", {"input": {"name": "Yes"}}, **server_key).status_code == 200
    assert "Yes" in project_names(demo)


def test_explicitly_configured_methods(rest, server_key):
    rest.save("task", "tasks/:id", ONE_TASK, ["GET"])
    rest.save("remove", "tasks/:id/remove", "mutation($id: Int!) { deleteTask(id: $id) { id } }",
              ["DELETE"])
    assert rest.get("tasks/1").status_code == 200
    assert rest.post("tasks/1")["Allow"] == "GET"
    assert rest.post("tasks/1/remove", **server_key)["Allow"] == "DELETE"
    assert rest.call("DELETE", "tasks/1/remove", **server_key).json() == \
        {"data": {"deleteTask": {"id": 1}}}


# -- the same answers as the GraphQL endpoint ----------------------------------------------


def test_the_body_is_the_graphql_endpoints(rest):
    query = ("query($project: Int!, $take: Int) { allTask(where: { project: { id: { eq: "
             "$project } } }, take: $take, sort: [{ field: id, order: DESC }]) { totalCount "
             "results { id name endDate priority project { name } } } }")
    rest.save("tasks", "projects/:project/tasks", query)
    rest_body = rest.get("projects/2/tasks?take=3").content
    graphql_body = Api().post(query, {"project": 2, "take": 3}).content
    assert json.loads(rest_body)["data"]["allTask"]["totalCount"] > 3
    assert rest_body == graphql_body


def test_writes_need_a_server_key_as_over_graphql(rest, demo, server_key):
    rest.save("create", "projects", CREATE_PROJECT)
    refused = rest.post("projects", {"input": {"name": "Anonymous"}})
    assert refused.status_code == 403
    body = refused.json()
    assert body["data"] == {"createProject": None}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body == Api().post(CREATE_PROJECT, {"input": {"name": "Anonymous"}}).json()
    # both refusals in the audit log: REST's and /graphql's
    assert AuditEntry.objects.filter(action="permission.refused").count() == 2
    assert "Anonymous" not in project_names(demo)
    assert rest.post("projects", {"input": {"name": "Keyed"}}, **server_key).status_code == 200


def test_users_jwts_carry_their_roles_as_over_graphql(rest, demo):
    """Bob (an editor) may create projects, Eve (no role) may not."""
    profile = AuthProfile.objects.get(application=demo, name="Web users")
    bob, eve = ({"HTTP_AUTHORIZATION": f"Bearer {tokens.start_session(profile, user).jwt}"}
                for user in (2, 5))
    rest.save("create", "projects", CREATE_PROJECT)
    assert rest.post("projects", {"input": {"name": "Eve's"}}, **eve).status_code == 403
    assert rest.post("projects", {"input": {"name": "Bob's"}}, **bob).status_code == 200
    assert "Bob's" in project_names(demo) and "Eve's" not in project_names(demo)


def test_a_bad_token_is_401_with_a_challenge(rest):
    rest.save("task", "tasks/:id", ONE_TASK)
    response = rest.get("tasks/1", HTTP_AUTHORIZATION="Bearer mk_nothing")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert error_of(response)["extensions"]["code"] == "UNAUTHENTICATED"


def test_an_unknown_application_is_404(rest):
    response = Rest(Application(slug="nope")).get("tasks/1")
    assert response.status_code == 404
    assert error_of(response) == {"message": "There is no application 'nope'.",
                                  "extensions": {"code": "NOT_FOUND"}}


def test_an_unknown_endpoint_is_404(rest):
    response = rest.get("nothing/here")
    assert response.status_code == 404
    assert error_of(response) == {
        "message": "No endpoint of demo answers /rest/nothing/here; the endpoints are listed "
                   "in /api/demo/rest/openapi.json.",
        "extensions": {"code": "NOT_FOUND"}}


def test_rate_limits_are_the_applications(rest, demo):
    """Headers on every answer; a 429 once a bucket is empty, the buckets being the ones the
    GraphQL endpoint draws from."""
    rest.save("task", "tasks/:id", ONE_TASK)
    Application.objects.filter(pk=demo.pk).update(rate_limit_minute=2, rate_limit_hour=1,
                                                  rate_limit_day=1)
    read_application(demo.slug)
    first = rest.get("tasks/1")
    assert (first["X-RateLimit-Limit"], first["X-RateLimit-Remaining"]) == ("2", "1")
    assert first["RateLimit-Policy"].startswith('"minute";q=2;w=60')
    assert Api().post("{ oneTask { id } }").status_code == 200  # the same buckets
    assert [rest.get("tasks/1").status_code for _ in range(2)] == [200, 200]  # hour, day
    refused = rest.get("tasks/1")
    assert refused.status_code == 429
    assert error_of(refused)["extensions"]["code"] == "RATE_LIMITED"
    assert 55 <= int(refused["Retry-After"]) <= 60
    assert refused["X-RateLimit-Remaining"] == "0"


def test_cors_for_the_applications_origins(rest, demo):
    rest.save("task", "tasks/:id", ONE_TASK)
    Application.objects.filter(pk=demo.pk).update(cors_allowed_origins="https://app.example.com")
    allowed = rest.get("tasks/1", HTTP_ORIGIN="https://app.example.com")
    assert allowed.status_code == 200
    assert allowed["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Access-Control-Allow-Origin" not in rest.get("tasks/1",
                                                         HTTP_ORIGIN="https://evil.example.com")
    preflight = rest.call("OPTIONS", "tasks/1", HTTP_ORIGIN="https://app.example.com",
                          HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                          HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization")
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "authorization" in preflight["Access-Control-Allow-Headers"]


def test_get_has_an_etag_and_if_none_match_is_304(rest, demo):
    rest.save("task", "tasks/:id", ONE_TASK)
    first = rest.get("tasks/1")
    etag = first["ETag"]
    assert first["Cache-Control"] == "private, no-cache"
    assert "Authorization" in first["Vary"]
    again = rest.get("tasks/1", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag
    cls = runtime_models(demo).by_name["Task"]
    cls.objects.filter(pk=1).update(**{cls._mortar.attname("name"): "Redesign homepage"})
    changed = rest.get("tasks/1", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.json()["data"]["oneTask"]["name"] == "Redesign homepage"
    assert changed["ETag"] != etag


def test_head_is_answered_where_get_is(rest):
    """GET's status and headers without the body; not where only other methods are."""
    rest.save("task", "tasks/:id", ONE_TASK)
    got = rest.get("tasks/1")
    head = rest.client.head(rest.base + "tasks/1")
    assert head.status_code == 200 and head.content == b""
    assert head["ETag"] == got["ETag"]
    assert head["Content-Length"] == str(len(got.content))
    rest.save("finish", "tasks/:id/finish", "mutation($id: Int!) { deleteTask(id: $id) { id } }")
    assert rest.client.head(rest.base + "tasks/1/finish").status_code == 405


def test_a_malformed_content_length_is_no_server_error(rest):
    rest.save("task", "tasks", ONE_TASK)
    response = rest.client.post(rest.base + "tasks", '{"id": 1}',
                                content_type="application/json", CONTENT_LENGTH="many")
    assert response.status_code < 500


@pytest.mark.parametrize("content, content_type, status, words", [
    ("{not json", "application/json", 400, "not valid JSON"),
    ("[1, 2]", "application/json", 400, "must be a JSON object"),
    ('"text"', "application/json", 400, "must be a JSON object"),
    ("id=1", "application/x-www-form-urlencoded", 415, "application/json"),
    ('{"id": 1}', "text/plain", 415, "application/json"),
])
def test_bodies_that_are_no_json_object_are_refused(rest, content, content_type, status, words):
    rest.save("task", "tasks", ONE_TASK)
    response = rest.client.post(rest.base + "tasks", content, content_type=content_type)
    assert response.status_code == status
    assert words in error_of(response)["message"]
    assert error_of(response)["extensions"] == {"code": "BAD_USER_INPUT"}


def test_a_body_over_the_limit_is_413(rest, demo, server_key):
    rest.save("create", "projects", CREATE_PROJECT)
    Application.objects.filter(pk=demo.pk).update(max_body_bytes=1000)
    response = rest.post("projects", {"input": {"name": "x" * 2000}}, **server_key)
    assert response.status_code == 413
    assert error_of(response)["message"] == "The request body is over 1000 bytes."
    assert "x" * 2000 not in project_names(demo)


def test_a_mutation_that_fails_validation_changes_nothing(rest, demo, server_key):
    """All or none: one project without its required name refuses the other too (422)."""
    rest.save("create-many", "projects/many",
              "mutation($input: [ProjectInput!]!) { createManyProject(input: $input) { id } }")
    before = project_names(demo)
    response = rest.post("projects/many", {"input": [{"name": "Fine"}, {"name": ""}]},
                         **server_key)
    assert response.status_code == 422
    assert response.json()["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert project_names(demo) == before


# -- the cost of a request -----------------------------------------------------------------


def counting(monkeypatch, module, name: str) -> list:
    """Record each call of module.name (still calling it)."""
    calls: list = []
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_a_saved_document_is_prepared_once_per_schema_version(rest, demo, monkeypatch):
    rest.save("task", "tasks/:id", ONE_TASK)
    parsed = counting(monkeypatch, documents, "parse")
    validated = counting(monkeypatch, documents, "validate")
    checked = counting(monkeypatch, checks, "parse")
    assert rest.get("tasks/1").status_code == 200
    assert (len(parsed), len(validated), len(checked)) == (1, 1, 1)
    for id_ in range(2, 7):
        assert rest.get(f"tasks/{id_}").json()["data"]["oneTask"]["id"] == id_
    assert (len(parsed), len(validated), len(checked)) == (1, 1, 1)

    changes.add_property(demo.data_models.get(name="Task"), "colour", "text")
    assert rest.get("tasks/1").status_code == 200
    assert (len(parsed), len(validated)) == (2, 2)
    rest.get("tasks/2")
    assert (len(parsed), len(validated)) == (2, 2)


def test_a_warm_rest_get_runs_the_statements_of_the_graphql_query(rest):
    rest.save("task", "tasks/:id", ONE_TASK)
    graphql = Api()
    rest.get("tasks/1")
    graphql.client.get(graphql.url, {"query": ONE_TASK, "variables": '{"id": 1}'})
    with CaptureQueriesContext(connection) as over_rest:
        assert rest.get("tasks/2").status_code == 200
    with CaptureQueriesContext(connection) as over_graphql:
        response = graphql.client.get(graphql.url, {"query": ONE_TASK, "variables": '{"id": 2}'})
        assert response.status_code == 200
    assert len(over_rest) == len(over_graphql) == 1
