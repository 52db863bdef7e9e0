"""The endpoint over HTTP: GraphQL-over-HTTP status codes and media types, GET, unknown
applications, body size, CORS per application, GraphiQL."""

import json

import pytest

from models_registry.models import Application

from .conftest import Api

QUERY = "{ oneTask(where: { id: { eq: 1 } }) { id } }"


def test_post_with_graphql_response_media_type(api):
    response = api.post(QUERY, HTTP_ACCEPT="application/graphql-response+json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/graphql-response+json"
    assert response.json() == {"data": {"oneTask": {"id": 1}}}


def test_plain_json_clients_get_application_json(api):
    response = api.post(QUERY)
    assert response["Content-Type"] == "application/json"


def test_get_for_queries(api):
    response = api.client.get(api.url, {"query": "query($id: Int) { oneTask(where: "
                                                 "{ id: { eq: $id } }) { id } }",
                                        "variables": json.dumps({"id": 2})})
    assert response.status_code == 200
    assert response.json() == {"data": {"oneTask": {"id": 2}}}


def test_mutation_over_get_is_405(api):
    response = api.client.get(api.url, {"query": "mutation { createTask { id } }"})
    assert response.status_code == 405
    assert response["Allow"] == "POST"


@pytest.mark.parametrize(
    "body,status,code",
    [
        ("{ allTask { results { id }", 400, "BAD_USER_INPUT"),  # unparsable
        ("{ allTask { results { nope } } }", 400, "BAD_USER_INPUT"),  # invalid
    ],
)
def test_request_errors_are_400_for_graphql_response_clients(api, body, status, code):
    response = api.post(body, HTTP_ACCEPT="application/graphql-response+json")
    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"] == code
    legacy = api.post(body)  # application/json: 200 with errors, as the spec allows
    assert legacy.status_code == 200 and legacy.json()["errors"]


def test_malformed_bodies(api):
    bad_json = api.client.post(api.url, "{not json", content_type="application/json")
    assert bad_json.status_code == 400
    assert "not valid JSON" in bad_json.json()["errors"][0]["message"]
    no_query = api.client.post(api.url, "{}", content_type="application/json")
    assert no_query.status_code == 400
    assert "No query" in no_query.json()["errors"][0]["message"]


def test_unknown_application_is_404_with_a_json_error(demo):
    response = Api("nope").post(QUERY)
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_body_over_the_limit_is_413(api, demo):
    Application.objects.filter(pk=demo.pk).update(max_body_bytes=1000)
    response = api.post(QUERY + " " * 2000)
    assert response.status_code == 413


def test_nothing_internal_leaks(api, demo, monkeypatch):
    from apps.data_api.request import executor

    def broken(*args, **kwargs):
        raise RuntimeError("SELECT secret FROM /etc/passwd")

    monkeypatch.setattr(executor, "field_json", broken)
    body = api(QUERY)
    assert body["data"] == {"oneTask": None}
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret" not in json.dumps(body) and "passwd" not in json.dumps(body)


def test_cors_per_application(api, demo):
    Application.objects.filter(pk=demo.pk).update(
        cors_allowed_origins="https://app.example.com\nhttps://admin.example.com/")
    preflight = api.client.options(api.url, HTTP_ORIGIN="https://app.example.com",
                                   HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                                   HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization")
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert preflight["Access-Control-Allow-Credentials"] == "true"
    assert "authorization" in preflight["Access-Control-Allow-Headers"]

    allowed = api.post(QUERY, HTTP_ORIGIN="https://admin.example.com")
    assert allowed["Access-Control-Allow-Origin"] == "https://admin.example.com"
    other = api.post(QUERY, HTTP_ORIGIN="https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in other


def test_graphiql_for_browsers_when_the_playground_is_on(api, demo):
    response = api.client.get(api.url, HTTP_ACCEPT="text/html")
    assert response.status_code == 400  # off: a browser gets the API's answer
    Application.objects.filter(pk=demo.pk).update(playground_enabled=True)
    response = api.client.get(api.url, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"graphiql" in response.content.lower()
