"""Django's session, authentication and message middleware, for pages only.

The admin needs them; the data API under /api/ does not (its callers authenticate with
tokens, and it answers JSON), so these subclasses pass API requests straight through. They
stay subclasses so that the admin's checks (admin.E408–E410) still find them. A view under
/api/ therefore has no request.session, request.user or messages.
"""

from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthentication
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessages
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessions

API_PREFIX = "/api/"


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
