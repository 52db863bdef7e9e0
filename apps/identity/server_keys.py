"""Server keys: `mk_<prefix>_<secret>`, shown once, stored as the prefix and a hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.utils import timezone

from models_registry.models import Application

from .models import ServerKey

PREFIX = "mk_"
LAST_USED_EVERY = timedelta(seconds=60)  # at most one write per key and minute


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create(application: Application, name: str, expires_at: datetime | None = None
           ) -> tuple[ServerKey, str]:
    """A new key and its text, which is not kept anywhere: show it once."""
    prefix = secrets.token_hex(4)
    text = f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ServerKey.objects.create(application=application, name=name, prefix=prefix,
                                   key_hash=_hash(text), expires_at=expires_at)
    return row, text


def looks_like_a_key(text: str) -> bool:
    return text.startswith(PREFIX)


def find(application: Application, text: str) -> ServerKey | None:
    """The live key of `application` with this text (compared in constant time), or None."""
    parts = text[len(PREFIX):].split("_", 1)
    if len(parts) != 2:
        return None
    row = ServerKey.objects.filter(application=application, prefix=parts[0]).first()
    now = timezone.now()
    if (row is None or not hmac.compare_digest(_hash(text), row.key_hash)
            or row.revoked_at is not None or (row.expires_at and row.expires_at <= now)):
        return None
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
        ServerKey.objects.filter(pk=row.pk).update(last_used_at=now)
    return row
