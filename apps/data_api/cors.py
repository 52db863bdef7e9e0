"""Per-application CORS: an application's API answers browsers from the origins it lists.

django-cors-headers does the protocol (preflight, headers); this receiver of its
`check_request_enabled` signal decides per request from the application's allowed origins.
"""

from __future__ import annotations

import re

from corsheaders.signals import check_request_enabled
from django.dispatch import receiver
from django.http import HttpRequest

from models_registry.application_rows import current_application
from models_registry.models import Application

API_PATH = re.compile(r"^/api/(?P<slug>[-a-zA-Z0-9_]+)/")


@receiver(check_request_enabled)
def origin_allowed_by_application(sender, request: HttpRequest, **kwargs) -> bool:
    """Asked on the way out of a request (the view left the application it served on the
    request) and for preflights, which no view sees (read afresh)."""
    match = API_PATH.match(request.path_info)
    origin = request.headers.get("Origin")
    if not (match and origin):
        return False
    application = getattr(request, "mortar_application", None)
    if application is None or application.slug != match["slug"]:
        try:
            application = current_application(match["slug"])
        except Application.DoesNotExist:
            return False
    return origin.rstrip("/") in application.allowed_origins
