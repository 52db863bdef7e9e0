"""The most Mortar's C could reach: the floor's own statement (bench/floor_app.py) answered
through all that every data API request passes on its way to Mortar's endpoint — Django's WSGI
handler and DATA_API_MIDDLEWARE (security headers, CORS, the rate limit with its Redis take,
Content-Length, X-Frame-Options) — and nothing of the endpoint itself: no document, principal,
plan or answer of Mortar's, no URL routing.

Served by granian as Mortar is (`granian --interface wsgi --factory
bench.ceiling_app:from_environment`), with Mortar's settings and the floor's environment
(BENCH_FLOOR_DATABASE, BENCH_FLOOR_NAMES). POST C's body to /api/<slug>/graphql; /healthz
answers as the floor's does. Its requests/s against the floor's are a ceiling for C's share:
Mortar's C does all of this and its own work besides.
"""

from __future__ import annotations

import os


def django_handler(endpoint, middleware: list[str]):
    """Django's WSGI handler with `endpoint` as its only view, through `middleware` alone
    (built as Django builds MIDDLEWARE: each layer's exceptions become responses)."""
    from django.core.handlers.exception import convert_exception_to_response
    from django.core.handlers.wsgi import WSGIHandler
    from django.utils.module_loading import import_string

    chain = convert_exception_to_response(endpoint)
    for path in reversed(middleware):
        chain = convert_exception_to_response(import_string(path)(chain))

    class Handler(WSGIHandler):
        def load_middleware(self, is_async=False):
            self._middleware_chain = chain

    return Handler()


def from_environment():
    """granian's application factory."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mortar.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.http import HttpResponse

    from bench import floor_app

    answer = floor_app.make_answer(*floor_app.where_from_environment())

    def floors_statement(request):
        admission = getattr(request, "mortar_admission", None)
        if admission is not None:  # as Mortar's view does, for the CORS check on the way out
            request.mortar_application = admission.application
        path = "/healthz" if request.path_info == "/healthz" else "/c"
        status, body = answer(path, request.body)
        return HttpResponse(body, status=int(status[:3]), content_type="application/json")

    return django_handler(floors_statement, settings.DATA_API_MIDDLEWARE)
