"""POST /api/<slug>/files: store an uploaded file, answer with a reference to it.

A file or image property is set by a mutation with that reference (`avatar: "<reference>"`),
never with a storage path: the reference is signed, names the application it was uploaded to
and expires (MORTAR_FILE_REFERENCE_SECONDS), so a client can only attach files it uploaded.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from models_registry.files import store_file
from models_registry.models import Application

from .errors import error_response
from .freshness import Freshness

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


@csrf_exempt
def upload(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method != "POST":
        response = error_response(
            405, "Upload with POST, as multipart/form-data with a field named file.",
            "BAD_USER_INPUT")
        response["Allow"] = "POST"
        return response
    try:
        Freshness.reread(slug)
    except Application.DoesNotExist:
        return error_response(404, f"There is no application {slug!r}.", "NOT_FOUND")
    limit = settings.MORTAR_MAX_UPLOAD_BYTES
    if int(request.headers.get("Content-Length") or 0) > limit + 64 * 1024:  # + form overhead
        return error_response(413, f"Files may be at most {limit} bytes.", "BAD_USER_INPUT")
    uploaded = request.FILES.get("file")
    if uploaded is None:
        return error_response(
            400, "No file: send multipart/form-data with the file in a field named file "
                 "(curl -F file=@photo.png ...).", "BAD_USER_INPUT")
    if uploaded.size > limit:
        return error_response(413, f"Files may be at most {limit} bytes.", "BAD_USER_INPUT")
    stored = store_file(uploaded.name, uploaded, uploaded.content_type)
    return JsonResponse({"reference": make_reference(slug, stored), "name": stored["name"],
                         "size": stored["size"], "contentType": stored["contentType"]},
                        status=201)
