"""What a client is told about the buckets: X-RateLimit-* headers, and the 429 / 503 answers."""

from __future__ import annotations

import functools
import json
import math

from django.http import HttpRequest, HttpResponse

from apps.error_codes import ErrorCode
from models_registry.lru import report_cached

from .policy import Bucket, Decision

GRAPHQL_RESPONSE = "application/graphql-response+json"
POLICIES_KEPT = 1024  # a few distinct sets of limits per application


@functools.lru_cache(maxsize=POLICIES_KEPT)  # each set of limits' header made once
def policy_header(buckets: tuple[Bucket, ...]) -> str:
    """RateLimit-Policy in the IETF draft's form: "minute";q=200;w=60, ..."""
    return ", ".join(f'"{b.name}";q={b.capacity};w={max(1, math.ceil(b.period_seconds))}'
                     for b in buckets)


report_cached("rate-limit policy headers", policy_header)


def add_headers(response: HttpResponse, decision: Decision) -> None:
    """Limit, remaining and reset (Unix time, seconds) of the bucket that served the request;
    for a refusal, of the bucket that is full again first."""
    state = (decision.states[decision.served] if decision.admitted
             else decision.earliest_refill())
    resets_at_ms = state.resets_at_ms or decision.now_ms + state.bucket.period_ms
    response["X-RateLimit-Limit"] = str(state.bucket.capacity)
    response["X-RateLimit-Remaining"] = str(state.remaining)
    response["X-RateLimit-Reset"] = str(math.ceil(resets_at_ms / 1000))
    response["RateLimit-Policy"] = policy_header(tuple(s.bucket for s in decision.states))


def retry_after_seconds(decision: Decision) -> int:
    return max(1, math.ceil(decision.earliest_refill().resets_in_ms(decision.now_ms) / 1000))


def refused(request: HttpRequest, decision: Decision) -> HttpResponse:
    if not any(state.bucket.capacity for state in decision.states):
        return _error(request, 429, ErrorCode.RATE_LIMITED,
                      "This application's rate limits are all 0, so it serves no requests; "
                      "its builders can raise them on its admin page.")
    wait = retry_after_seconds(decision)
    limits = ", ".join(f"{s.bucket.capacity:,} per {s.bucket.name}" for s in decision.states)
    response = _error(request, 429, ErrorCode.RATE_LIMITED,
                      f"This application has used up its requests ({limits}); "
                      f"try again in {wait} s.", retryAfter=wait)
    response["Retry-After"] = str(wait)
    return response


def unavailable(request: HttpRequest, retry_after: int) -> HttpResponse:
    response = _error(request, 503, ErrorCode.SERVICE_UNAVAILABLE,
                      "Requests cannot be counted right now, so none are served; "
                      f"try again in {retry_after} s.")
    response["Retry-After"] = str(retry_after)
    return response


def _error(request: HttpRequest, status: int, code: ErrorCode, message: str,
           **extensions) -> HttpResponse:
    """A GraphQL-shaped error body, in the media type the client accepts."""
    content_type = (GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in request.headers.get("Accept", "")
                    else "application/json")
    body = {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    return HttpResponse(json.dumps(body), status=status, content_type=content_type)
