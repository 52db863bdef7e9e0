"""Builders define REST endpoints in the admin: the document is checked against the
application's schema when saved (errors on the field they are about), and the list shows each
endpoint's URL and whether a later schema change broke it."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from apps.data_api.request.schemas import api_schema

from .checks import Definition, merged, overlap_problems, schema_problems, static_problems
from .models import METHODS, RestEndpoint
from .routes import endpoint_of, routes_for


class RestEndpointForm(forms.ModelForm):
    methods = forms.MultipleChoiceField(
        choices=[(m, m) for m in METHODS], required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: GET and POST for a query, POST for a mutation.")

    class Meta:
        model = RestEndpoint
        fields = ["application", "name", "url", "methods", "query", "comment"]
        widgets = {"query": forms.Textarea(attrs={"rows": 12, "cols": 80,
                                                  "class": "vLargeTextField rest-query",
                                                  "spellcheck": "false"})}

    def clean(self):
        cleaned = super().clean()
        application = cleaned.get("application")
        if application is None or not all(k in cleaned for k in ("url", "query")):
            return cleaned
        definition = Definition(cleaned.get("name") or "", cleaned["url"],
                                [m for m in METHODS if m in cleaned.get("methods", [])],
                                cleaned["query"])
        problems = static_problems(definition)
        if not problems:
            problems = schema_problems(definition, api_schema(application).documents,
                                       application.introspection_enabled)
        others = [endpoint_of(row).definition for row in
                  RestEndpoint.objects.filter(application=application).exclude(
                      pk=self.instance.pk)]
        for field, messages in merged(problems, overlap_problems(definition, others)).items():
            for message in messages:
                self.add_error(field, message)
        if definition.template is not None:
            cleaned["url"] = definition.template.text
        cleaned["methods"] = definition.methods
        return cleaned


@admin.register(RestEndpoint)
class RestEndpointAdmin(admin.ModelAdmin):
    form = RestEndpointForm
    list_display = ["name", "application", "address", "answers", "status"]
    list_filter = ["application"]
    search_fields = ["name", "url", "query"]
    list_select_related = ["application"]

    @admin.display(description="URL")
    def address(self, obj: RestEndpoint):
        path = reverse("rest-endpoint", args=[obj.application.slug, obj.url])
        return format_html("<code>{}</code>", path)

    @admin.display(description="methods")
    def answers(self, obj: RestEndpoint) -> str:
        return ", ".join(endpoint_of(obj).methods)

    @admin.display(description="status")
    def status(self, obj: RestEndpoint):
        application = obj.application
        found = next((e for e in routes_for(application).endpoints if e.id == obj.pk), None)
        if found is None:
            return "—"
        ready = found.ready(api_schema(application), application.introspection_enabled)
        if not ready.problems:
            return format_html('<span class="rest-ok">ok</span>')
        return format_html('<span class="rest-broken errornote">broken: {}</span>',
                           ready.problems[0])
