"""Probes of what reaches the data API before any permission: tokens signed with the
application's key whose claims are not a login's, bodies of other media types, bodies nested
past what a JSON reader can take. Each gets a coded 4xx, never a 500."""

import json

import pytest
from django.utils import timezone

from apps.identity import tokens

from ..data_api.conftest import demo  # noqa: F401  (the fixture)
from ..identity.conftest import ME, caller, profile  # noqa: F401  (the fixtures)
from ..identity.test_tokens import claims_of


def signed(demo, good: str, **changes) -> str:  # noqa: F811
    """A token signed with the application's own key, its claims changed."""
    claims = {k: v for k, v in claims_of(good).items() if k not in ("iat", "exp")}
    return tokens.sign(demo, {**claims, **changes}, timezone.now(), 600)


NO_LOGIN = ("The token's claims are not those of a login (sub must be a user id, roles a list "
            "of names); log in again.")
INVALID = "The token is invalid or expired; log in again or use refreshToken."


@pytest.mark.parametrize("changes, message", [
    ({"sub": "abc"}, NO_LOGIN), ({"sub": "١"}, NO_LOGIN), ({"sub": "-1"}, NO_LOGIN),
    ({"roles": "admin"}, NO_LOGIN), ({"roles": [1]}, NO_LOGIN),
    ({"sub": 1}, INVALID), ({"sub": None}, INVALID),  # PyJWT: a subject is a string
])
def test_signed_tokens_whose_claims_are_no_login_are_401(caller, profile, demo,  # noqa: F811
                                                          changes, message):
    good = caller.login(profile)["jwtToken"]
    response = caller.post(ME, token=signed(demo, good, **changes))
    assert response.status_code == 401, response.content
    assert response.json()["errors"][0] == {"message": message,
                                            "extensions": {"code": "UNAUTHENTICATED"}}
    assert caller.post(ME, token=signed(demo, good)).status_code == 200


def test_a_body_of_another_media_type_is_415(caller, demo):  # noqa: F811
    """text/plain and forms need no CORS preflight: read as JSON they would let any page
    send mutations cross-site."""
    body = json.dumps({"query": ME})
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = caller.client.post(caller.url, body, content_type=content_type)
        assert response.status_code == 415, content_type
        assert response.json() == {"errors": [{
            "message": "POST a body of type application/json (or application/graphql), not "
                       f"{content_type}.", "extensions": {"code": "BAD_USER_INPUT"}}]}


def test_a_body_nested_too_deeply_is_400(caller, demo):  # noqa: F811
    body = '{"query": "{ a }", "variables": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = caller.client.post(caller.url, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "message": "The body nests JSON too deeply to be read; no GraphQL request needs that.",
        "extensions": {"code": "BAD_USER_INPUT"}}
