"""The `extensions.code` of every error a client of Mortar's APIs can get: DESIGN.md's table,
plus SERVICE_UNAVAILABLE (a service Mortar needs cannot answer now; try again).

One enum for all apps (the data API, identity, rate limiting), below them all, so that none
writes a code as a free string. What each exception maps to is `apps.data_api.errors`'s job.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    BAD_USER_INPUT = "BAD_USER_INPUT"  # malformed arguments, unknown fields, bad variables
    VALIDATION_ERROR = "VALIDATION_ERROR"  # a record breaks its model's rules
    NOT_FOUND = "NOT_FOUND"  # no such record (or application)
    UNAUTHENTICATED = "UNAUTHENTICATED"  # a token is needed, or the one given is not valid
    FORBIDDEN = "FORBIDDEN"  # authenticated, but without the permission
    CONFLICT = "CONFLICT"  # a unique rule broken by a concurrent write
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"  # over the depth or top-level-field limits
    TIMEOUT = "TIMEOUT"  # the statement timeout fired
    RATE_LIMITED = "RATE_LIMITED"  # every bucket is empty (HTTP 429)
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"  # Redis or the database cannot answer now
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"  # anything else; logged, never detailed
