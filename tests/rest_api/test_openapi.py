"""GET /api/<app>/rest/openapi.json: a valid OpenAPI 3.1 document of the application's working
endpoints, whose parameters and bodies are read from the variables' types and whose response
schemas (the 200 one derived from the selection) the endpoints' real answers fit; schemathesis,
run against a live server from the document, finds no server error."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest
import schemathesis
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup

from apps.identity import server_keys
from apps.rest_api.models import RestEndpoint
from models_registry import changes
from models_registry.models import Application
from tests.data_api.conftest import demo, open_to_anyone  # noqa: F401  (fixture)

INT = {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}
SEARCH = """
query Search($done: Boolean, $take: Int = 5, $atLeast: Decimal! = 0, $name: String! = "",
             $order: SortOrder = ASC, $withProject: Boolean! = false) {
  allTask(where: { done: { eq: $done }, estimate: { gteq: $atLeast },
                   name: { starts_with: $name } },
          sort: [{ field: id, order: $order }], take: $take) {
    count: totalCount
    results { ...Row kind: __typename project @include(if: $withProject) { name } }
  }
}
fragment Row on Task { id name done estimate endDate }"""
FILTER = ("query FilterTasks($where: TaskFilterInput, $take: Int = 3) { allTask(where: $where, "
          "take: $take) { results { id name } } }")
REPLACE = ("mutation ReplaceTask($id: Int!, $input: TaskInput!) { updateTask(id: $id, "
           "input: $input) { id name done priority endDate estimate } }")
REMOVE = "mutation RemoveTask($taskId: Int!) { deleteTask(id: $taskId) { id name } }"
# The demo's endpoints (fixtures/demo.json) and this file's, by path and method.
OPERATIONS = {
    ("/tasks/{id}", "get"): "task", ("/tasks/{id}", "patch"): "finishTask",
    ("/tasks/{id}", "put"): "replaceTask", ("/tasks/{id}", "delete"): "removeTask",
    ("/tasks", "get"): "tasks", ("/tasks", "post"): "createTask",
    ("/search", "get"): "search_get", ("/search", "post"): "search_post",
    ("/filter/tasks", "post"): "filterTasks",
}


@pytest.fixture
def app(demo):  # noqa: F811
    """The demo with a decimal Task.estimate and endpoints beside its own: a query taking
    Boolean, Int, Decimal and String from the query string and an enum from the body, one
    taking a recursive filter, a PUT and a DELETE at the demo's tasks/:id (the DELETE names
    the segment :taskId)."""
    task = demo.data_models.get(name="Task")
    changes.add_property(task, "estimate", "decimal")
    for name, url, methods, query, comment in (
            ("search", "search", [], SEARCH, "Tasks by state, estimate and name.\nMore."),
            ("filterTasks", "filter/tasks", ["POST"], FILTER, ""),
            ("replaceTask", "tasks/:id", ["PUT"], REPLACE, "Changes a task."),
            ("removeTask", "tasks/:taskId", ["DELETE"], REMOVE, "")):
        RestEndpoint.objects.create(application=demo, name=name, url=url, methods=methods,
                                    query=query, comment=comment)
    demo.refresh_from_db()
    return demo


def key_of(application: Application) -> dict:
    _, key = server_keys.create(application, "openapi tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def document(client: Client | None = None, **headers) -> dict:
    response = (client or Client()).get("/api/demo/rest/openapi.json", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def without_descriptions(value):
    if isinstance(value, dict):
        return {k: without_descriptions(v) for k, v in value.items() if k != "description"}
    if isinstance(value, list):
        return [without_descriptions(v) for v in value]
    return value


class Documented:
    """Checks answers against the schemas a document gives their path, method and status
    (its $refs resolved through a registry holding the whole document)."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.registry = Registry().with_resource(
            "urn:openapi", Resource.from_contents(spec, default_specification=DRAFT202012))

    def validator(self, path: str, method: str, status: int) -> Draft202012Validator:
        response = self.spec["paths"][path][method]["responses"][str(status)]
        pointer = ["paths", path, method, "responses", str(status)]
        if "$ref" in response:
            pointer = response["$ref"].removeprefix("#/").split("/")
        pointer += ["content", "application/json", "schema"]
        escaped = "/".join(quote(p.replace("~", "~0").replace("/", "~1")) for p in pointer)
        return Draft202012Validator({"$ref": f"urn:openapi#/{escaped}"},
                                    registry=self.registry, format_checker=FormatChecker())

    def check(self, path: str, method: str, response) -> dict:
        """The body of `response`, after checking it fits what the document says of its
        status."""
        assert str(response.status_code) in self.spec["paths"][path][method]["responses"], (
            response.status_code, response.content)
        body = response.json()
        errors = [e.message for e in self.validator(path, method, response.status_code)
                  .iter_errors(body)]
        assert errors == [], (response.status_code, body)
        return body


