"""Login, JWTs, refresh tokens: the contract's token examples and every way a token is bad."""

import base64
import json
import threading
from datetime import timedelta

import jwt as pyjwt
import pytest
from django.contrib.auth import hashers
from django.db import connection, connections
from django.utils import timezone

from apps.identity import sessions, tokens
from apps.identity.models import ACCESS_LIFETIME, RefreshToken

from .conftest import LOGIN, ME, REFRESH, REVOKE, Caller


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_login_gives_a_jwt_and_a_refresh_token(caller, profile, demo):
    result = caller.login(profile)
    assert result["isValid"] is True
    claims = claims_of(result["jwtToken"])
    assert claims["sub"] == "1" and claims["aud"] == "mortar:demo" and claims["iss"] == "mortar"
    assert claims["auth_profile"] == str(profile.uuid)
    assert claims["roles"] == ["admin", "editor"]  # Betty's roles, by the profile's relation
    assert claims["exp"] - claims["iat"] == profile.access_token_lifetime
    assert {"jti", "sid"} <= set(claims)
    assert caller.data(ME, token=result["jwtToken"]) == {"oneWebUser": {"id": 1}}
    # only a hash is kept
    assert not RefreshToken.objects.filter(token_hash=result["refreshToken"]).exists()


@pytest.mark.parametrize("username, password", [
    ("betty@example.com", "wrong"), ("nobody@example.com", "betty-demo-1")])
def test_wrong_credentials_are_not_valid(caller, profile, username, password):
    assert caller.login(profile, username, password) == {
        "isValid": False, "jwtToken": None, "refreshToken": None}


def test_an_unknown_user_costs_a_password_check_too(caller, profile, monkeypatch):
    checked = []
    real = hashers.check_password
    monkeypatch.setattr(sessions, "check_password",
                        lambda password, encoded: checked.append(encoded) or real(password,
                                                                                   encoded))
    caller.login(profile, "nobody@example.com", "x")
    caller.login(profile, "betty@example.com", "x")
    assert len(checked) == 2 and all(checked)  # a real hash in both cases


def test_failed_logins_are_throttled(caller, profile, settings):
    settings.MORTAR_LOGIN_FAILURES = "3/5m"
    for _ in range(3):
        assert caller.login(profile, password="wrong")["isValid"] is False
    body = caller.post(LOGIN, {"uuid": str(profile.uuid), "username": "betty@example.com",
                               "password": "betty-demo-1"}).json()
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


def test_unknown_auth_profile_is_bad_user_input(caller, profile):
    body = caller.post(LOGIN, {"uuid": "00000000-0000-0000-0000-000000000000",
                               "username": "x", "password": "y"}).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_lifetimes_are_bounded(profile):
    from django.core.exceptions import ValidationError

    for field, value in (("access_token_lifetime", 59), ("access_token_lifetime", 10_801),
                         ("refresh_token_lifetime", 59),
                         ("refresh_token_lifetime", 1_209_601)):
        setattr(profile, field, value)
        with pytest.raises(ValidationError) as refused:
            profile.full_clean()
        assert field in refused.value.message_dict
        profile.refresh_from_db()


def forged(token: str, **changes) -> str:
    header, payload, signature = token.split(".")
    claims = {**claims_of(token), **changes}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


def unauthenticated(caller: Caller, token: str) -> None:
    response = caller.post(ME, token=token)
    assert response.status_code == 401, response.content
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bad_tokens_are_unauthenticated(caller, profile, demo):
    good = caller.login(profile)["jwtToken"]
    none_alg = pyjwt.encode({**claims_of(good)}, key=None, algorithm="none")
    other_key = pyjwt.encode(claims_of(good), "x" * 64, algorithm="HS256")
    past = timezone.now() - timedelta(hours=5)
    expired = tokens.access_token(profile, 1, "00000000-0000-0000-0000-000000000001", past)
    for token in (forged(good, sub="2"), none_alg, other_key, expired, "not.a.jwt", "garbage"):
        unauthenticated(caller, token)
    response = caller.post(ME, token=good, HTTP_AUTHORIZATION_SCHEME="x")
    assert response.status_code == 200


def test_a_token_of_one_application_is_useless_on_another(caller, profile, demo):
    from models_registry.models import Application

    Application.objects.create(slug="other", name="Other")
    token = caller.login(profile)["jwtToken"]
    unauthenticated(Caller("other"), token)


