"""The HTTP endpoints of an application's data API: /api/<slug>/graphql (following the
GraphQL-over-HTTP specification, GraphiQL for browsers), /api/<slug>/files (uploads) and
/api/<slug>/files/... (the stored files, at the signed URLs the API hands out)."""

from __future__ import annotations

import json
import time

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.views.decorators.csrf import csrf_exempt

from apps.error_codes import ErrorCode
from apps.identity.access import access_for
from apps.identity.principals import Unauthenticated, authenticate
from apps.ratelimit.admission import NotAdmitted, require_admission
from models_registry.files import IMAGE_TYPES, read_content_type, signed_in_time, store_file
from models_registry.models import Application
from models_registry.runtime import runtime_models

from .errors import ApiError, RequestError, error_response
from .freshness import Freshness, run_fresh
from .playground import graphiql_page, playground_off_page
from .request.executor import run_query
from .signals import tell_refusals
from .write.files import make_reference, upload_refusal

GRAPHQL_RESPONSE = "application/graphql-response+json"


def _response_type(request: HttpRequest) -> str:
    accept = request.headers.get("Accept", "")
    return GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept else "application/json"


@csrf_exempt
def graphql(request: HttpRequest, slug: str) -> HttpResponse:
    content_type = _response_type(request)
    if request.method not in ("GET", "POST"):
        response = error_response(405, "Use POST (or GET for queries).", ErrorCode.BAD_USER_INPUT,
                                   content_type)
        response["Allow"] = "GET, POST"
        return response
    try:
        application, response = run_fresh(slug, lambda application, freshness: _respond(
            request, application, freshness, content_type))
    except NotAdmitted:  # the rate limit's middleware answers instead
        return HttpResponse(status=429)
    except Application.DoesNotExist:
        return error_response(404, f"There is no application {slug!r}.", ErrorCode.NOT_FOUND,
                               content_type)
    request.mortar_application = application  # for the CORS check on the way out
    return response


def _respond(request: HttpRequest, application: Application, freshness: Freshness,
             content_type: str) -> HttpResponse:
    if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
        if application.playground_enabled:
            return graphiql_page(request, application)
        if "query" not in request.GET:  # a visit, not a link to a query's JSON answer
            return playground_off_page(request, application)
    if declared_length(request) > application.max_body_bytes:
        return error_response(
            413, f"The request body is over {application.max_body_bytes} bytes.",
            ErrorCode.BAD_USER_INPUT, content_type)
    try:
        query, variables, operation_name = _request_params(request)
    except UnsupportedMediaType as error:
        return error_response(415, str(error), ErrorCode.BAD_USER_INPUT, content_type)
    except ValueError as error:
        return error_response(400, str(error), ErrorCode.BAD_USER_INPUT, content_type)
    try:
        principal = authenticate(application, request.headers.get("Authorization"))
    except Unauthenticated as error:
        response = error_response(401, str(error), ErrorCode.UNAUTHENTICATED, content_type)
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    try:
        body = run_query(application, freshness, query, variables, operation_name,
                         request.method, principal, request)
    except RequestError as error:
        # application/json clients get 200 for GraphQL request errors (the spec's legacy rule).
        status = error.status if content_type == GRAPHQL_RESPONSE or error.status == 405 else 200
        response = HttpResponse(json.dumps({"errors": error.errors}), status=status,
                                content_type=content_type)
        if error.status == 405:
            response["Allow"] = "POST"
        return response
    require_admission(request)  # the audit entries of refusals only for a request served
    tell_refusals(request, application, principal, body)
    return HttpResponse(body, content_type=content_type)


def declared_length(request: HttpRequest) -> int:
    """The body's length as its Content-Length says (0 when it says nothing readable, as
    Django then reads no body)."""
    try:
        return max(int(request.headers.get("Content-Length") or 0), 0)
    except ValueError:
        return 0


class UnsupportedMediaType(ValueError):
    """A POST body of a type the endpoint does not read (HTTP 415)."""


