"""Builders define webhooks in the admin: the form checks the URL, models, operations and
`where` against the application (errors on the field they are about) and shows the secret
receivers verify signatures with. A webhook's page lists its latest deliveries (status, time,
answer) with a button to deliver one again; the application's page lists its webhooks with
their state (a disabled one says why)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from models_registry.models import Application

from . import delivery as deliveries
from .checks import schema_problems, static_problems
from .models import OPERATIONS, Delivery, Webhook

LOG_ROWS = 50
FIELDS = {"url": "url", "models": "model_names", "operations": "operations", "where": "where"}


class WebhookForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https",
                         help_text=Webhook._meta.get_field("url").help_text)
    model_names = forms.CharField(
        label="Models", required=False,
        help_text="Model names separated by commas, e.g. Task, Project (empty: all models).")
    operations = forms.MultipleChoiceField(
        choices=[(o, o) for o in OPERATIONS], required=False,
        widget=forms.CheckboxSelectMultiple, help_text="None ticked: all three.")
    where = forms.JSONField(
        required=False, widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text=Webhook._meta.get_field("where").help_text)

    class Meta:
        model = Webhook
        fields = ["application", "name", "url", "model_names", "operations", "where", "enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["model_names"] = ", ".join(self.instance.model_names)

    def clean_model_names(self) -> list[str]:
        text = self.cleaned_data.get("model_names") or ""
        return [name.strip() for name in text.split(",") if name.strip()]

    def clean(self):
        cleaned = super().clean()
        application = cleaned.get("application")
        if application is None or "url" not in cleaned:
            return cleaned
        model_names = cleaned.get("model_names", [])
        operations = [o for o in OPERATIONS if o in cleaned.get("operations", [])]
        cleaned["operations"] = operations
        where = cleaned.get("where")
        problems = static_problems(cleaned["url"], model_names, operations, where,
                                   application.webhook_private_targets)
        if not problems:
            problems = schema_problems(application, model_names, where)
        for key, messages_ in problems.items():
            for message in messages_:
                self.add_error(FIELDS[key], message)
        return cleaned


def fires_on(webhook: Webhook) -> str:
    models = ", ".join(webhook.model_names) or "all models"
    operations = ", ".join(webhook.operations) or "create, update, delete"
    where = f" where {json.dumps(webhook.where)}" if webhook.where is not None else ""
    return f"{models}: {operations}{where}"


def delivery_state(row: Delivery) -> str:
    if row.status == Delivery.Status.FAILED and row.next_attempt_at:
        return f"failed, retried at {row.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC"
    return row.get_status_display()


def delivery_log(webhook: Webhook) -> str:
    rows = list(webhook.deliveries.order_by("-id")[:LOG_ROWS])
    if not rows:
        return mark_safe("<p>No delivery yet.</p>")
    body = format_html_join("", (
        '<tr class="webhook-delivery"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
        "<td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>"), (
        (r.message_id, r.payload.get("type", ""), delivery_state(r), r.attempts,
         f"{r.last_attempt_at:%Y-%m-%d %H:%M:%S}" if r.last_attempt_at else "—",
         r.response_status or "—",
         "" if r.duration_ms is None else f"{r.duration_ms} ms",
         r.response_excerpt or r.error,
         format_html('<button type="submit" class="button" formaction="{}" formnovalidate>'
                     "Redeliver</button>", reverse("admin:webhooks_webhook_redeliver",
                                                   args=[webhook.pk, r.pk])))
        for r in rows))
    return format_html(
        "<table><thead><tr><th>webhook-id</th><th>type</th><th>status</th><th>attempts</th>"
        "<th>last attempt (UTC)</th><th>HTTP</th><th>took</th><th>answer</th><th></th></tr>"
        "</thead><tbody>{}</tbody></table><p>The latest {} deliveries, newest first. "
        "Redeliver queues the event again with the same webhook-id.</p>", body, LOG_ROWS)


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ["name", "application", "url", "fires_on", "state"]
    list_filter = ["application", "enabled"]
    search_fields = ["name", "url"]
    list_select_related = ["application"]
    readonly_fields = ["secret_shown", "state", "deliveries_log"]

    def get_fieldsets(self, request, obj=None):
        main = ["application", "name", "url", "model_names", "operations", "where", "enabled"]
        if obj is None:
            return [(None, {"fields": main})]
        return [(None, {"fields": main}), ("Signing", {"fields": ["secret_shown"]}),
                ("State", {"fields": ["state"]}),
                ("Deliveries", {"fields": ["deliveries_log"]})]

    @admin.display(description="secret")
    def secret_shown(self, obj: Webhook):
        return format_html(
            "<code>{}</code><p>Receivers check the webhook-signature header with it (Standard "
            "Webhooks: HMAC-SHA256 of webhook-id.webhook-timestamp.body).</p>", obj.secret)

    @admin.display(description="fires on")
    def fires_on(self, obj: Webhook) -> str:
        return fires_on(obj)

    @admin.display(description="state")
    def state(self, obj: Webhook):
        return webhook_state(obj)

    @admin.display(description="log")
    def deliveries_log(self, obj: Webhook):
        return delivery_log(obj)

    def get_urls(self):
        redeliver = self.admin_site.admin_view(self.redeliver_view)
        return [path("<int:webhook_id>/redeliver/<int:delivery_id>/", redeliver,
                     name="webhooks_webhook_redeliver"), *super().get_urls()]

    def redeliver_view(self, request, webhook_id: int, delivery_id: int):
        webhook = get_object_or_404(Webhook, pk=webhook_id)
        if request.method != "POST" or not self.has_change_permission(request, webhook):
            raise PermissionDenied
        found = get_object_or_404(Delivery, pk=delivery_id, webhook=webhook)
        queued = deliveries.redeliver(found)
        wake_webhook(webhook)
        self.message_user(request, f"{queued.message_id} is queued again.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:webhooks_webhook_change", args=[webhook.pk]))


def wake_webhook(webhook: Webhook) -> None:
    from .dispatcher import wake

    wake(application_id=webhook.application_id)


def webhook_state(webhook: Webhook):
    if webhook.enabled:
        return mark_safe('<span class="webhook-enabled">enabled</span>')
    if webhook.disabled_reason:
        return format_html('<span class="webhook-disabled">disabled: {}</span>',
                           webhook.disabled_reason)
    return mark_safe('<span class="webhook-disabled">disabled</span>')


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["message_id", "webhook", "status", "attempts", "last_attempt_at",
                    "response_status", "duration_ms"]
    list_filter = ["status", "webhook"]
    list_select_related = ["webhook"]
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Redeliver the selected deliveries")
    def redeliver(self, request, queryset):
        webhooks = {}
        for row in queryset.select_related("webhook").order_by("id"):
            deliveries.redeliver(row)
            webhooks[row.webhook_id] = row.webhook
        for webhook in webhooks.values():
            wake_webhook(webhook)
        self.message_user(request, f"{queryset.count()} queued again.", messages.SUCCESS)


def webhooks_table(application: Application, can_add: bool) -> str:
    hooks = list(application.webhooks.order_by("name"))
    rows = format_html_join("", (
        '<tr class="webhook"><td><a href="{}">{}</a></td><td><code>{}</code></td><td>{}</td>'
        "<td>{}</td></tr>"), (
        (reverse("admin:webhooks_webhook_change", args=[w.pk]), w.name, w.url,
         fires_on(w), webhook_state(w)) for w in hooks))
    table = format_html(
        "<table><thead><tr><th>webhook</th><th>URL</th><th>fires on</th><th>state</th></tr>"
        "</thead><tbody>{}</tbody></table>", rows) if hooks else mark_safe(
        "<p>No webhook yet: add one to have a URL called when records change.</p>")
    add = format_html('<p><a class="addlink" href="{}?application={}">Add a webhook</a></p>',
                      reverse("admin:webhooks_webhook_add"), application.pk) if can_add else ""
    return format_html("{}{}", table, add)


class ApplicationWebhooks:
    """For the application's admin: its webhooks and their state."""

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        can_add = self.admin_site.get_model_admin(Webhook).has_add_permission(request)
        shown = {f for _, options in fieldsets for f in flatten(options["fields"])}
        setting = [] if "webhook_private_targets" in shown else ["webhook_private_targets"]
        return [*fieldsets, ("Webhooks", {"fields": setting, "classes": ["webhooks"],
                                          "description": webhooks_table(obj, can_add)})]


def show_webhooks_in_application_admin(site: admin.AdminSite = admin.site) -> None:
    """Extend the application admin as registered (models_registry may not import webhooks);
    from WebhooksConfig.ready, after the apps listed before it extended it."""
    registered = type(site.get_model_admin(Application))
    site.unregister(Application)
    site.register(Application, type(registered.__name__, (ApplicationWebhooks, registered), {}))