def test_a_basic_header_is_unauthenticated(caller, profile):
    response = caller.client.post(caller.url, json.dumps({"query": ME}),
                                  content_type="application/json",
                                  HTTP_AUTHORIZATION="Basic YTpi")
    assert response.status_code == 401


def test_rotating_the_key_invalidates_old_tokens(caller, profile, demo):
    token = caller.login(profile)["jwtToken"]
    tokens.rotate_key(demo)
    unauthenticated(caller, token)
    assert caller.data(ME, token=caller.login(profile)["jwtToken"])


def test_refresh_once_then_a_new_pair(caller, profile):
    first = caller.login(profile)
    second = caller.data(REFRESH, {"token": first["refreshToken"]})["refreshToken"]
    assert second["isValid"] is True and second["refreshToken"] != first["refreshToken"]
    assert 0 < second["refreshExpiresIn"] <= profile.refresh_token_lifetime
    assert caller.data(ME, token=second["jwtToken"])


def test_reusing_a_spent_token_revokes_the_family(caller, profile):
    profile.refresh_grace_seconds = 0
    profile.save()
    first = caller.login(profile)
    second = caller.data(REFRESH, {"token": first["refreshToken"]})["refreshToken"]
    reused = caller.data(REFRESH, {"token": first["refreshToken"]})["refreshToken"]
    assert reused == {"isValid": False, "jwtToken": None, "refreshToken": None,
                      "refreshExpiresIn": None}
    # the whole login is gone: the child refresh token and every JWT of it
    assert caller.data(REFRESH, {"token": second["refreshToken"]})["refreshToken"][
        "isValid"] is False
    unauthenticated(caller, second["jwtToken"])
    unauthenticated(caller, first["jwtToken"])


def test_replaying_the_parent_within_the_grace_window_gives_the_same_pair(caller, profile):
    first = caller.login(profile)
    second = caller.data(REFRESH, {"token": first["refreshToken"]})["refreshToken"]
    again = caller.data(REFRESH, {"token": first["refreshToken"]})["refreshToken"]
    assert again["refreshToken"] == second["refreshToken"]
    assert again["jwtToken"] == second["jwtToken"]
    assert caller.data(ME, token=second["jwtToken"])
    # past the window it is reuse
    RefreshToken.objects.filter(spent_at__isnull=False).update(
        spent_at=timezone.now() - timedelta(seconds=profile.refresh_grace_seconds + 1))
    assert caller.data(REFRESH, {"token": first["refreshToken"]})["refreshToken"][
        "isValid"] is False


def test_revoke_refresh_token_logs_out(caller, profile):
    first = caller.login(profile)
    revoked = caller.data(REVOKE, {"token": first["refreshToken"]})["revokeRefreshToken"]
    assert revoked["removed"] is True and isinstance(revoked["refreshId"], int)
    unauthenticated(caller, first["jwtToken"])
    assert caller.data(REFRESH, {"token": first["refreshToken"]})["refreshToken"][
        "isValid"] is False
    assert caller.data(REVOKE, {"token": "unknown"})["revokeRefreshToken"] == {
        "removed": False, "refreshId": None}


def test_expired_and_revoked_rows_are_purged(caller, profile):
    caller.login(profile)
    live = caller.login(profile)
    # expired longer ago than any JWT minted with it lives (see tests/security: revocation)
    RefreshToken.objects.exclude(token_hash=tokens._hash(live["refreshToken"])).update(
        expires_at=timezone.now() - timedelta(seconds=ACCESS_LIFETIME[1] + 1))
    from apps.identity.tasks import purge_refresh_tokens

    assert purge_refresh_tokens.apply().get() == 1
    assert caller.data(REFRESH, {"token": live["refreshToken"]})["refreshToken"]["isValid"]


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite admits one writer at a time: no race to lose")
def test_concurrent_redemptions_mint_one_pair(caller, profile):
    first = caller.login(profile)
    start = threading.Barrier(8)
    answers = [None] * 8

    def redeem(index: int) -> None:
        try:
            start.wait()
            answers[index] = Caller().data(REFRESH, {"token": first["refreshToken"]})[
                "refreshToken"]
        finally:
            connections.close_all()

    threads = [threading.Thread(target=redeem, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer["isValid"] for answer in answers)  # within the grace window
    assert len({answer["refreshToken"] for answer in answers}) == 1
    parent = RefreshToken.objects.get(token_hash=tokens._hash(first["refreshToken"]))
    assert RefreshToken.objects.filter(parent=parent).count() == 1
