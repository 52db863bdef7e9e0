"""login, refreshToken, revokeRefreshToken and generateJwt, as the data API offers them."""

from __future__ import annotations

import functools
import logging
import secrets
import uuid

import redis
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from apps.error_codes import ErrorCode
from apps.ratelimit.outage_log import OutageLog
from models_registry.models import Application
from models_registry.runtime import runtime_models

from . import signals, throttling, tokens
from .models import AuthProfile
from .principals import Principal

_outage_log = OutageLog(logging.getLogger(__name__))


class Refused(Exception):
    """Refused with an API error code (RATE_LIMITED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT,
    SERVICE_UNAVAILABLE)."""

    def __init__(self, code: ErrorCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


NOT_VALID = {"isValid": False, "jwtToken": None, "refreshToken": None}


@functools.cache
def _dummy_hash() -> str:
    """A hash made as the real ones are, checked when the username is unknown, so that an
    unknown user takes as long to refuse as a wrong password (no enumeration by timing)."""
    return make_password(secrets.token_urlsafe(16))


def profile_of(application: Application, profile_uuid: str) -> AuthProfile:
    try:
        found = AuthProfile.objects.select_related(
            "application", "user_model", "username_property", "password_property"
        ).filter(application=application, uuid=uuid.UUID(str(profile_uuid))).first()
    except ValueError:
        found = None
    if found is None:
        raise Refused(ErrorCode.BAD_USER_INPUT, f"There is no auth profile {profile_uuid!r} "
                      "in this application; copy its uuid from the admin.")
    return found


def _reserve_failure(request: HttpRequest, application: Application,
                     username: str) -> throttling.Reservation | None:
    """This login counted as a failure in advance (None: uncounted, the cache being down and
    MORTAR_RATELIMIT_FAIL open); RATE_LIMITED when its IP or username has no failure left."""
    try:
        reservation = throttling.reserve_failure(request, application, username)
    except redis.RedisError as error:  # the cache raises when Redis is down
        _outage_log.warning("Login throttling could not reach the cache (%s); logins are %s "
                            "(MORTAR_RATELIMIT_FAIL).", error,
                            "refused" if settings.MORTAR_RATELIMIT_FAIL == "closed" else "allowed")
        if settings.MORTAR_RATELIMIT_FAIL == "closed":
            raise Refused(ErrorCode.SERVICE_UNAVAILABLE, "Logins cannot be checked right now; try "
                          "again in a minute.") from None
        return None
    if reservation is None:
        raise Refused(ErrorCode.RATE_LIMITED, "Too many failed logins from here or for this "
                      "username; wait a few minutes and try again.")
    return reservation


def login(request: HttpRequest, application: Application, profile_uuid: str, username: str,
          password: str) -> dict:
    """Outside any transaction until the password is known to be right: on SQLite a
    transaction holds the database's write lock, and hashing takes a good fraction of a
    second on purpose."""
    profile = profile_of(application, profile_uuid)
    reservation = _reserve_failure(request, application, username)
    users = runtime_models(application).by_id[profile.user_model_id]
    username_column = profile.username_property.attname
    found = (users.objects.filter(**{username_column: username})
             .values_list("pk", profile.password_property.attname).first())
    stored = found[1] if found else None
    if not check_password(password, stored or _dummy_hash()) or not stored:
        signals.tell("login.failed", application, request, profile=str(profile.uuid),
                     username=username)
        return dict(NOT_VALID)  # the failure stays counted
    if reservation is not None:
        try:
            reservation.give_back()
        except redis.RedisError as error:  # the login goes on, counted as a failure
            _outage_log.warning("Login throttling could not reach the cache (%s); a good "
                                "login stays counted as a failure.", error)
    with transaction.atomic():
        pair = tokens.start_session(profile, found[0])
    signals.tell("login", application, request, user_actor(profile, found[0]),
                 username=username)
    return {"isValid": True, "jwtToken": pair.jwt, "refreshToken": pair.refresh_token}


def user_actor(profile: AuthProfile, user_id: int) -> dict:
    return {"kind": "user", "profile": str(profile.uuid), "id": user_id}


def refresh(application: Application, token: str, request: HttpRequest | None = None) -> dict:
    pair = tokens.redeem(application, token)
    if isinstance(pair, tokens.Reused):
        signals.tell("refresh.reused", application, request,
                     user_actor(pair.profile, pair.user_id), family=str(pair.family))
    if not isinstance(pair, tokens.Pair):
        return {**NOT_VALID, "refreshExpiresIn": None}
    return {"isValid": True, "jwtToken": pair.jwt, "refreshToken": pair.refresh_token,
            "refreshExpiresIn": pair.refresh_expires_in}


def revoke(application: Application, token: str, request: HttpRequest | None = None) -> dict:
    row = tokens.revoke(application, token)
    if row is not None:
        signals.tell("refresh.revoked", application, request,
                     user_actor(row.auth_profile, row.user_id), family=str(row.family))
    return {"removed": row is not None, "refreshId": row.pk if row else None}


def generate_jwt(application: Application, principal: Principal, user_id: int,
                 profile_uuid: str, custom_fields) -> dict:
    if not principal.actions:
        raise Refused(ErrorCode.FORBIDDEN, "generateJwt is for action scripts: send a server "
                      "key as Authorization: Bearer mk_….")
    profile = profile_of(application, profile_uuid)
    users = runtime_models(application).by_id[profile.user_model_id]
    if not users.objects.filter(pk=user_id).exists():
        raise Refused(ErrorCode.NOT_FOUND,
                      f"There is no {profile.user_model.name} with id {user_id}.")
    return {"jwtToken": tokens.access_token(profile, user_id, uuid.uuid4(), timezone.now(),
                                            custom_fields=custom_fields)}
