"""Errors a client may see: each carries its `extensions.code`; `format_error` is the only place
that decides what of an exception reaches a response."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from graphql import GraphQLError

log = logging.getLogger(__name__)
VALUE_ERRORS = (ValueError, TypeError, ValidationError)  # raised by scalars parsing input


class RequestError(Exception):
    """The request cannot be executed at all (GraphQL-over-HTTP "request error")."""

    def __init__(self, errors: list[dict], status: int = 400):
        self.errors = errors
        self.status = status


class ApiError(Exception):
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, code: str | None = None, **extensions: Any):
        super().__init__(message)
        self.message = message
        self.extensions = extensions
        if code is not None:
            self.code = code


class BadUserInput(ApiError):
    code = "BAD_USER_INPUT"


class NotFound(ApiError):
    code = "NOT_FOUND"


class Forbidden(ApiError):
    code = "FORBIDDEN"


class Conflict(ApiError):
    code = "CONFLICT"


class ValidationFailed(ApiError):
    code = "VALIDATION_ERROR"


class QueryTooComplex(ApiError):
    code = "QUERY_TOO_COMPLEX"


class Timeout(ApiError):
    code = "TIMEOUT"


_VARIABLE_AT = re.compile(r"^Variable '\$(?P<variable>\w+)' got invalid value .*? at "
                          r"'(?P=variable)(?P<path>(?:\[\d+\]|\.\w+)+)'; (?P<reason>.*)$", re.S)


def kind_refusals(errors: list[GraphQLError]) -> ValidationFailed | None:
    """Variables of a mutation whose values their kind refused (a date that is no date, a
    decimal with letters): one VALIDATION_ERROR naming each field, as the model's own rules
    are. None when any error is of another sort (a wrong type, a missing variable)."""
    fields: dict[str, list[str]] = {}
    for error in errors:
        match = _VARIABLE_AT.match(error.message)
        if match is None or not isinstance(_innermost(error), VALUE_ERRORS):
            return None
        fields.setdefault(match["path"].lstrip("."), []).append(match["reason"])
    return ValidationFailed(f"{len(fields)} field{'s' if len(fields) > 1 else ''} did not pass "
                            "validation; see extensions.fields. Nothing was changed.",
                            fields=fields)


def _innermost(error: GraphQLError) -> BaseException | None:
    original = error.original_error
    while isinstance(original, GraphQLError):
        original = original.original_error
    return original


def error_response(status: int, message: str, code: str,
                   content_type: str = "application/json") -> HttpResponse:
    """An HTTP response whose body is one GraphQL-shaped error (for refusals before any
    GraphQL work: unknown application, wrong method, body too large)."""
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    return HttpResponse(body, status=status, content_type=content_type)


def error_entry(error: BaseException, path: list | None = None, locations=None) -> dict:
    """One entry of a response's `errors`: message, locations, path and `extensions.code`."""
    # variables' errors wrap the scalar's error
    original = _innermost(error) if isinstance(error, GraphQLError) else None
    if isinstance(original, ApiError):
        error = original
    entry: dict[str, Any] = {}
    if isinstance(error, ApiError):
        entry["message"] = error.message
        extensions = {"code": error.code, **error.extensions}
    elif isinstance(error, GraphQLError) and (
        original is None or isinstance(original, VALUE_ERRORS)
    ):  # graphql-core's own (syntax, validation, variables) or a scalar refusing a value
        entry["message"] = error.message
        extensions = {"code": (error.extensions or {}).get("code", "BAD_USER_INPUT")}
    else:
        log.exception("data API failure", exc_info=original or error)
        entry["message"] = "Internal server error; it has been logged."
        extensions = {"code": "INTERNAL_SERVER_ERROR"}
    if isinstance(error, GraphQLError) and error.locations:
        locations = error.locations
    if locations:
        entry["locations"] = [{"line": loc.line, "column": loc.column} for loc in locations]
    path = path or (error.path if isinstance(error, GraphQLError) else None)
    if path:
        entry["path"] = list(path)
    entry["extensions"] = extensions
    return entry
