"""Per-application CORS: an application's API answers browsers from the origins it lists.

django-cors-headers does the protocol (preflight, headers); this receiver of its
`check_request_enabled` signal decides per request from the application's allowed origins.
"""

from __future__ import annotations

import re

from corsheaders.signals import check_request_enabled
from django.dispatch import receiver
from django.http import HttpRequest

from models_registry.models import Application
from models_registry.runtime import current_application

API_PATH = re.compile(r"^/api/(?P<slug>[-a-zA-Z0-9_]+)/")


def request_application(request: HttpRequest, slug: str) -> Application:
    """The application of an API request, read once per request (the freshness check)."""
    cached = getattr(request, "mortar_application", None)
    if cached is None or cached.slug != slug:
        cached = current_application(slug)
        request.mortar_application = cached
    return cached


@receiver(check_request_enabled)
def origin_allowed_by_application(sender, request: HttpRequest, **kwargs) -> bool:
    match = API_PATH.match(request.path_info)
    origin = request.headers.get("Origin")
    if not (match and origin):
        return False
    try:
        application = request_application(request, match["slug"])
    except Application.DoesNotExist:
        return False
    return origin.rstrip("/") in application.allowed_origins
