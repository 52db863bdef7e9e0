"""Server keys (the actions context) and generateJwt."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.identity import server_keys
from apps.identity.models import ServerKey

from .conftest import ME
from .test_tokens import claims_of, unauthenticated

GENERATE = ("mutation($userId: Int!, $uuid: String!, $custom: JSON) { generateJwt(userId: "
            "$userId, authProfileUuid: $uuid, customFields: $custom) { jwtToken } }")


def test_createserverkey_prints_the_key_once_and_keeps_a_hash(demo):
    out, err = StringIO(), StringIO()
    call_command("createserverkey", "demo", "--name", "imports", stdout=out, stderr=err)
    key = out.getvalue().strip()
    row = ServerKey.objects.get(application=demo, name="imports")
    assert key.startswith(f"mk_{row.prefix}_") and "shown once" in err.getvalue()
    assert key not in row.key_hash and len(row.key_hash) == 64
    assert server_keys.find(demo, key) == row


def test_createserverkey_refuses_an_unknown_application(demo):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no application 'nope'"):
        call_command("createserverkey", "nope", "--name", "x")


def test_a_server_key_is_the_actions_context(caller, profile, demo):
    _, key = server_keys.create(demo, "actions")
    data = caller.data(GENERATE, {"userId": 1, "uuid": str(profile.uuid),
                                  "custom": {"some": ["extra", "fields"]}}, token=key)
    token = data["generateJwt"]["jwtToken"]
    assert claims_of(token)["custom_fields"] == {"some": ["extra", "fields"]}
    assert claims_of(token)["sub"] == "1"
    assert caller.data(ME, token=token)  # a working end-user token
    assert ServerKey.objects.get(application=demo).last_used_at is not None
    # validationSets: ["empty"] is allowed with it
    created = caller.data('mutation { createProject(input: { name: "" }, validationSets: '
                          '["empty"]) { id } }', token=key)
    assert created["createProject"]["id"]


@pytest.mark.parametrize("who", ["anonymous", "user"])
def test_generate_jwt_is_for_server_keys_only(caller, profile, who):
    token = caller.login(profile)["jwtToken"] if who == "user" else None
    body = caller.post(GENERATE, {"userId": 1, "uuid": str(profile.uuid)}, token=token).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["data"] == {"generateJwt": None}


def test_generate_jwt_for_an_unknown_user(caller, profile, demo):
    _, key = server_keys.create(demo, "actions")
    body = caller.post(GENERATE, {"userId": 999, "uuid": str(profile.uuid)}, token=key).json()
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_revoked_expired_and_foreign_keys_are_unauthenticated(caller, profile, demo):
    from models_registry.models import Application

    revoked, revoked_key = server_keys.create(demo, "old")
    revoked.revoked_at = timezone.now()
    revoked.save()
    _, expired_key = server_keys.create(demo, "short", timezone.now() - timedelta(seconds=1))
    other = Application.objects.create(slug="other", name="Other")
    _, foreign_key = server_keys.create(other, "theirs")
    _, good = server_keys.create(demo, "good")
    for key in (revoked_key, expired_key, foreign_key, good[:-2] + "xx", "mk_nothing"):
        unauthenticated(caller, key)
