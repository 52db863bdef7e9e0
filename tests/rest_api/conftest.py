"""The demo application with saved REST endpoints, and a client for /api/<slug>/rest/."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from apps.identity import server_keys
from apps.rest_api.models import RestEndpoint
from models_registry.models import Application
from tests.data_api.conftest import demo  # noqa: F401  (fixture)

ONE_TASK = "query($id: Int!) { oneTask(where: { id: { eq: $id } }) { id name done } }"


class Rest:
    """Save endpoints of an application and call them."""

    def __init__(self, application: Application):
        self.application = application
        self.client = Client(HTTP_HOST="localhost")
        self.base = f"/api/{application.slug}/rest/"

    def save(self, name: str, url: str, query: str, methods: list[str] | None = None
             ) -> RestEndpoint:
        """An endpoint saved through the model, as the admin saves it (no checks: the tests
        of refusals are in test_definitions.py and the admin's)."""
        return RestEndpoint.objects.create(application=self.application, name=name, url=url,
                                           query=query, methods=methods or [])

    def get(self, path: str, params=None, **environ):
        return self.client.get(self.base + path, params or {}, **environ)

    def post(self, path: str, body=None, **environ):
        content = "" if body is None else json.dumps(body)
        return self.client.post(self.base + path, content, content_type="application/json",
                                **environ)

    def call(self, method: str, path: str, body=None, **environ):
        content = "" if body is None else json.dumps(body)
        return self.client.generic(method, self.base + path, content,
                                   content_type="application/json", **environ)


@pytest.fixture
def rest(demo) -> Rest:  # noqa: F811
    """A client of the demo's REST API, the demo's own endpoints removed (each test saves
    those it calls); its permissions as shipped: anyone reads, writes need a server key."""
    demo.rest_endpoints.all().delete()
    return Rest(demo)


@pytest.fixture
def server_key(demo) -> dict:  # noqa: F811
    """The Authorization header of a server key of the demo, as client keyword arguments."""
    _, key = server_keys.create(demo, "rest tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def error_of(response) -> dict:
    body = response.json()
    assert len(body["errors"]) == 1, body
    return body["errors"][0]
