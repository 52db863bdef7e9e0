"""URL map of the whole site."""

from django.contrib import admin
from django.urls import include, path

from models_registry import views as registry_views

from . import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("apps.watch.urls")),  # before the data API's catch-alls
    path("api/", include("apps.rest_api.urls")),
    path("api/", include("apps.data_api.urls")),
    path("", include("apps.ratelimit.urls")),
    path("", include("apps.audit.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", registry_views.index, name="index"),  # the admin's "View site"
]
