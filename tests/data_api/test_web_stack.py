"""The data API's short way through the web stack (mortar.middleware.DataApiShortcut): its
GraphQL and REST answers are the ones the whole stack gives, headers included, and it routes
as the URL map does."""

import json
import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory
from django.urls import Resolver404, resolve

from apps.rest_api.models import RestEndpoint
from models_registry.models import Application
from mortar.middleware import ENDPOINTS, DataApiShortcut

from .conftest import Api

QUERY = "{ oneTask(where: { id: { eq: 1 } }) { id name } }"
# They change from one request to the next: the bucket's level and when it is full again.
CHANGING = {"X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit"}


def _post(body: str, **environ) -> dict:
    return {"path": "/api/demo/graphql", "data": body, "content_type": "application/json",
            **environ}


REQUESTS = {
    "a query": ("post", _post(json.dumps({"query": QUERY}))),
    "a query from an allowed origin": ("post", _post(json.dumps({"query": QUERY}),
                                                     HTTP_ORIGIN="https://app.example.com")),
    "a CORS preflight": ("options", {"path": "/api/demo/graphql",
                                     "HTTP_ORIGIN": "https://app.example.com",
                                     "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"}),
    "a mutation": ("post", _post(json.dumps(
        {"query": 'mutation { createTask(input: { name: "x" }) { name } }'}))),
    "a GET query": ("get", {"path": "/api/demo/graphql", "data": {"query": QUERY}}),
    "the playground": ("get", {"path": "/api/demo/graphql", "HTTP_ACCEPT": "text/html"}),
    "a body that is not JSON": ("post", _post("{not json")),
    "a form body": ("post", {"path": "/api/demo/graphql", "data": {"query": QUERY}}),
    "a PUT": ("put", _post(json.dumps({"query": QUERY}))),
    "an unknown application": ("post", {**_post(json.dumps({"query": QUERY})),
                                        "path": "/api/nope/graphql"}),
    "a REST read": ("get", {"path": "/api/demo/rest/tasks/1"}),
    "a REST read of no record": ("get", {"path": "/api/demo/rest/tasks/999999"}),
    "a REST path saved for nothing": ("get", {"path": "/api/demo/rest/nothing/here"}),
    "a REST write without a key": ("post", {"path": "/api/demo/rest/tasks",
                                            "data": "{}", "content_type": "application/json"}),
    "the OpenAPI document": ("get", {"path": "/api/demo/rest/openapi.json"}),
}


def _answer(method: str, request: dict) -> tuple:
    response = getattr(Client(HTTP_HOST="localhost"), method)(**request)
    headers = {name: value for name, value in response.items() if name not in CHANGING}
    content = re.sub(rb'name="csrfmiddlewaretoken" value="\w+"', b"", response.content)
    return response.status_code, headers, sorted(response.cookies), content


@pytest.mark.parametrize("name", REQUESTS)
def test_the_same_answer_as_through_the_whole_stack(api, demo, settings, name):
    Application.objects.filter(pk=demo.pk).update(
        cors_allowed_origins="https://app.example.com", playground_enabled=True)
    demo.rest_endpoints.all().delete()
    RestEndpoint.objects.create(application=demo, name="task", url="tasks/:id",
                                query="query($id: Int!) { oneTask(where: { id: { eq: $id } }) "
                                      "{ id name } }")
    method, request = REQUESTS[name]
    short = _answer(method, request)
    settings.MIDDLEWARE = [path for path in settings.MIDDLEWARE
                           if path != "mortar.middleware.DataApiShortcut"]
    whole = _answer(method, request)
    assert short == whole, name
    if name in ("a query", "a mutation", "a REST read"):
        assert short[0] == 200, short


def test_answers_carry_the_api_headers(api, demo):
    response = api.post(QUERY)
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(response.content))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert int(response["X-RateLimit-Limit"]) > 0


def test_a_crash_in_the_endpoint_is_a_plain_500(api, monkeypatch):
    from apps.data_api import views

    def broken(*args, **kwargs):
        raise RuntimeError("SELECT secret FROM /etc/passwd")

    monkeypatch.setattr(views, "run_fresh", broken)
    client = Client(HTTP_HOST="localhost", raise_request_exception=False)
    response = client.post("/api/demo/graphql", json.dumps({"query": QUERY}),
                           content_type="application/json")
    assert response.status_code == 500
    assert b"secret" not in response.content and b"Traceback" not in response.content


@pytest.mark.parametrize("path", [
    "/api/demo/graphql", "/api/my_app-2/graphql", "/api/demo/rest/tasks/1",
    "/api/demo/rest/a/b/c", "/api/demo/rest/openapi.json", "/api/demo/rest/openapi.json/x",
    "/api/demo/rest/", "/api/demo/graphql/", "/api/demo/graphqlx", "/api/de.mo/graphql",
    "/api/demo/watch", "/api/demo/files", "/api/demo/files/a.png", "/api/graphql",
    "/admin/", "/healthz", "/api/demo/graphql\n", "/api/demo/rest/tasks/1\n",
    "/api/demo/rest/openapi.json\n",
])
def test_the_shortcut_routes_as_the_url_map(path):
    shortcut = DataApiShortcut(lambda request: None)
    request = RequestFactory().post("/")
    request.path_info = path  # as the server decoded it (the factory would drop a newline)
    taken = shortcut.route(request)
    try:
        resolved = resolve(path)
    except Resolver404:
        resolved = None
    if resolved is None or resolved.url_name not in ENDPOINTS:
        assert taken is None  # the whole stack: other views, or Django's 404
    else:
        assert (taken.func, taken.args, taken.kwargs) == (
            resolved.func, resolved.args, resolved.kwargs)


def test_other_api_paths_take_the_whole_stack(api):
    response = Api().client.post("/api/demo/graphql/", json.dumps({"query": QUERY}),
                                 content_type="application/json")
    assert response.status_code == 404  # no such URL: Django's answer, not the endpoint's
    assert response.get("Content-Type", "").startswith("text/html")


def test_middleware_that_needs_djangos_view_step_is_refused(settings):
    settings.DATA_API_MIDDLEWARE = ["django.middleware.csrf.CsrfViewMiddleware"]
    with pytest.raises(ImproperlyConfigured, match="process_view"):
        DataApiShortcut(lambda request: None)


def test_the_api_middleware_is_the_whole_stacks_in_its_order(settings):
    whole = iter(settings.MIDDLEWARE)
    assert all(path in whole for path in settings.DATA_API_MIDDLEWARE)


def test_api_requests_skip_the_pages_middleware(api, monkeypatch):
    """The short way is taken: CSRF's view step, which the whole stack runs for every view
    (the API's are exempt), does not run for the endpoints; it does for other paths."""
    from django.middleware.csrf import CsrfViewMiddleware

    seen = []
    original = CsrfViewMiddleware.process_view

    def process_view(self, request, *args):
        seen.append(request.path)
        return original(self, request, *args)

    monkeypatch.setattr(CsrfViewMiddleware, "process_view", process_view)
    client = Client(HTTP_HOST="localhost")
    assert client.post("/api/demo/graphql", json.dumps({"query": QUERY}),
                       content_type="application/json").status_code == 200
    assert client.get("/api/demo/rest/openapi.json").status_code == 200
    assert seen == ["/api/demo/rest/openapi.json"]

