"""Builders define REST endpoints in the admin: the document is checked against the
application's schema when saved (errors on the field they are about), and the list shows each
endpoint's URL and whether a later schema change broke it. The application's page lists its
endpoints, with links to add one and to the OpenAPI document."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe

from apps.data_api.request.schemas import api_schema
from models_registry.models import Application

from .checks import Definition, merged, overlap_problems, schema_problems, static_problems
from .models import METHODS, RestEndpoint
from .routes import Endpoint, endpoint_of, routes_for


class RestEndpointForm(forms.ModelForm):
    methods = forms.MultipleChoiceField(
        choices=[(m, m) for m in METHODS], required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: GET and POST for a query, POST for a mutation.")

    class Meta:
        model = RestEndpoint
        fields = ["application", "name", "url", "methods", "query", "comment"]
        widgets = {"query": forms.Textarea(attrs={"rows": 14, "cols": 100,
                                                  "class": "vLargeTextField rest-query",
                                                  "spellcheck": "false"})}
        # The admin shows help texts as HTML: <app> would vanish as an unknown tag.
        help_texts = {"url": escape(RestEndpoint._meta.get_field("url").help_text)}

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


def endpoint_path(application: Application, url: str) -> str:
    return reverse("rest-endpoint", args=[application.slug, url])


def endpoint_status(application: Application, endpoint: Endpoint | None) -> str:
    """ok, or broken: the first reason its document no longer runs."""
    if endpoint is None:
        return "—"
    ready = endpoint.ready(api_schema(application), application.introspection_enabled)
    if not ready.problems:
        return mark_safe('<span class="rest-ok">ok</span>')
    return format_html('<span class="rest-broken">broken: {}</span>', ready.problems[0])


@admin.register(RestEndpoint)
class RestEndpointAdmin(admin.ModelAdmin):
    form = RestEndpointForm
    list_display = ["name", "application", "address", "answers", "status"]
    list_filter = ["application"]
    search_fields = ["name", "url", "query"]
    list_select_related = ["application"]

    class Media:
        css = {"all": ["rest_api/admin.css"]}

    @admin.display(description="URL")
    def address(self, obj: RestEndpoint):
        return format_html("<code>{}</code>", endpoint_path(obj.application, obj.url))

    @admin.display(description="methods")
    def answers(self, obj: RestEndpoint) -> str:
        return ", ".join(endpoint_of(obj).methods)

    @admin.display(description="status")
    def status(self, obj: RestEndpoint):
        application = obj.application
        found = next((e for e in routes_for(application).endpoints if e.id == obj.pk), None)
        return endpoint_status(application, found)


def endpoint_link(application: Application, endpoint: Endpoint) -> str:
    """The endpoint's URL; a link to it when a browser can open it as it is (GET, no segment
    variable to fill in)."""
    path = endpoint_path(application, endpoint.definition.url)
    template = endpoint.definition.template
    if "GET" in endpoint.methods and template is not None and not template.variables:
        return format_html('<a href="{}"><code>{}</code></a>', path, path)
    return format_html("<code>{}</code>", path)


def rest_endpoints_table(application: Application, can_add: bool) -> str:
    """The application's endpoints (name, URL, methods, status), and links to add one, to
    list them and to their OpenAPI document."""
    endpoints = sorted(routes_for(application).endpoints,
                       key=lambda e: (e.definition.url, e.definition.name))
    rows = format_html_join(
        "", '<tr class="rest-endpoint"><td><a href="{}">{}</a></td><td>{}</td><td>{}</td>'
            "<td>{}</td></tr>",
        ((reverse("admin:rest_api_restendpoint_change", args=[e.id]), e.name,
          endpoint_link(application, e), ", ".join(e.methods), endpoint_status(application, e))
         for e in endpoints))
    table = format_html(
        "<table><thead><tr><th>endpoint</th><th>URL</th><th>methods</th><th>status</th></tr>"
        "</thead><tbody>{}</tbody></table>", rows) if endpoints else mark_safe(
        "<p>No REST endpoint yet: save a query or a mutation to serve it at a URL of its "
        "own.</p>")
    add = format_html('<p><a class="addlink" href="{}?application={}">Add a REST endpoint</a>'
                      "</p>", reverse("admin:rest_api_restendpoint_add"),
                      application.pk) if can_add else ""
    listed = reverse("admin:rest_api_restendpoint_changelist") + (
        f"?application__id__exact={application.pk}")
    openapi = reverse("rest-openapi", args=[application.slug])
    who = ("anyone may read it while introspection is on" if application.introspection_enabled
           else "introspection is off: only server keys may read it")
    return format_html(
        '{}{}<p><a href="{}">All REST endpoints of {}</a> · <a href="{}">OpenAPI document</a> '
        "({})</p>", table, add, listed, application.slug, openapi, who)


class ApplicationRestEndpoints:
    """For the application's admin: its REST endpoints, and the links to add one."""

    class Media:
        css = {"all": ["rest_api/admin.css"]}

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        can_add = self.admin_site.get_model_admin(RestEndpoint).has_add_permission(request)
        return [*fieldsets, ("REST endpoints", {"fields": [], "classes": ["rest-endpoints"],
                                                "description": rest_endpoints_table(obj, can_add)})]


def show_rest_endpoints_in_application_admin(site: admin.AdminSite = admin.site) -> None:
    """Extend the application admin as registered (models_registry may not import rest_api).
    Called from RestApiConfig.ready: the class registered then has the rate limits (their
    admin module) and the permissions (IdentityConfig.ready) already."""
    registered = type(site.get_model_admin(Application))
    site.unregister(Application)
    site.register(Application,
                  type(registered.__name__, (ApplicationRestEndpoints, registered), {}))
