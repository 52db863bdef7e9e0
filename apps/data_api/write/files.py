"""Uploaded files: who may upload them, and the references POST /api/<slug>/files answers with.

A file or image property is set by a mutation with that reference (`avatar: "<reference>"`),
never with a storage path: the reference is signed, names the application it was uploaded to
and expires (MORTAR_FILE_REFERENCE_SECONDS), so a client can only attach files it uploaded.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from apps.error_codes import ErrorCode
from apps.identity.access import Access
from models_registry.kinds import KINDS, FileKind
from models_registry.runtime import RuntimeModels

from ..errors import PERMISSIONS_PLACE, SERVER_KEY, ApiError, Forbidden

SALT = "mortar.files"


def upload_refusal(access: Access, built: RuntimeModels,
                   content_type: str | None = None) -> ApiError | None:
    """Why the caller may not upload a file of `content_type` (None: before it is read), or
    None when he may: when he may set a property that takes it, one of a model whose records
    he may create or update. A server key always may."""
    if access.unrestricted:
        return None
    kinds = [kind for cls in built.by_id.values()
             if access.allows(cls._mortar.pk, "create") or access.allows(cls._mortar.pk, "update")
             for kind in (KINDS[prop.kind] for prop in cls._mortar.properties.values())
             if isinstance(kind, FileKind)]
    if kinds and (content_type is None or any(kind.takes(content_type) for kind in kinds)):
        return None
    if kinds:
        return Forbidden(f"This file is {content_type}; the properties you may set take PNG, "
                         "JPEG, GIF or WebP images only. Nothing was stored.")
    if access.principal.kind == "anonymous":
        login = " or the JWT of a login that may set one" if access.has_auth_profile else ""
        return ApiError("Anonymous callers may set no file or image property of this "
                        f"application, so they may not upload files: send {SERVER_KEY}{login}, "
                        f"or grant create or update on a model with one {PERMISSIONS_PLACE}.",
                        ErrorCode.UNAUTHENTICATED)
    return Forbidden("You may set no file or image property of this application, so you may "
                     "not upload files to it.")


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