def test_the_document_is_valid_openapi_31_with_every_endpoint(app):
    """Every working endpoint's methods are operations (ids unique, the endpoint's name with
    the method when it has several), under the relative server /api/<app>/rest."""
    spec = document()
    validate(spec, cls=OpenAPIV31SpecValidator)
    assert spec["openapi"] == "3.1.0"
    assert spec["info"]["title"] == "Demo REST endpoints"
    assert spec["servers"] == [{"url": "/api/demo/rest"}]
    assert spec["security"] == [{}, {"bearerAuth": []}]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    found = {(path, method): operation["operationId"]
             for path, item in spec["paths"].items() for method, operation in item.items()}
    assert found == OPERATIONS
    assert spec["x-broken-endpoints"] == []
    search = spec["paths"]["/search"]["get"]
    assert search["summary"] == "Tasks by state, estimate and name."
    assert "query Search($done: Boolean" in search["description"]
    assert spec["paths"]["/filter/tasks"]["post"]["summary"] == "filterTasks"


def test_query_string_parameters_follow_the_variables_types(app):
    """GET: the variables a URL can carry are query parameters (Boolean flags may be empty,
    defaults shown, Int 32-bit, Decimal's digits as text); $order (an enum) cannot come from a
    URL, and the description says it needs a body."""
    operation = document()["paths"]["/search"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert list(parameters) == ["done", "take", "atLeast", "name", "withProject",
                                "If-None-Match"]
    assert parameters["done"] == {
        "name": "done", "in": "query", "required": False, "schema": {"type": "boolean"},
        "allowEmptyValue": True,
        "description": "$done (Boolean); ?done alone means true; null when left out"}
    assert parameters["take"]["schema"] == {**INT, "default": 5}
    assert parameters["atLeast"]["schema"]["type"] == "string"
    assert parameters["atLeast"]["schema"]["pattern"].startswith("^-?")
    assert parameters["atLeast"]["description"] == "$atLeast (Decimal!)"
    assert parameters["atLeast"]["schema"]["default"] == "0"
    assert parameters["name"]["schema"] == {"type": "string", "default": ""}
    assert parameters["withProject"]["schema"] == {"type": "boolean", "default": False}
    assert not any(p["required"] for p in operation["parameters"])
    assert parameters["If-None-Match"]["in"] == "header"
    assert "$order can only be sent in a JSON body" in operation["description"]
    assert "requestBody" not in operation
    assert {"200", "304"} <= set(operation["responses"])
    assert "415" not in operation["responses"]  # no body, no content type


def test_bodies_follow_the_variables_types(app):
    """POST/PUT/...: every variable but the path's may be in the JSON body (nullable types
    allow null, enums list their values, input objects are components, recursive ones by
    $ref); the required ones are listed."""
    spec = document()
    search = spec["paths"]["/search"]["post"]
    body = search["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"type": "object", "properties": {
        "done": {"type": ["boolean", "null"]},
        "take": {**INT, "type": ["integer", "null"], "default": 5},
        "atLeast": {**body["properties"]["atLeast"], "type": ["string", "number"],
                    "default": "0"},
        "name": {"type": "string", "default": ""},
        "order": {"type": ["string", "null"], "enum": ["ASC", "DESC", None], "default": "ASC"},
        "withProject": {"type": "boolean", "default": False},
    }}
    assert search["requestBody"]["required"] is False
    assert not any(p["required"] for p in search["parameters"])  # the body may carry them

    replace = spec["paths"]["/tasks/{id}"]["put"]
    assert replace["parameters"] == [{
        "name": "id", "in": "path", "required": True, "schema": INT,
        "description": "$id (Int!)"}]
    assert replace["requestBody"]["required"] is True
    assert replace["requestBody"]["content"]["application/json"]["schema"] == {
        "type": "object", "properties": {"input": {"$ref": "#/components/schemas/TaskInput"}},
        "required": ["input"]}
    schemas = spec["components"]["schemas"]
    task_input = without_descriptions(schemas["TaskInput"])
    assert task_input["additionalProperties"] is False
    assert task_input["properties"]["endDate"] == {"type": ["string", "null"], "format": "date"}
    assert task_input["properties"]["project"] == {
        "anyOf": [{"$ref": "#/components/schemas/RelationRefInput"}, {"type": "null"}]}
    assert without_descriptions(schemas["RelationRefInput"]) == {
        "type": "object", "properties": {"id": INT}, "required": ["id"],
        "additionalProperties": False}
    task_filter = schemas["TaskFilterInput"]["properties"]
    assert task_filter["_or"] == {"type": ["array", "null"], "items": {
        "$ref": "#/components/schemas/TaskFilterInput"}}
    assert set(replace["responses"]) == {"200", "400", "401", "403", "404", "409", "413",
                                         "415", "422", "429", "500", "503", "504"}


