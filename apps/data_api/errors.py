"""Errors a client may see, and what of an exception reaches a response.

Each error class carries its `extensions.code` (an `ErrorCode`); `coded` turns what the
database, graphql-core or identity raised into one of them; `error_entry` is the only place
that decides what of an exception a client sees (anything unforeseen: a logged
INTERNAL_SERVER_ERROR, never a stack trace or SQL).
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, OperationalError
from django.http import HttpResponse
from graphql import GraphQLError

from apps.error_codes import ErrorCode
from apps.identity.models import Permission
from apps.identity.sessions import Refused

if TYPE_CHECKING:
    from apps.identity.access import Access

log = logging.getLogger(__name__)
VALUE_ERRORS = (ValueError, TypeError, ValidationError)  # raised by scalars parsing input


class RequestError(Exception):
    """The request cannot be executed at all (GraphQL-over-HTTP "request error")."""

    def __init__(self, errors: list[dict], status: int = 400):
        self.errors = errors
        self.status = status

    @classmethod
    def bad_input(cls, message: str, status: int = 400) -> RequestError:
        return cls([{"message": message, "extensions": {"code": ErrorCode.BAD_USER_INPUT}}],
                   status)


class ApiError(Exception):
    code = ErrorCode.INTERNAL_SERVER_ERROR

    def __init__(self, message: str, code: ErrorCode | None = None, **extensions: Any):
        super().__init__(message)
        self.message = message
        self.extensions = extensions
        if code is not None:
            self.code = code


class BadUserInput(ApiError):
    code = ErrorCode.BAD_USER_INPUT


class NotFound(ApiError):
    code = ErrorCode.NOT_FOUND


class Forbidden(ApiError):
    code = ErrorCode.FORBIDDEN


class Conflict(ApiError):
    code = ErrorCode.CONFLICT


class ValidationFailed(ApiError):
    code = ErrorCode.VALIDATION_ERROR


class QueryTooComplex(ApiError):
    code = ErrorCode.QUERY_TOO_COMPLEX


class Timeout(ApiError):
    code = ErrorCode.TIMEOUT


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


def error_response(status: int, message: str, code: ErrorCode,
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
        extensions = {"code": (error.extensions or {}).get("code", ErrorCode.BAD_USER_INPUT)}
    else:
        log.exception("data API failure", exc_info=original or error)
        entry["message"] = "Internal server error; it has been logged."
        extensions = {"code": ErrorCode.INTERNAL_SERVER_ERROR}
    if isinstance(error, GraphQLError) and error.locations:
        locations = error.locations
    if locations:
        entry["locations"] = [{"line": loc.line, "column": loc.column} for loc in locations]
    path = path or (error.path if isinstance(error, GraphQLError) else None)
    if path:
        entry["path"] = list(path)
    entry["extensions"] = extensions
    return entry


def forbidden_entry(path: list[str], refusal: str) -> dict:
    """A relation field left empty because the caller may not read its records; `refusal`
    (`read_refusal` of the related model) names that model and the permission to grant."""
    return {"message": f"{path[-1]} is left empty: {refusal}", "path": path,
            "extensions": {"code": ErrorCode.FORBIDDEN}}


# -- refusals by permission: what is missing, and where a builder grants it ----------------

PERMISSIONS_PLACE = "in the admin under Permissions"
SERVER_KEY = "a server key (Authorization: Bearer mk_…) from server-side code"


def read_refusal(access: Access, model: str, model_id: int) -> str:
    """Why the caller may not read `model`'s records. Depends on the permissions only, never on
    which records exist."""
    if access.principal.kind != "anonymous":
        return (f"{model} is not readable by this user; grant read to any logged-in user or to "
                f"one of his roles {PERMISSIONS_PLACE}.")
    on_login = {
        Permission.Access.AUTHENTICATED: " (or log in: any logged-in user may read it)",
        Permission.Access.ROLES: " (or log in as a user with a role that may read it)",
    }.get(access.granted_on_login(model_id, "read"), "")
    return (f"{model} is not readable by anonymous callers; grant read {PERMISSIONS_PLACE}"
            f"{on_login}.")


def write_refusal(access: Access, model: str, model_id: int, operation: str) -> str:
    """Why the caller may not `operation` (create, update, delete) `model`'s records: what to
    send instead, and where a builder grants it."""
    if access.principal.kind != "anonymous":
        return (f"This user may not {operation} {model} records: grant {operation} to any "
                f"logged-in user or to one of his roles {PERMISSIONS_PLACE}, or send "
                f"{SERVER_KEY}.")
    login = {
        Permission.Access.AUTHENTICATED: " or the JWT of a login (Authorization: Bearer "
                                         "<jwtToken>)",
        Permission.Access.ROLES: " or the JWT of a login with a role that may (Authorization: "
                                 "Bearer <jwtToken>)",
    }.get(access.granted_on_login(model_id, operation), "")
    return (f"Anonymous callers may not {operation} {model} records: send {SERVER_KEY}{login}, "
            f"or grant {operation} {PERMISSIONS_PLACE}.")


# -- what others raise, as coded errors -----------------------------------------------------


def coded(error: Exception) -> Exception:
    """The error a client should see for `error`: an ApiError when its cause is known (an
    argument graphql-core refused, an identity refusal, a database rule, the timeout), else
    `error` itself (which `error_entry` logs and reports as INTERNAL_SERVER_ERROR)."""
    if isinstance(error, GraphQLError) and error.original_error is None:
        return BadUserInput(error.message)  # argument coercion
    if isinstance(error, Refused):
        return ApiError(error.message, code=error.code)
    if isinstance(error, IntegrityError):
        return _integrity_error(error)
    if isinstance(error, UnicodeEncodeError):
        return BadUserInput("Text must be valid Unicode: a lone surrogate (such as \\ud800) "
                            "can be neither stored nor searched for.")
    if isinstance(error, DataError):
        return BadUserInput("The database cannot take one of the values (text with a NUL "
                            "character, or a number out of its range); nothing was changed.")
    if isinstance(error, OperationalError) and _is_timeout(error):
        return Timeout("The query ran longer than this application's statement timeout; "
                       "narrow it with where or a smaller page.")
    return error


def _integrity_error(error: IntegrityError) -> ApiError:
    """A rule the database itself enforced; checked beforehand, so met here only in a race."""
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) == "23505" or "UNIQUE constraint" in str(error):
        return Conflict("Another request wrote a record with the same unique value at the "
                        "same time; read the current data and try again.")
    return ValidationFailed("The database refused the change (a required value missing or a "
                            "related record gone meanwhile); nothing was changed.")


def _is_timeout(error: OperationalError) -> bool:
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    return sqlstate == "57014" or "interrupted" in str(error)
