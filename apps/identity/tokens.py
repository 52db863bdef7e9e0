"""An application's JWTs (signed and verified by simplejwt's token backend, HS256 with a key
per application) and refresh tokens (random, stored as hashes, one use each).

Refresh tokens of one login form a family. Redeeming one marks it spent and mints its child;
redeeming a spent one again revokes the family (reuse detection, RFC 9700) — except within a
short grace window after it was spent, when the same child pair comes back (several browser
tabs refreshing at once). The child's text is derived from its parent's (an HMAC), and its
JWT's claims are kept, so that pair can be given again without storing any token.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError

from models_registry.models import Application
from models_registry.runtime import runtime_models

from .models import ACCESS_LIFETIME, AuthProfile, RefreshToken, SigningKey

ISSUER = "mortar"
ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("sub", "iat", "exp", "jti", "aud", "iss")


class InvalidToken(Exception):
    """A JWT that must not be trusted: the message says why, for logs (clients see less)."""


def audience(application: Application) -> str:
    return f"mortar:{application.slug}"


def _backend(application: Application, generation: int) -> TokenBackend:
    key = salted_hmac("mortar.identity.jwt", f"{application.pk}:{generation}",
                      secret=settings.SECRET_KEY, algorithm="sha256").hexdigest()
    return TokenBackend(ALGORITHM, signing_key=key, audience=audience(application),
                        issuer=ISSUER)


def key_generation(application: Application) -> int:
    return SigningKey.objects.get_or_create(application=application)[0].generation


def rotate_key(application: Application) -> int:
    """A new signing key: every JWT signed before stops working."""
    key, _ = SigningKey.objects.get_or_create(application=application)
    key.generation += 1
    key.save()
    return key.generation


def sign(application: Application, claims: dict, issued_at: datetime, lifetime: int) -> str:
    payload = {**claims, "iat": int(issued_at.timestamp()),
               "exp": int(issued_at.timestamp()) + lifetime}
    return _backend(application, key_generation(application)).encode(payload)


def verify(application: Application, token: str, generation: int) -> dict:
    """The claims of a JWT signed with the application's current key; InvalidToken otherwise
    (another algorithm, `none`, a bad signature, expired, another audience or issuer)."""
    try:
        claims = _backend(application, generation).decode(token, verify=True)
    except TokenBackendError as error:
        raise InvalidToken(str(error)) from None
    missing = [claim for claim in REQUIRED_CLAIMS if claim not in claims]
    if missing:
        raise InvalidToken(f"the token lacks {', '.join(missing)}")
    return claims


def unverified_family(token: str) -> str | None:
    """The login (`sid`) a JWT claims, read before it is verified, only to look its state up
    in the same query as the key; the claim counts only once the signature holds."""
    try:
        family = jwt.decode(token, options={"verify_signature": False}).get("sid")
        return str(uuid.UUID(family)) if family else None
    except (jwt.PyJWTError, ValueError, TypeError, AttributeError):
        return None


def roles_of(profile: AuthProfile, user_id: int) -> list[str]:
    """The names of the user's roles, through the relation the auth profile names."""
    lookup = profile.roles_lookup()
    if lookup is None:
        return []
    users = runtime_models(profile.application).by_id[profile.user_model_id]
    names = users.objects.filter(pk=user_id).values_list(lookup, flat=True)
    return sorted({name for name in names if name})


def access_token(profile: AuthProfile, user_id: int, jwt_id: uuid.UUID, issued_at: datetime,
                 family: uuid.UUID | None = None, custom_fields=None) -> str:
    claims = {"sub": str(user_id), "jti": str(jwt_id), "auth_profile": str(profile.uuid),
              "roles": roles_of(profile, user_id)}
    if family is not None:
        claims["sid"] = str(family)
    if custom_fields is not None:
        claims["custom_fields"] = custom_fields
    return sign(profile.application, claims, issued_at, profile.access_token_lifetime)


# -- refresh tokens ----------------------------------------------------------------------------