def test_a_segment_two_endpoints_name_differently_is_one_path(app):
    """tasks/:id (GET, PATCH, PUT) and tasks/:taskId (DELETE) are one OpenAPI path: the
    DELETE's parameter takes the path's name and says which variable it fills."""
    operation = document()["paths"]["/tasks/{id}"]["delete"]
    assert operation["parameters"] == [{
        "name": "id", "in": "path", "required": True, "schema": INT,
        "description": "$taskId (Int!), the segment OpenAPI calls {id}"}]
    assert "requestBody" not in operation


def test_the_200_schema_is_the_selection(app):
    """Aliases are keys, fragments add their fields, __typename is the type's name, a field
    under @include(if: $var) may be missing, nullable fields allow null, and no other key is
    allowed."""
    response = document()["paths"]["/search"]["get"]["responses"]["200"]
    schema = without_descriptions(response["content"]["application/json"]["schema"])
    row = {
        "type": "object", "additionalProperties": False,
        "properties": {
            "id": INT, "name": {"type": ["string", "null"]}, "done": {"type": "boolean"},
            "estimate": {"type": ["string", "null"]},
            "endDate": {"type": ["string", "null"], "format": "date"},
            "kind": {"type": "string", "enum": ["Task"]},
            "project": {"type": ["object", "null"], "additionalProperties": False,
                        "properties": {"name": {"type": "string"}}, "required": ["name"]}},
        "required": ["id", "name", "done", "estimate", "endDate", "kind"]}
    assert schema == {
        "type": "object", "required": ["data"], "additionalProperties": False,
        "properties": {
            "data": {"type": "object", "additionalProperties": False, "required": ["allTask"],
                     "properties": {"allTask": {
                         "type": "object", "additionalProperties": False,
                         "required": ["count", "results"],
                         "properties": {"count": INT,
                                        "results": {"type": "array", "items": row}}}}},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/GraphQLError"}},
        }}
    assert response["headers"]["ETag"]["schema"] == {"type": "string"}


