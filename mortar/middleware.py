"""Middleware that keeps the data API's path short.

`DataApiShortcut` (first in MIDDLEWARE) sends an API request to an application's GraphQL or
REST endpoint through DATA_API_MIDDLEWARE alone, straight to the endpoint (found among the URL
map's api/ patterns only): no middleware that serves pages, static files or sessions.
Browsers' visits (the playground) and every other path take the whole stack.

Django's session, authentication and message middleware, for pages only: the data API under
/api/ does not need them (its callers authenticate with tokens, and it answers JSON), so these
subclasses pass API requests straight through. They stay subclasses so that the admin's checks
(admin.E408–E410) still find them. A view under /api/ therefore has no request.session,
request.user or messages.
"""

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthentication
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessages
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessions
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.exception import convert_exception_to_response
from django.urls import ResolverMatch, URLResolver, get_resolver
from django.utils.module_loading import import_string

API_PREFIX = "/api/"
# The URL names of the endpoints that take the short way (the REST API's OpenAPI document
# and the API's other URLs take the whole stack).
ENDPOINTS = ("data-api", "rest-endpoint")
HANDLER_HOOKS = ("process_view", "process_exception", "process_template_response")


class DataApiShortcut:
    """The data API's most frequent request, one small read or write, spent as much time in a
    middleware stack built for pages as in its own work: here it skips what it never uses."""

    def __init__(self, get_response):
        self.get_response = get_response
        # The URL map's own patterns under api/, in its order: routed as Django routes them.
        self.api_patterns = [pattern for entry in get_resolver().url_patterns
                             if isinstance(entry, URLResolver) and str(entry.pattern) == "api/"
                             for pattern in entry.url_patterns]
        # Built as Django builds MIDDLEWARE: each layer's exceptions become responses.
        chain = convert_exception_to_response(self._endpoint)
        for path in reversed(settings.DATA_API_MIDDLEWARE):
            middleware = import_string(path)(chain)
            for hook in HANDLER_HOOKS:  # only Django's handler calls them
                if hasattr(middleware, hook):
                    raise ImproperlyConfigured(f"{path} has {hook}: it cannot be in "
                                               "DATA_API_MIDDLEWARE.")
            chain = convert_exception_to_response(middleware)
        self.data_api = chain

    def __call__(self, request):
        match = self.route(request)
        if match is None:
            return self.get_response(request)
        request.resolver_match = match
        return self.data_api(request)

    def route(self, request) -> ResolverMatch | None:
        """The endpoint an API request goes to, or None for the whole stack."""
        path = request.path_info
        # A browser's visit (the playground) is a page: CSRF sets its cookie for the editor.
        if not path.startswith(API_PREFIX) or "text/html" in request.META.get("HTTP_ACCEPT", ""):
            return None
        within = path[len(API_PREFIX):]
        for pattern in self.api_patterns:
            if (match := pattern.resolve(within)) is not None:
                return match if match.url_name in ENDPOINTS else None
        return None

    @staticmethod
    def _endpoint(request):
        match = request.resolver_match
        return match.func(request, *match.args, **match.kwargs)


class _PagesOnly:
    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(_PagesOnly, DjangoSessions):
    pass


class AuthenticationMiddleware(_PagesOnly, DjangoAuthentication):
    pass


class MessageMiddleware(_PagesOnly, DjangoMessages):
    pass
