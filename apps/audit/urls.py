from django.urls import path

from . import views

urlpatterns = [path("ops/audit", views.audit, name="ops-audit")]
