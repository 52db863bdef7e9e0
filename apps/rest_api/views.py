"""/api/<slug>/rest/<template>: a saved endpoint's document run with the request's variables,
answered as the GraphQL endpoint answers it (same body, authentication, permissions, limits;
rate limits and CORS by the middleware for /api/), with statuses a REST client can act on and
ETags on GET; /api/<slug>/rest/openapi.json describes the endpoints."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import get_conditional_response, set_response_etag
from django.views.decorators.csrf import csrf_exempt

from apps.data_api.errors import ApiError, RequestError, error_entry, error_response
from apps.data_api.freshness import Freshness, run_fresh
from apps.data_api.request.executor import run_prepared
from apps.data_api.request.schemas import api_schema
from apps.data_api.signals import tell_refusals
from apps.data_api.views import declared_length
from apps.error_codes import ErrorCode
from apps.identity.principals import Unauthenticated, authenticate
from models_registry.models import Application

from .openapi import openapi_document
from .routes import Ambiguous, MethodNotAllowed, NoEndpoint, routes_for
from .variables import request_variables

# A response whose every top-level field failed answers with the status of its first error.
STATUS_OF = {
    ErrorCode.BAD_USER_INPUT: 400, ErrorCode.VALIDATION_ERROR: 422,
    ErrorCode.QUERY_TOO_COMPLEX: 400, ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403, ErrorCode.NOT_FOUND: 404, ErrorCode.CONFLICT: 409,
    ErrorCode.RATE_LIMITED: 429, ErrorCode.TIMEOUT: 504, ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.INTERNAL_SERVER_ERROR: 500,
}


def _fresh(request: HttpRequest, slug: str, respond) -> HttpResponse:
    """`respond(application, freshness)`, run again afresh when the application changed since
    this process read it (an endpoint or the schema may be another by now)."""
    try:
        application, response = run_fresh(slug, respond)
    except Application.DoesNotExist:
        return error_response(404, f"There is no application {slug!r}.", ErrorCode.NOT_FOUND)
    request.mortar_application = application  # for the CORS check on the way out
    return response


@csrf_exempt
def endpoint(request: HttpRequest, slug: str, path: str) -> HttpResponse:
    return _fresh(request, slug, lambda application, freshness: _serve(request, application,
                                                                       freshness, path))


def _serve(request: HttpRequest, application: Application, freshness: Freshness,
           path: str) -> HttpResponse:
    try:
        found, captured = routes_for(application).find(_routed_method(request), path)
    except NoEndpoint:
        return error_response(
            404, f"No endpoint of {application.slug} answers /rest/{path.strip('/')}; the "
                 f"endpoints are listed in /api/{application.slug}/rest/openapi.json.",
            ErrorCode.NOT_FOUND)
    except MethodNotAllowed as error:
        response = error_response(
            405, f"/rest/{path.strip('/')} answers {', '.join(error.allowed)}, not "
                 f"{request.method}.", ErrorCode.BAD_USER_INPUT)
        response["Allow"] = ", ".join(error.allowed)
        return response
    except Ambiguous as error:
        return error_response(
            500, f"Endpoints {' and '.join(error.names)} both answer {request.method} "
                 f"/rest/{path.strip('/')}; a builder must change one of them.",
            ErrorCode.INTERNAL_SERVER_ERROR)
    api = api_schema(application)
    ready = found.ready(api, application.introspection_enabled)
    if ready.problems:
        freshness.confirm()  # broken by a schema change, or by one this process missed?
        return error_response(
            500, f"The endpoint {found.name!r} no longer fits the application's schema: "
                 f"{ready.problems[0]} A builder must fix its document in the admin "
                 "(REST endpoints).", ErrorCode.INTERNAL_SERVER_ERROR)
    if declared_length(request) > application.max_body_bytes:
        return error_response(413, f"The request body is over {application.max_body_bytes} "
                                   "bytes.", ErrorCode.BAD_USER_INPUT)
    try:
        body = _json_body(request)
        query = dict(request.GET.lists()) if request.META.get("QUERY_STRING") else {}
        variables = request_variables(ready.declared, captured, query, body)
    except _UnsupportedMediaType as error:
        return error_response(415, str(error), ErrorCode.BAD_USER_INPUT)
    except ValueError as error:
        return error_response(400, str(error), ErrorCode.BAD_USER_INPUT)
    except ApiError as error:
        return JsonResponse({"errors": [error_entry(error)]}, status=400)
    try:
        principal = authenticate(application, request.headers.get("Authorization"))
    except Unauthenticated as error:
        return _unauthenticated(error_response(401, str(error), ErrorCode.UNAUTHENTICATED),
                                'Bearer error="invalid_token"')
    try:
        text = run_prepared(api, application, freshness, ready.prepared,
                            found.definition.query, variables, None, "POST", principal, request)
    except RequestError as error:  # the variables do not fit the document (400)
        return JsonResponse({"errors": error.errors}, status=error.status)
    tell_refusals(request, application, principal, text)
    response = HttpResponse(text, status=_status(text), content_type="application/json")
    if response.status_code == 401:
        _unauthenticated(response, "Bearer")
    if request.method in ("GET", "HEAD"):
        response["Vary"] = "Authorization"  # the view's only Vary (CORS adds Origin later)
        response["Cache-Control"] = "private, no-cache"  # revalidate: If-None-Match → 304
        set_response_etag(response)
        if "If-None-Match" in request.headers:
            response = get_conditional_response(request, etag=response.get("ETag"),
                                                response=response)
    if request.method == "HEAD":  # GET's headers, without its body
        response["Content-Length"] = str(len(response.content))
        response.content = b""
    return response


def _routed_method(request: HttpRequest) -> str:
    """HEAD is answered wherever GET is (RFC 9110)."""
    return "GET" if request.method == "HEAD" else request.method


def _status(text: str) -> int:
    """200, unless the response has errors and no data: then the first error's status."""
    if not text.startswith('{"errors"'):  # the executor writes errors first, when any
        return 200
    body = json.loads(text)
    data = body.get("data")
    if data and any(value is not None for value in data.values()):
        return 200  # partly answered, as GraphQL answers it
    code = body["errors"][0].get("extensions", {}).get("code")
    return STATUS_OF.get(code, 500)


