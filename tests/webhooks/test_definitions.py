"""Webhooks in definition files: the `webhooks` section loads, exports as written (never the
secret), loads twice without change, and refuses bad entries whole, each with its place."""

from __future__ import annotations

import copy

import pytest

from apps.webhooks.models import Webhook
from apps.webhooks.signing import new_secret
from models_registry.definitions import DefinitionError, export_definition, load_definition
from models_registry.models import Application

TRACKER = {
    "mortar": 1,
    "application": {"slug": "tracker", "name": "Tracker"},
    "models": [{"name": "Ticket", "properties": [{"name": "title", "kind": "text"},
                                                 {"name": "open", "kind": "boolean"}]}],
    "relations": [],
    "webhooks": [  # as exported: by name; models, operations, where only when given
        {"name": "closed", "url": "https://hooks.example.com/closed", "models": ["Ticket"],
         "operations": ["update"], "where": {"open": {"eq": False}}},
        {"name": "everything", "url": "https://hooks.example.com/all", "enabled": False},
    ],
}


@pytest.fixture
def tracker_file(loaded_apps) -> dict:
    return copy.deepcopy(TRACKER)


def tracker() -> Application:
    return Application.objects.get(slug="tracker")


def test_a_file_with_webhooks_loads_them_and_exports_them_as_written(tracker_file):
    report = load_definition(tracker_file)
    assert "webhook closed" in report.created and "webhook everything" in report.created
    assert export_definition(tracker())["webhooks"] == tracker_file["webhooks"]
    closed = Webhook.objects.get(name="closed")
    assert closed.secret.startswith("whsec_")
    assert "secret" not in str(export_definition(tracker()))
    assert load_definition(tracker_file).unchanged
    assert load_definition(export_definition(tracker())).unchanged
    assert Webhook.objects.get(name="closed").secret == closed.secret  # kept


def test_a_changed_file_changes_webhooks_and_removes_those_left_out(tracker_file):
    load_definition(tracker_file)
    secret = new_secret()
    tracker_file["webhooks"] = [{"name": "closed", "url": "https://hooks.example.com/v2",
                                 "secret": secret}]
    report = load_definition(tracker_file)
    assert report.changed == ["webhook closed", "webhook everything removed"]
    hook = Webhook.objects.get()
    assert (hook.url, hook.secret, hook.model_names, hook.where) == (
        "https://hooks.example.com/v2", secret, [], None)


@pytest.mark.parametrize("entry, problem", [
    ({"name": "x", "url": "ftp://example.com/"},
     "webhooks[2].url: A webhook URL starts with http:// or https://."),
    ({"name": "x", "url": "https://e.com/", "operations": ["upsert"]},
     "webhooks[2].operations: Unknown operation 'upsert': use create, update, delete."),
    ({"name": "x", "url": "https://e.com/", "models": ["Nope"]},
     "webhooks[2].models: tracker has no model 'Nope' (its models: Ticket)."),
    ({"name": "x", "url": "https://e.com/", "models": ["Ticket"], "operations": ["create"],
      "where": {"nope": {"eq": 1}}},
     "webhooks[2].where: For Ticket: where: Field 'nope' is not defined by type "
     "'TicketFilterInput'. Did you mean 'open'?"),
    ({"name": "x", "url": "https://e.com/", "models": ["Ticket"], "operations": ["create"],
      "where": {"open": {"eq": "maybe"}}},
     "webhooks[2].where: For Ticket: where.open.eq: Boolean cannot represent a non boolean "
     "value: 'maybe'"),
    ({"name": "x", "url": "https://e.com/", "models": ["Ticket"], "where": {}},
     "webhooks[2].where: A deleted record cannot be checked against a where filter: leave "
     "delete out of operations (a second webhook without where can take deletes)."),
    ({"name": "x", "url": "http://192.168.0.10/"},
     "webhooks[2].url: 192.168.0.10 is a private address: webhooks may call only public "
     "addresses, unless the application allows private targets (its webhook private targets "
     "setting)."),
    ({"name": "closed", "url": "https://e.com/"}, "webhooks[2].name: 'closed' is given twice."),
    ({"name": "x", "url": "https://e.com/", "secret": "hunter2"},
     "webhooks[2].secret: A secret starts with whsec_."),
    ({"name": "x", "url": "https://e.com/", "retries": 3},
     "webhooks[2]: unknown key 'retries'; a webhook has enabled, models, name, operations, "
     "secret, url, where."),
])
def test_a_bad_webhook_refuses_the_file_and_creates_nothing(tracker_file, entry, problem):
    tracker_file["webhooks"].append(entry)
    with pytest.raises(DefinitionError) as refused:
        load_definition(tracker_file)
    assert problem in refused.value.problems
    assert not Application.objects.filter(slug="tracker").exists()


def test_the_file_sets_the_feed_settings_and_private_targets_then_allowed(tracker_file):
    tracker_file["webhooks"].append({"name": "local", "url": "http://127.0.0.1:9000/hooks"})
    with pytest.raises(DefinitionError) as refused:
        load_definition(tracker_file)  # a new application: private targets refused
    assert any(p.startswith("webhooks[2].url: 127.0.0.1 is a loopback address")
               for p in refused.value.problems), refused.value.problems

    tracker_file["application"].update(webhookPrivateTargets=True, eventRetentionHours=72)
    load_definition(tracker_file)
    application = tracker()
    assert (application.webhook_private_targets, application.event_retention_hours) == (True, 72)
    assert Webhook.objects.get(name="local").url == "http://127.0.0.1:9000/hooks"
    exported = export_definition(application)["application"]
    assert (exported["webhookPrivateTargets"], exported["eventRetentionHours"]) == (True, 72)
    del tracker_file["application"]["eventRetentionHours"]  # left out: kept
    assert load_definition(tracker_file).unchanged


@pytest.mark.parametrize("setting, value, problem", [
    ("eventRetentionHours", 0, "application.eventRetentionHours: expected a whole number of "
     "hours, at least 1 (how long change events are kept; left out: 24 for a new "
     "application)."),
    ("eventRetentionHours", "24", "application.eventRetentionHours: expected a whole number"),
    ("webhookPrivateTargets", "yes", "application.webhookPrivateTargets: expected true or "
     "false (let webhooks call loopback and private addresses; left out: off for a new "
     "application)."),
])
def test_bad_feed_settings_refuse_the_file(tracker_file, setting, value, problem):
    tracker_file["application"][setting] = value
    with pytest.raises(DefinitionError) as refused:
        load_definition(tracker_file)
    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems
    assert not Application.objects.filter(slug="tracker").exists()
