"""The request being served, for audit entries written where no request is passed (the admin's
own history, `LogEntry`, is saved by Django without one): set for the admin's requests only,
so the data API's path carries nothing more."""

from __future__ import annotations

from contextvars import ContextVar

from django.http import HttpRequest

_current: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


def current_request() -> HttpRequest | None:
    return _current.get()


class AdminRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if not request.path.startswith("/admin/"):
            return self.get_response(request)
        token = _current.set(request)
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