def _unauthenticated(response: HttpResponse, challenge: str) -> HttpResponse:
    response["WWW-Authenticate"] = challenge
    return response


class _UnsupportedMediaType(ValueError):
    pass


def _json_body(request: HttpRequest) -> dict:
    """The body's variables: a JSON object, or nothing (GET's body is never read)."""
    if request.method in ("GET", "HEAD") or not request.body:
        return {}
    if request.content_type != "application/json":
        raise _UnsupportedMediaType(
            f"Send the body as application/json (an object of variables), not "
            f"{request.content_type or 'without a Content-Type'}.")
    try:
        payload = json.loads(request.body)
    except RecursionError:
        raise ValueError("The body nests JSON too deeply to be read.") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError('The body is not valid JSON; send an object of variables such as '
                         '{"id": 1}.') from None
    if not isinstance(payload, dict):
        raise ValueError('The body must be a JSON object of variables, such as {"id": 1}.')
    return payload


def openapi(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method != "GET":
        response = error_response(405, "Read the OpenAPI document with GET.",
                                  ErrorCode.BAD_USER_INPUT)
        response["Allow"] = "GET"
        return response

    def respond(application: Application, freshness: Freshness) -> HttpResponse:
        if not application.introspection_enabled:
            try:
                principal = authenticate(application, request.headers.get("Authorization"))
            except Unauthenticated as error:
                return _unauthenticated(
                    error_response(401, str(error), ErrorCode.UNAUTHENTICATED),
                    'Bearer error="invalid_token"')
            if not principal.actions:
                return error_response(
                    403, "This application keeps its schema to itself (introspection is off), "
                         "so its OpenAPI document is for server keys only: send "
                         "Authorization: Bearer mk_…, or switch introspection on in the admin.",
                    ErrorCode.FORBIDDEN)
        document = openapi_document(application, routes_for(application),
                                    api_schema(application))
        return JsonResponse(document, json_dumps_params={"indent": 1})

    return _fresh(request, slug, respond)
