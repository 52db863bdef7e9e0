"""Every request to an application's API (/api/<slug>/...) takes a token: the answer carries
the bucket's headers, and is 429 when all three are empty. The GraphQL endpoint works while
the token is asked for (see `admission`); the others wait for it before any work is done."""

from __future__ import annotations

import logging
import math
import re
import time

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from models_registry.application_rows import read_application, remembered_application
from models_registry.lru import report
from models_registry.models import Application

from . import headers, metrics
from .admission import Admission, forget_tokens_left
from .outage_log import OutageLog

log = logging.getLogger(__name__)
_outage_log = OutageLog(log)
API_PATH = re.compile(r"^/api/(?P<slug>[-a-zA-Z0-9_]+)/")


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match = API_PATH.match(request.path_info)
        if match is None:
            return self.get_response(request)
        started = time.perf_counter()
        slug = match["slug"]
        application = _application(slug, fresh=False)
        if application is None:  # no such application: the view says so, nothing to count
            return self.get_response(request)
        response = self._limited(request, slug, application)
        metrics.observe_request(slug, response.status_code, time.perf_counter() - started)
        return response

    def _limited(self, request: HttpRequest, slug: str, application) -> HttpResponse:
        admission = Admission(slug, application, _confirmed)
        request.mortar_admission = admission
        # The GraphQL endpoint works while the answer travels (it calls `require` before
        # anything lasting); the other endpoints wait for it first.
        if request.path_info != f"/api/{slug}/graphql" or not admission.deferrable:
            admission.settle()
        response = None
        if not admission.settled or admission.admitted:
            response = self.get_response(request)
        admission.settle()
        if admission.fresh_application is not None:
            request.mortar_application = admission.fresh_application
        if admission.unavailable is not None:
            return self._backend_down(request, admission, response)
        decision = admission.decision
        if not decision.admitted:  # the view's answer, if it ran, is thrown away
            metrics.REFUSED.labels(slug).inc()
            response = headers.refused(request, decision)
        headers.add_headers(response, decision)
        return response

    def _backend_down(self, request: HttpRequest, admission: Admission,
                      response: HttpResponse | None) -> HttpResponse:
        closed = settings.MORTAR_RATELIMIT_FAIL == "closed"
        metrics.BACKEND_ERRORS.labels("refused" if closed else "served").inc()
        _outage_log.warning("Rate limiting could not reach its backend (%s); requests are %s.",
                            admission.unavailable, "refused (MORTAR_RATELIMIT_FAIL=closed)"
                            if closed else "served uncounted")
        if closed:
            return headers.unavailable(request, admission.retry_seconds())
        return response


_confirmed_at: dict[str, float] = {}
CONFIRMATIONS_KEPT = 10_000
report("refusals confirmed", lambda: len(_confirmed_at), lambda: CONFIRMATIONS_KEPT + 1)


def forget_confirmations() -> None:
    """Let the next refusal of every application check the database, and forget the tokens
    seen left (tests)."""
    _confirmed_at.clear()
    forget_tokens_left()


def _confirmed(slug: str) -> Application | None:
    """The limits this process remembers may be old (raised in the admin since, or the
    application made anew): a refusal is confirmed against the row as it is now, at most
    once every MORTAR_RATELIMIT_RECHECK_SECONDS per application, so that a flood of refused
    requests does not become a flood of queries. None: not due, or no such row."""
    now = time.monotonic()
    if now - _confirmed_at.get(slug, -math.inf) < settings.MORTAR_RATELIMIT_RECHECK_SECONDS:
        return None
    if len(_confirmed_at) > CONFIRMATIONS_KEPT:
        _confirmed_at.clear()
    _confirmed_at[slug] = now
    return _application(slug, fresh=True)


def _application(slug: str, fresh: bool) -> Application | None:
    """The application as this process remembers it (no query), or as it is now."""
    remembered = None if fresh else remembered_application(slug)
    if remembered is not None:
        return remembered[0]
    try:
        return read_application(slug)[0]
    except (Application.DoesNotExist, DatabaseError):
        return None