def test_real_answers_fit_the_documented_schemas(app):
    """Each endpoint's answers, successes and refusals, validate against what the document
    says of their status (formats checked); a body missing a selected key would not."""
    spec = document()
    documented = Documented(spec)
    client, key = Client(), key_of(app)
    base = "/api/demo/rest"

    def call(method: str, path: str, url: str, body=None, status=200, **headers):
        content = "" if body is None else json.dumps(body)
        response = client.generic(method.upper(), base + url, content,
                                  content_type="application/json", **headers)
        assert response.status_code == status, response.content
        return documented.check(path, method, response)

    one = call("get", "/tasks/{id}", "/tasks/1")
    assert one["data"]["oneTask"]["project"] == {"name": "Office move"}
    assert call("get", "/tasks/{id}", "/tasks/99999") == {"data": {"oneTask": None}}
    call("get", "/tasks/{id}", "/tasks/x", status=400)
    call("get", "/tasks/{id}", "/tasks/1", status=401, HTTP_AUTHORIZATION="Bearer nope")
    replaced = call("put", "/tasks/{id}", "/tasks/1",
                    {"input": {"estimate": "2.50", "priority": "high"}}, **key)
    assert replaced["data"]["updateTask"]["estimate"] == "2.50"
    call("put", "/tasks/{id}", "/tasks/1", {"input": {"estimate": "2.5"}}, status=403)
    call("put", "/tasks/{id}", "/tasks/1", {"input": {"nope": 1}}, status=400, **key)
    call("put", "/tasks/{id}", "/tasks/99999", {"input": {"name": "x"}}, status=404, **key)
    finished = call("patch", "/tasks/{id}", "/tasks/2?done=false", **key)
    assert finished["data"]["updateTask"]["done"] is False
    call("put", "/tasks/{id}", "/tasks/2", {"input": {"estimate": 1}}, **key)
    found = call("get", "/search", "/search?done&take=2&atLeast=1.5&withProject")
    assert found["data"]["allTask"]["results"] == [{
        "id": 1, "name": "Design homepage", "done": True, "estimate": "2.50",
        "endDate": "2025-01-13", "kind": "Task", "project": {"name": "Office move"}}]
    posted = call("post", "/search", "/search", {"done": False, "order": "DESC",
                                                "take": 1, "name": "W"})
    assert posted["data"]["allTask"] == {"count": 1, "results": [{
        "id": 2, "name": "Write copy", "done": False, "estimate": "1.00",
        "endDate": "2025-01-20", "kind": "Task"}]}
    filtered = call("post", "/filter/tasks", "/filter/tasks", {
        "where": {"_or": [{"id": {"eq": 1}}, {"id": {"eq": 3}}]}})
    assert filtered["data"]["allTask"]["results"] == [
        {"id": 1, "name": "Design homepage"}, {"id": 3, "name": "Set up hosting"}]
    def open_tasks() -> int:
        return call("get", "/tasks", "/tasks?take=1")["data"]["allTask"]["totalCount"]

    before = open_tasks()
    call("post", "/tasks", "/tasks", {"input": {"name": "Mow"}}, status=403)
    response = client.post(base + "/tasks", "name=Mow", content_type="text/plain", **key)
    assert response.status_code == 415
    documented.check("/tasks", "post", response)
    assert open_tasks() == before
    created = call("post", "/tasks", "/tasks", {"input": {"name": "Mow", "project": {"id": 1}}},
                   **key)["data"]["createTask"]
    assert open_tasks() == before + 1
    call("get", "/tasks", "/tasks?done=maybe", status=400)
    removed = call("delete", "/tasks/{id}", f"/tasks/{created['id']}", **key)
    assert removed["data"]["deleteTask"] == {"id": created["id"], "name": "Mow"}

    strict = documented.validator("/tasks/{id}", "get", 200)
    assert not strict.is_valid({"data": {"oneTask": {**one["data"]["oneTask"],
                                                     "extra": 1}}})
    del one["data"]["oneTask"]["project"]
    assert not strict.is_valid(one)


def test_broken_endpoints_are_left_out_and_listed(app):
    """An endpoint that no longer fits the schema answers 500: it has no operation, and
    x-broken-endpoints (and the description) say why; the document stays valid."""
    RestEndpoint.objects.create(application=app, name="stale", url="stale",
                                query="{ oneTask { nope } }")
    spec = document()
    validate(spec, cls=OpenAPIV31SpecValidator)
    assert "/stale" not in spec["paths"]
    problem = "Cannot query field 'nope' on type 'Task'. Did you mean 'done' or 'name'?"
    assert spec["x-broken-endpoints"] == [{"name": "stale", "url": "stale",
                                           "methods": ["GET", "POST"], "problems": [problem]}]
    assert spec["info"]["description"].endswith(f"(they answer 500): stale ({problem})")
    assert Client().get("/api/demo/rest/stale").status_code == 500


