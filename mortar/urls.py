"""URL map of the whole site."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

from . import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("apps.data_api.urls")),
    path("", include("apps.ratelimit.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

if settings.DEBUG:
    media = settings.MEDIA_URL.strip("/")
    urlpatterns.append(
        path(f"{media}/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})
    )