@dataclass
class Pair:
    jwt: str
    refresh_token: str
    refresh_expires_in: int


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _child_text(parent_text: str) -> str:
    digest = salted_hmac("mortar.identity.refresh", parent_text, secret=settings.SECRET_KEY,
                         algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _mint(profile: AuthProfile, user_id: int, family: uuid.UUID, text: str,
          parent: RefreshToken | None, now: datetime) -> Pair:
    row = RefreshToken.objects.create(
        auth_profile=profile, user_id=user_id, family=family, parent=parent,
        token_hash=_hash(text), issued_at=now,
        expires_at=now + timedelta(seconds=profile.refresh_token_lifetime),
        jwt_id=uuid.uuid4(), jwt_issued_at=now)
    return _pair(profile, row, text, now)


def _pair(profile: AuthProfile, row: RefreshToken, text: str, now: datetime) -> Pair:
    jwt = access_token(profile, row.user_id, row.jwt_id, row.jwt_issued_at, row.family)
    return Pair(jwt, text, int((row.expires_at - now).total_seconds()))


def start_session(profile: AuthProfile, user_id: int) -> Pair:
    """A login's first pair: a new family."""
    return _mint(profile, user_id, uuid.uuid4(), secrets.token_urlsafe(32), None,
                 timezone.now())


@dataclass(frozen=True)
class Reused:
    """A spent refresh token sent again: its whole login (`family`) was revoked."""

    profile: AuthProfile
    user_id: int
    family: uuid.UUID


def redeem(application: Application, text: str) -> Pair | Reused | None:
    """The next pair for a refresh token; Reused when it was spent already (the login is
    revoked); None when unknown, expired or revoked."""
    now = timezone.now()
    with transaction.atomic():
        row = (RefreshToken.objects.select_for_update()
               .select_related("auth_profile__application")
               .filter(token_hash=_hash(text), auth_profile__application=application).first())
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            return None
        profile = row.auth_profile
        if row.spent_at is None:
            row.spent_at = now
            row.save(update_fields=["spent_at"])
            return _mint(profile, row.user_id, row.family, _child_text(text), row, now)
        child = RefreshToken.objects.filter(parent=row).first()
        grace = timedelta(seconds=profile.refresh_grace_seconds)
        if (child is not None and child.spent_at is None and child.revoked_at is None
                and now - row.spent_at <= grace):
            return _pair(profile, child, _child_text(text), now)
        revoke_family(row.family, now)
        return Reused(profile, row.user_id, row.family)


def revoke_family(family: uuid.UUID, now: datetime | None = None) -> int:
    return RefreshToken.objects.filter(family=family, revoked_at__isnull=True).update(
        revoked_at=now or timezone.now())


def revoke(application: Application, text: str) -> RefreshToken | None:
    """Revoke the login a refresh token belongs to (its whole family); the row, or None."""
    row = RefreshToken.objects.select_related("auth_profile").filter(
        token_hash=_hash(text), auth_profile__application=application).first()
    if row is None:
        return None
    revoke_family(row.family)
    return row


def token_state(application: Application, family: str | None) -> tuple[int, bool]:
    """(the application's key generation, whether the login `family` was revoked): what
    verifying a JWT needs from the database, in one round trip (a plain cursor: this runs on
    every authenticated request)."""
    keys, tokens_table = SigningKey._meta.db_table, RefreshToken._meta.db_table
    if family is not None:  # as the column stores it (SQLite: 32 hex digits, no dashes)
        family = RefreshToken._meta.get_field("family").get_db_prep_value(
            uuid.UUID(family), connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT generation FROM {keys} WHERE application_id = %s), "
            f"EXISTS (SELECT 1 FROM {tokens_table} WHERE family = %s "
            "AND revoked_at IS NOT NULL)", [application.pk, family])
        generation, revoked = cursor.fetchone()
    return generation or 1, bool(revoked)


def purge_expired(now: datetime | None = None) -> int:
    """Delete refresh tokens once no JWT of their login can still be valid: past their expiry
    by the longest access-token lifetime (a JWT minted with a row may outlive it, and its
    revocation is read from the rows), and revoked ones a day after revocation (longer than
    any JWT minted before it lives)."""
    now = now or timezone.now()
    longest_jwt = timedelta(seconds=ACCESS_LIFETIME[1])
    spent = RefreshToken.objects.filter(expires_at__lte=now - longest_jwt) | (
        RefreshToken.objects.filter(revoked_at__lte=now - max(timedelta(days=1), longest_jwt)))
    return spent.delete()[0]
