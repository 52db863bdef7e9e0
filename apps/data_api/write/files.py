"""References to uploaded files (POST /api/<slug>/files answers with one).

A file or image property is set by a mutation with that reference (`avatar: "<reference>"`),
never with a storage path: the reference is signed, names the application it was uploaded to
and expires (MORTAR_FILE_REFERENCE_SECONDS), so a client can only attach files it uploaded.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

SALT = "mortar.files"


def make_reference(slug: str, stored: dict) -> str:
    return signing.dumps({"app": slug, "file": stored}, salt=SALT, compress=True)


def read_reference(slug: str, reference: str) -> dict:
    """The stored file a reference names; ValueError when it is not one of this app's."""
    try:
        payload = signing.loads(reference, salt=SALT,
                                max_age=settings.MORTAR_FILE_REFERENCE_SECONDS)
    except signing.SignatureExpired:
        raise ValueError("the file reference has expired; upload the file again") from None
    except signing.BadSignature:
        raise ValueError("not a file reference from POST /api/<app>/files") from None
    if payload.get("app") != slug:
        raise ValueError("the file was uploaded to another application")
    return payload["file"]
