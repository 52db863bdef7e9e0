from django.urls import path

from . import views

urlpatterns = [
    path("ops/ratelimits", views.ratelimits, name="ops-ratelimits"),
    path("metrics", views.prometheus_metrics, name="metrics"),
]