def _request_params(request: HttpRequest) -> tuple[str, dict | None, str | None]:
    if request.method == "GET":
        params = request.GET
        variables, extensions = _json_param(params, "variables"), _json_param(params, "extensions")
        query, operation_name = params.get("query"), params.get("operationName")
    elif request.content_type == "application/graphql":
        query, variables, extensions, operation_name = request.body.decode(), None, None, None
    elif request.content_type != "application/json":
        # A form or text/plain body is one any web page can send cross-site without a
        # preflight: refused, not read as JSON.
        raise UnsupportedMediaType(
            f"POST a body of type application/json (or application/graphql), not "
            f"{request.content_type or 'one without a Content-Type'}.")
    else:
        try:
            payload = json.loads(request.body or b"null")
        except RecursionError:
            raise ValueError("The body nests JSON too deeply to be read; no GraphQL request "
                             "needs that.") from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ValueError("The body is not valid JSON; send "
                             '{"query": "...", "variables": {...}}.') from None
        if not isinstance(payload, dict):
            raise ValueError('The body must be a JSON object: {"query": "..."}.')
        query, operation_name = payload.get("query"), payload.get("operationName")
        variables, extensions = payload.get("variables"), payload.get("extensions")
    if not isinstance(query, str) or not query.strip():
        raise ValueError('No query: send {"query": "{ allTask { totalCount } }"}.')
    if operation_name is not None and not isinstance(operation_name, str):
        raise ValueError("operationName must be a string.")
    # No extension is read, but a malformed one is refused as the reference server does.
    for name, value, example in (("variables", variables, ' (such as {"id": 1})'),
                                 ("extensions", extensions, "")):
        if value is not None and not isinstance(value, dict):
            raise ValueError(f"{name} must be a JSON object{example} or null, not "
                             f"{_json_type(value)}.")
    return query, variables, operation_name


def _json_param(params: QueryDict, name: str) -> object:
    """A query-string parameter that carries JSON (GET's variables and extensions)."""
    text = params.get(name)
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        raise ValueError(f"{name} must be JSON.") from None


def _json_type(value: object) -> str:
    """What JSON calls the type of a decoded value, for error messages."""
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):  # before numbers: a bool is an int in Python
        return "a boolean"
    return "a number" if isinstance(value, int | float) else "an array"


@csrf_exempt
def upload(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method != "POST":
        response = error_response(
            405, "Upload with POST, as multipart/form-data with a field named file.",
            ErrorCode.BAD_USER_INPUT)
        response["Allow"] = "POST"
        return response
    try:
        application, _ = Freshness.reread(slug)
    except Application.DoesNotExist:
        return error_response(404, f"There is no application {slug!r}.", ErrorCode.NOT_FOUND)
    try:
        principal = authenticate(application, request.headers.get("Authorization"))
    except Unauthenticated as error:
        response = error_response(401, str(error), ErrorCode.UNAUTHENTICATED)
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    access, built = access_for(application, principal), runtime_models(application)
    refusal = upload_refusal(access, built)  # before the body is read
    if refusal is not None:
        return _refused(refusal)
    limit = settings.MORTAR_MAX_UPLOAD_BYTES
    if declared_length(request) > limit + 64 * 1024:  # + form overhead
        return error_response(413, f"Files may be at most {limit} bytes.", ErrorCode.BAD_USER_INPUT)
    uploaded = request.FILES.get("file")
    if uploaded is None:
        return error_response(
            400, "No file: send multipart/form-data with the file in a field named file "
                 "(curl -F file=@photo.png ...).", ErrorCode.BAD_USER_INPUT)
    if uploaded.size > limit:
        return error_response(413, f"Files may be at most {limit} bytes.", ErrorCode.BAD_USER_INPUT)
    refusal = upload_refusal(access, built, read_content_type(uploaded))
    if refusal is not None:
        return _refused(refusal)
    stored = store_file(uploaded.name, uploaded)
    return JsonResponse({"reference": make_reference(slug, stored), "name": stored["name"],
                         "size": stored["size"], "contentType": stored["contentType"]},
                        status=201)


def _refused(error: ApiError) -> HttpResponse:
    if error.code != ErrorCode.UNAUTHENTICATED:
        return error_response(403, error.message, error.code)
    response = error_response(401, error.message, error.code)
    response["WWW-Authenticate"] = "Bearer"  # no token was sent (RFC 6750: no error then)
    return response


def stored_file(request: HttpRequest, slug: str, path: str) -> HttpResponse:
    """A stored file, at a URL the API or the admin signed (models_registry.files). Only the
    images a browser merely draws are shown inline; anything else is a download, and nothing
    served here may run script on this origin (nosniff, a sandbox CSP)."""
    if request.method not in ("GET", "HEAD"):
        response = error_response(405, "Files are read with GET.", ErrorCode.BAD_USER_INPUT)
        response["Allow"] = "GET, HEAD"
        return response
    key, expires = f"files/{path}", request.GET.get("expires", "")
    if not signed_in_time(slug, key, expires, request.GET.get("signature", "")):
        return _no_file()
    try:
        content = default_storage.open(key)
    except (FileNotFoundError, SuspiciousFileOperation):
        return _no_file()
    content_type = read_content_type(content)
    response = FileResponse(content, content_type=content_type, filename=key.rsplit("/", 1)[-1],
                            as_attachment=content_type not in IMAGE_TYPES)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = f"private, max-age={max(int(expires) - int(time.time()), 0)}"
    return response


def _no_file() -> HttpResponse:
    return error_response(404, "This file link is unknown or has expired; read the record again "
                               "for a fresh url.", ErrorCode.NOT_FOUND)
