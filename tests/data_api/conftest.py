"""The demo application, loaded from fixtures/demo.json, and a client for its data API.

The shipped demo lets anyone read and only server keys and users with its roles write
(tests/identity/test_demo_permissions.py holds that); tests about reads and mutations rather
than permissions ask for `demo_open_to_anyone`, through `api`."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from apps.identity.models import Permission
from models_registry.models import Application

DEMO = Path(settings.BASE_DIR) / "fixtures" / "demo.json"


@pytest.fixture
def demo(loaded_apps, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("loadapp", str(DEMO), "--with-data", stdout=StringIO())
    return Application.objects.get(slug="demo")


def open_to_anyone(application: Application) -> None:
    """Let anyone do everything to every model of `application`, as the demo did before it
    closed writes: for tests of what mutations do, not of who may send them."""
    # In a few statements, not four per permission: every test of mutations starts here.
    models = list(application.data_models.all())
    public = {"access": Permission.Access.PUBLIC, "roles": [], "condition": None}
    given = Permission.objects.filter(data_model__in=models)
    given.update(**public)
    there = set(given.values_list("data_model_id", "operation"))
    Permission.objects.bulk_create(
        Permission(data_model=data_model, operation=operation, **public)
        for data_model in models for operation in Permission.Operation.values
        if (data_model.pk, operation) not in there)
    # what the permissions' post_save would have done (bulk writes send none): every process
    # reads the application's rules afresh
    Application.objects.filter(pk=application.pk).update(updated_at=timezone.now())


@pytest.fixture
def demo_open_to_anyone(demo):
    open_to_anyone(demo)
    return demo


class Api:
    def __init__(self, slug: str = "demo"):
        self.client = Client(HTTP_HOST="localhost")
        self.url = f"/api/{slug}/graphql"

    def post(self, query: str, variables=None, **environ):
        """POST a query; `environ` as in Django's test client (HTTP_ACCEPT=...)."""
        body = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return self.client.post(self.url, json.dumps(body), content_type="application/json",
                                **environ)

    def __call__(self, query: str, variables=None) -> dict:
        """The response body; fails the test on HTTP errors."""
        response = self.post(query, variables)
        assert response.status_code == 200, response.content
        return response.json()

    def data(self, query: str, variables=None) -> dict:
        body = self(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def error(self, query: str, variables=None) -> dict:
        body = self(query, variables)
        assert body.get("errors"), body
        return body["errors"][0]


@pytest.fixture
def api(demo) -> Api:
    """An anonymous client of the demo opened to anyone."""
    open_to_anyone(demo)
    return Api()


def ids(result_set: dict) -> list[int]:
    return [record["id"] for record in result_set["results"]]
