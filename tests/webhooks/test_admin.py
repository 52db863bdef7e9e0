"""Webhooks in the admin: refusals on the field they are about, the secret shown, the
delivery log with a Redeliver button, the application's page listing its webhooks and why
one is disabled; and the queue in /metrics."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.webhooks.models import Delivery, Webhook

from .conftest import make_webhook

ADD = reverse("admin:webhooks_webhook_add")


def post_webhook(client, application, webhook=None, **fields):
    data = {"application": application.pk, "name": "hook", "url": "https://e.com/in",
            "model_names": "", "where": "", "enabled": "on", "_save": "Save", **fields}
    address = ADD if webhook is None else reverse("admin:webhooks_webhook_change",
                                                  args=[webhook.pk])
    return client.post(address, data)


def form_errors(response) -> dict:
    assert response.status_code == 200, "the form was accepted"
    return {field: list(errors) for field, errors in
            response.context["adminform"].form.errors.items()}


@pytest.fixture
def public_only(hooks_app):
    hooks_app.webhook_private_targets = False
    hooks_app.save()
    return hooks_app


def test_a_valid_webhook_is_saved(admin_client, public_only):
    response = post_webhook(admin_client, public_only, model_names="Task",
                            operations=["create", "update"], where='{"done": {"eq": true}}')
    assert response.status_code == 302, form_errors(response)
    hook = Webhook.objects.get()
    assert (hook.url, hook.model_names, hook.operations, hook.where, hook.enabled) == (
        "https://e.com/in", ["Task"], ["create", "update"], {"done": {"eq": True}}, True)


@pytest.mark.parametrize("fields, field, message", [
    ({"url": "ftp://e.com/x"}, "url", "A webhook URL starts with http:// or https://."),
    ({"url": "http://127.0.0.1:8000/x"}, "url", "127.0.0.1 is a loopback address"),
    ({"url": "http://[::1]/x"}, "url", "::1 is a loopback address"),
    ({"url": "http://10.2.3.4/x"}, "url", "10.2.3.4 is a private address"),
    ({"model_names": "Task, Ghost"}, "model_names", "hooks has no model 'Ghost'"),
    ({"operations": ["upsert"]}, "operations", "Select a valid choice."),
    ({"model_names": "Task", "operations": ["create"], "where": '{"size": {"eq": 1}}'},
     "where", "For Task: where: Field 'size' is not defined by type 'TaskFilterInput'."),
    ({"model_names": "Task", "operations": ["create"], "where": '{"name": {"gt": 1}}'},
     "where", "For Task: where.name: Field 'gt' is not defined by type 'StringFilter'."),
    ({"model_names": "Task", "where": '{"done": {"eq": true}}'}, "where",
     "A deleted record cannot be checked against a where filter"),
    ({"operations": ["create"], "where": '{"done": {"eq": true}}'}, "where",
     "A where filter fits the fields of particular models: name them in models."),
    ({"where": "{nope"}, "where", "Enter a valid JSON."),
])
def test_refusals_show_on_their_field(admin_client, public_only, fields, field, message):
    errors = form_errors(post_webhook(admin_client, public_only, **fields))
    assert any(m.startswith(message) for m in errors.get(field, [])), errors
    assert not Webhook.objects.exists()


def test_private_urls_are_accepted_when_the_application_allows_them(admin_client, hooks_app):
    response = post_webhook(admin_client, hooks_app, url="http://127.0.0.1:8000/x")
    assert response.status_code == 302, form_errors(response)


def test_the_change_page_shows_the_secret_and_the_log_with_redeliver(admin_client, hooks_app):
    hook = make_webhook(hooks_app, "https://e.com/in")
    row = Delivery.objects.create(webhook=hook, event_seq=7, message_id="evt_1_7",
                                  payload={"type": "record.created"}, status="gave_up",
                                  attempts=9, response_status=500,
                                  response_excerpt="boom <b>", last_attempt_at=timezone.now())
    page = admin_client.get(reverse("admin:webhooks_webhook_change", args=[hook.pk]))
    text = page.content.decode()
    assert hook.secret in text
    assert "evt_1_7" in text and "boom &lt;b&gt;" in text and "Gave Up" in text
    redeliver = reverse("admin:webhooks_webhook_redeliver", args=[hook.pk, row.pk])
    assert f'formaction="{redeliver}"' in text
    response = admin_client.post(redeliver)
    assert response.status_code == 302
    again = Delivery.objects.exclude(pk=row.pk).get()
    assert (again.message_id, again.status, again.payload) == ("evt_1_7", "pending",
                                                              row.payload)
    assert admin_client.get(redeliver).status_code == 403


def test_the_application_page_lists_webhooks_and_why_one_is_disabled(admin_client, hooks_app):
    make_webhook(hooks_app, "https://e.com/a", name="alpha")
    make_webhook(hooks_app, "https://e.com/b", name="beta", enabled=False,
                 disabled_at=timezone.now(),
                 disabled_reason="Disabled after 3 deliveries in a row failed every attempt")
    page = admin_client.get(reverse("admin:models_registry_application_change",
                                    args=[hooks_app.pk])).content.decode()
    rows = re.findall(r'<tr class="webhook">.*?</tr>', page, re.S)
    assert len(rows) == 2
    assert "alpha" in rows[0] and "enabled" in rows[0]
    assert "beta" in rows[1] and "disabled: Disabled after 3 deliveries" in rows[1]
    assert "Add a webhook" in page
    assert 'name="webhook_private_targets"' in page  # the application's SSRF setting, there


def test_enabling_a_disabled_webhook_in_the_admin_clears_its_failures(admin_client,
                                                                      hooks_app):
    hook = make_webhook(hooks_app, "https://e.com/in", enabled=False,
                        disabled_at=timezone.now(), disabled_reason="Disabled after ...",
                        consecutive_failures=3)
    response = post_webhook(admin_client, hooks_app, webhook=hook)
    assert response.status_code == 302, form_errors(response)
    hook.refresh_from_db()
    assert (hook.enabled, hook.disabled_at, hook.disabled_reason,
            hook.consecutive_failures) == (True, None, "", 0)


def test_metrics_show_the_queue(admin_client, hooks_app):
    hook = make_webhook(hooks_app, "https://e.com/in")
    for seq, status in enumerate(["pending", "pending", "failed", "succeeded"]):
        Delivery.objects.create(webhook=hook, event_seq=seq, message_id=f"evt_{seq}",
                                payload={}, status=status)
    text = admin_client.get("/metrics").content.decode()
    assert 'mortar_webhook_deliveries_waiting{status="pending"} 2.0' in text
    assert 'mortar_webhook_deliveries_waiting{status="failed"} 1.0' in text
    assert "mortar_webhook_oldest_waiting_seconds" in text
    assert "mortar_webhook_attempt_duration_seconds_bucket" in text
