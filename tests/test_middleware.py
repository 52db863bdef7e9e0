"""Sessions, logged-in users and messages are for pages (the admin); the data API under
/api/ authenticates by token and skips them (mortar/middleware.py)."""

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client


@pytest.fixture
def logged_in(db) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.create_superuser("admin", password="pw"))
    return client


def test_the_admin_has_its_session_user_and_messages(logged_in):
    response = logged_in.get("/admin/")
    assert response.status_code == 200
    request = response.wsgi_request
    assert request.user.is_superuser and request.session.session_key
    assert hasattr(request, "_messages")


def test_api_requests_pass_by_sessions_users_and_messages(logged_in):
    response = logged_in.post("/api/nosuchapp/graphql", json.dumps({"query": "{ a }"}),
                              content_type="application/json")
    assert response.status_code == 404  # answered by the API's own view
    request = response.wsgi_request
    assert not hasattr(request, "session")
    assert not hasattr(request, "user")
    assert not hasattr(request, "_messages")
    assert "Set-Cookie" not in response and "Cookie" not in response.get("Vary", "")
