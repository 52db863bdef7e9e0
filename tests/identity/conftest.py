"""The demo application with an auth profile on WebUser (email, password)."""

import json

import pytest
from django.core.cache import cache
from django.test import Client

from apps.identity.models import AuthProfile

from ..data_api.conftest import demo  # noqa: F401  (the fixture)

LOGIN = ("mutation($uuid: String!, $username: String!, $password: String!) { "
         "login(authProfileUuid: $uuid, username: $username, password: $password) "
         "{ isValid jwtToken refreshToken } }")
REFRESH = ("mutation($token: String!) { refreshToken(token: $token) "
           "{ isValid jwtToken refreshToken refreshExpiresIn } }")
REVOKE = "mutation($token: String!) { revokeRefreshToken(token: $token) { removed refreshId } }"
ME = "{ oneWebUser(where: { id: { eq: 1 } }) { id } }"


@pytest.fixture
def profile(demo):  # noqa: F811
    """The demo's auth profile (WebUser: email and password), loaded from its definition."""
    cache.clear()  # login throttling counts in the cache
    return AuthProfile.objects.get(application=demo, name="Web users")


class Caller:
    """Requests to the demo API with or without a bearer token."""

    def __init__(self, slug: str = "demo"):
        self.client = Client(HTTP_HOST="localhost")
        self.url = f"/api/{slug}/graphql"

    def post(self, query: str, variables=None, token: str | None = None, **extra):
        if token is not None:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return self.client.post(self.url, json.dumps({"query": query, "variables": variables}),
                                content_type="application/json", **extra)

    def data(self, query: str, variables=None, token: str | None = None) -> dict:
        response = self.post(query, variables, token)
        assert response.status_code == 200, response.content
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    def login(self, profile, username="betty@example.com", password="betty-demo-1") -> dict:
        return self.data(LOGIN, {"uuid": str(profile.uuid), "username": username,
                                 "password": password})["login"]


@pytest.fixture
def caller() -> Caller:
    return Caller()
