from django.urls import path

from . import views

urlpatterns = [
    path("ops/ratelimits", views.ratelimits, name="ops-ratelimits"),
    path("ops/ratelimits/<slug:slug>/reset", views.reset_ratelimits,
         name="ops-ratelimits-reset"),
    path("metrics", views.prometheus_metrics, name="metrics"),
]
