"""Mortar's index page, behind the admin's "View site": each application with its API and
playground links, its models, their record counts and record browsers."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from .admin_records import RecordBrowser, record_counts
from .models import Application, DataModel


@staff_member_required  # it lists every application's schema, production ones too
def index(request: HttpRequest) -> TemplateResponse:
    applications = list(Application.objects.prefetch_related("data_models"))
    counts = record_counts(DataModel.objects.all())  # one statement for every model
    listed = [
        {
            "application": application,
            "api_url": request.build_absolute_uri(reverse("data-api", args=[application.slug])),
            "admin_url": reverse("admin:models_registry_application_change",
                                 args=[application.pk]),
            "models": [
                {
                    "name": dm.name,
                    "records": counts[dm.pk],
                    "admin_url": reverse("admin:models_registry_datamodel_change", args=[dm.pk]),
                    "records_url": RecordBrowser.list_url(dm),
                }
                for dm in application.data_models.all()
            ],
        }
        for application in applications
    ]
    return TemplateResponse(request, "models_registry/index.html", {
        **admin.site.each_context(request),
        "title": "Mortar",
        "applications": listed,
    })