def test_the_version_changes_with_the_endpoints(app):
    """info.version: the schema version, then a digest of the document; the same while
    nothing changes."""
    first = document()["info"]["version"]
    assert document()["info"]["version"] == first
    schema_version = first.split(".")[0]
    RestEndpoint.objects.filter(application=app, name="search").update(comment="Changed.")
    app.save()  # what saving through the model does (the signal touches the application)
    second = document()["info"]["version"]
    assert second != first and second.split(".")[0] == schema_version
    changes.add_property(app.data_models.get(name="Project"), "code")
    assert document()["info"]["version"].split(".")[0] != schema_version


def test_who_may_read_the_document(app):
    """With introspection on, anyone; off, server keys only: anonymous 403 saying so, a bad
    token 401; not with POST."""
    client = Client()
    assert client.get("/api/demo/rest/openapi.json").status_code == 200
    app.introspection_enabled = False
    app.save()
    response = client.get("/api/demo/rest/openapi.json")
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    assert "for server keys only" in response.json()["errors"][0]["message"]
    response = client.get("/api/demo/rest/openapi.json", HTTP_AUTHORIZATION="Bearer nope")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    spec = document(client, **key_of(app))
    validate(spec, cls=OpenAPIV31SpecValidator)
    assert set(spec["paths"]) == {path for path, _ in OPERATIONS}
    response = client.post("/api/demo/rest/openapi.json")
    assert response.status_code == 405
    assert response["Allow"] == "GET"


def test_methods_a_path_does_not_list_are_405_allowing_the_listed_ones(app):
    """The document and the routing agree: any other method on a documented path (TRACE,
    QUERY, ... as schemathesis tries) is 405 with Allow naming the documented methods."""
    spec = document()
    client = Client()
    for path, item in spec["paths"].items():
        url = "/api/demo/rest" + path.replace("{id}", "1")
        for method in ("TRACE", "QUERY", "OPTIONS", *(m for m in ("GET", "POST", "PUT",
                                                                  "PATCH", "DELETE")
                                                      if m.lower() not in item)):
            response = client.generic(method, url)
            assert response.status_code == 405, (method, path, response.content)
            assert set(response["Allow"].split(", ")) == {m.upper() for m in item}, path


def test_the_document_costs_no_statement_per_endpoint(app):
    """Its statements do not grow with the number of endpoints (comments read at once)."""
    client = Client()
    document(client)
    with CaptureQueriesContext(connection) as before:
        document(client)
    for number in range(5):
        RestEndpoint.objects.create(application=app, name=f"more{number}", url=f"more/{number}",
                                    query="{ allTask { totalCount } }", comment=f"{number}")
    app.save()
    document(client)
    with CaptureQueriesContext(connection) as after:
        spec = document(client)
    assert len(spec["paths"]) == len({path for path, _ in OPERATIONS}) + 5
    assert len(after) == len(before), [q["sql"] for q in after.captured_queries]


def test_schemathesis_finds_no_server_error(app, live_server):
    """Schemathesis, from the served document, sends valid and invalid requests to every
    operation (writes allowed to anyone) and gets no 5xx."""
    open_to_anyone(app)
    started = time.perf_counter()
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/demo/rest/openapi.json",
                                           config=schemathesis.Config())
    failures, labels = [], []
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @hypothesis_settings(max_examples=15, deadline=None, database=None,
                                 derandomize=True, suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                case.call_and_validate(checks=[not_a_server_error], timeout=10)

            try:
                run()
            except FailureGroup as failure:  # not an AssertionError: keep going, report all
                failures.append(f"{operation.label} [{mode.value}]:\n{failure}")
    assert sorted(labels) == sorted(f"{method.upper()} {path}" for path, method in OPERATIONS)
    assert not failures, "\n\n".join(failures)
    print(f"schemathesis: {len(labels)} operations in {time.perf_counter() - started:.1f} s")
