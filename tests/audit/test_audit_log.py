"""The audit log's own entries: logins (good and bad), a refresh token's reuse and revocation,
refused permissions; each with who, from where and when; read by ops at /ops/audit (cursor
pages, filters, JSON Lines) and in the admin, never changed or deleted but by pruning."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from apps.audit import tasks
from apps.audit.models import AuditEntry
from apps.audit.record import record
from apps.identity import server_keys
from apps.identity.models import Permission
from apps.webhooks.models import Webhook
from models_registry.admin_records import record_url
from models_registry.models import ChangeEvent

from ..data_api.conftest import demo  # noqa: F401
from ..identity.conftest import LOGIN, REFRESH, REVOKE, Caller, caller, profile  # noqa: F401

OPS_TOKEN = "ops-token-for-audit-tests-0123456789"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AuditTest/1.0"


@pytest.fixture(autouse=True)
def ops_token(settings):
    settings.MORTAR_OPS_TOKEN = OPS_TOKEN


def login(caller: Caller, profile, password="betty-demo-1") -> dict:  # noqa: F811
    response = caller.post(LOGIN, {"uuid": str(profile.uuid), "username": "betty@example.com",
                                   "password": password},
                           HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7")
    return response.json()["data"]["login"]


def audit(caller: Caller, **params) -> dict:  # noqa: F811
    response = caller.client.get("/ops/audit", params,
                                 HTTP_AUTHORIZATION=f"Bearer {OPS_TOKEN}")
    assert response.status_code == 200, response.content
    return response.json()


def test_logins_good_and_bad_are_recorded_with_who_and_from_where(caller, profile):  # noqa: F811
    assert login(caller, profile, password="wrong")["isValid"] is False
    assert login(caller, profile)["isValid"] is True
    failed, good = AuditEntry.objects.filter(action__startswith="login").order_by("id")
    assert (failed.action, failed.application, failed.actor_label) == (
        "login.failed", "demo", "anonymous")
    assert failed.details == {"profile": str(profile.uuid), "username": "betty@example.com"}
    assert (good.action, good.actor["kind"], good.ip, good.user_agent) == (
        "login", "user", "203.0.113.7", BROWSER)
    assert good.actor == {"kind": "user", "profile": str(profile.uuid), "id": good.actor["id"]}
    assert "password" not in json.dumps([failed.details, good.details])


def test_a_reused_refresh_token_and_a_revocation_are_recorded(caller, profile):  # noqa: F811
    first = login(caller, profile)["refreshToken"]
    second = caller.data(REFRESH, {"token": first})["refreshToken"]["refreshToken"]
    caller.data(REFRESH, {"token": second})  # the second spent too: no grace left for the first
    assert caller.data(REFRESH, {"token": first})["refreshToken"]["isValid"] is False  # reused
    reused = AuditEntry.objects.get(action="refresh.reused")
    assert reused.actor["kind"] == "user" and reused.details["family"]
    again = login(caller, profile)["refreshToken"]
    assert caller.data(REVOKE, {"token": again})["revokeRefreshToken"]["removed"] is True
    revoked = AuditEntry.objects.get(action="refresh.revoked")
    assert revoked.actor == reused.actor


def test_a_refused_permission_is_recorded_with_the_refusal(caller, demo):  # noqa: F811
    body = caller.post('mutation { createTask(input: { name: "x" }) { id } }',
                       HTTP_USER_AGENT=BROWSER).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    entry = AuditEntry.objects.get(action="permission.refused")
    assert (entry.application, entry.actor, entry.user_agent) == (
        "demo", {"kind": "anonymous"}, BROWSER)
    assert entry.details["refusals"] == [{"message": body["errors"][0]["message"],
                                          "path": ["createTask"]}]
    caller.data("{ allTask(take: 1) { totalCount } }")  # allowed: nothing more recorded
    assert AuditEntry.objects.filter(action="permission.refused").count() == 1


def test_ops_read_it_newest_first_filtered_and_paged(caller, profile):  # noqa: F811
    for _ in range(3):
        login(caller, profile, password="wrong")
    login(caller, profile)
    anonymous = caller.client.get("/ops/audit")
    assert anonymous.status_code == 401
    newest = audit(caller, first=6)["entries"]
    # the logins, then the demo's definition file loaded, and the records it loaded
    assert [e["action"] for e in newest] == (["login"] + ["login.failed"] * 3
                                             + ["definition.load", "record.create"])
    assert newest[0]["ip"] == "203.0.113.7" and newest[0]["app"] == "demo"
    assert newest[4]["actor"] == newest[5]["actor"] == {"kind": "loader"}
    assert [e["action"] for e in audit(caller, action="login.failed")["entries"]] == [
        "login.failed"] * 3
    assert len(audit(caller, actor="user")["entries"]) == 1
    assert audit(caller, app="other")["entries"] == []
    since = (timezone.now() - timedelta(minutes=5)).isoformat()
    assert len(audit(caller, since=since, action="login.failed")["entries"]) == 3
    assert audit(caller, until=since)["entries"] == []

    everything = [json.loads(line) for line in export(caller)]
    assert len(everything) == AuditEntry.objects.count() + ChangeEvent.objects.count()
    seen, after = [], None
    while True:  # seven at a time, across both sources: every entry once, in the same order
        page = audit(caller, first=7, **({"after": after} if after else {}))
        seen += [(e["action"], e["id"]) for e in page["entries"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [(e["action"], e["id"]) for e in everything]


def export(caller: Caller, **params) -> list[str]:  # noqa: F811
    response = caller.client.get("/ops/audit", {"format": "jsonl", **params},
                                 HTTP_AUTHORIZATION=f"Bearer {OPS_TOKEN}")
    assert response["Content-Type"] == "application/jsonl"
    return b"".join(response.streaming_content).decode().splitlines()


def test_record_changes_are_the_change_events_with_who_and_from_where(caller, demo):  # noqa: F811
    key = server_keys.create(demo, "audit")[1]
    created = caller.client.post(
        "/api/demo/graphql", json.dumps({"query": 'mutation { createTask(input: '
                                                  '{ name: "Audited" }) { id } }'}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="198.51.100.4").json()["data"]["createTask"]["id"]
    (entry,) = audit(caller, model="Task", record=str(created))["entries"]
    prefix = "_".join(key.split("_")[:2])  # mk_<prefix>: the key's public part
    assert entry["action"] == "record.create"
    assert (entry["actor"], entry["actorLabel"]) == ({"kind": "server", "key": prefix},
                                                     f"server key {prefix}")
    assert (entry["ip"], entry["userAgent"], entry["details"]["fields"]) == (
        "198.51.100.4", BROWSER, ["name"])
    assert not AuditEntry.objects.filter(model="Task").exists()  # nothing written twice
    assert audit(caller, action="record.create", actor="server")["entries"] == [entry]
    assert audit(caller, action="record.delete", model="Task")["entries"] == []


def test_json_lines_export_every_matching_entry(caller, profile):  # noqa: F811
    for _ in range(3):
        login(caller, profile, password="wrong")
    lines = export(caller, action="login.failed")
    assert [json.loads(line)["action"] for line in lines] == ["login.failed"] * 3


@pytest.mark.parametrize("params, message", [
    ({"since": "yesterday"}, "since: expected a date and time with its zone"),
    ({"until": "2026-12-03T10:00:00"}, "until: expected a date and time with its zone"),
    ({"since": "2026-12-03T10:00:00Z", "until": "2026-12-02T10:00:00Z"},
     "since is after until: give a time range that runs forward."),
    ({"first": "0"}, "first: expected a page size from 1 to 500."),
    ({"after": "forged"}, "after: not a cursor of this log; pass a page's endCursor."),
    ({"record": "x"}, "record: expected a whole number."),
    ({"actor": "robot"}, "actor: one of user, server, anonymous, admin, loader, shell, system."),
])
def test_a_bad_query_is_bad_user_input(caller, demo, params, message):  # noqa: F811
    response = caller.client.get("/ops/audit", params, HTTP_AUTHORIZATION=f"Bearer {OPS_TOKEN}")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith(message)


def test_entries_cannot_be_changed_or_deleted_but_are_pruned_past_retention(
        admin_client, db):
    old = record("login", "demo", {"kind": "anonymous"})
    AuditEntry.objects.filter(pk=old.pk).update(  # as if written long ago
        at=timezone.now() - timedelta(days=django_settings.MORTAR_AUDIT_RETENTION_DAYS + 1))
    recent = record("login", "demo", {"kind": "anonymous"})
    with pytest.raises(ValueError, match="written once"):
        recent.save()
    with pytest.raises(ValueError, match="only by pruning"):
        recent.delete()
    assert admin_client.get("/admin/audit/auditentry/").status_code == 200
    url = f"/admin/audit/auditentry/{recent.pk}/"
    assert admin_client.post(url + "delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/audit/auditentry/add/").status_code == 403
    admin_client.post(url + "change/", {"action": "login.failed"})
    recent.refresh_from_db()
    assert recent.action == "login"

    assert tasks.prune_audit_entries() == 1
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [recent.pk]
    assert "apps.audit.tasks.prune_audit_entries" in {
        entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}


def test_builders_read_record_changes_in_the_admin_read_only(admin_client, demo):  # noqa: F811
    listing = admin_client.get("/admin/models_registry/changeevent/",
                               {"model": "Project", "operation": "create"})
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "loader" in page and "Project" in page
    shown = listing.context["cl"].result_count
    assert shown == ChangeEvent.objects.filter(model="Project", operation="create").count() > 0
    by_actor = admin_client.get("/admin/models_registry/changeevent/", {"actor": "loader"})
    assert by_actor.context["cl"].result_count == ChangeEvent.objects.count()  # all loaded
    nobody = admin_client.get("/admin/models_registry/changeevent/", {"actor": "user"})
    assert nobody.context["cl"].result_count == 0
    event = ChangeEvent.objects.filter(model="Project").first()
    url = f"/admin/models_registry/changeevent/{event.pk}/"
    assert admin_client.post(url + "delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/models_registry/changeevent/add/").status_code == 403
    assert ChangeEvent.objects.filter(pk=event.pk).exists()


def test_configuration_changed_in_the_admin_and_files_loaded_are_recorded(admin_client,
                                                                         demo):  # noqa: F811
    loaded = AuditEntry.objects.get(action="definition.load")  # the demo's, by the fixture
    assert (loaded.application, loaded.actor) == ("demo", {"kind": "loader"})
    assert "model Task" in loaded.details["created"]

    company = demo.data_models.get(name="Company")
    Permission.objects.filter(data_model=company).delete()
    response = admin_client.post(reverse("admin:identity_permission_add"), {
        "data_model": company.pk, "operation": "read", "access": "public", "roles": "[]",
        "condition": ""}, REMOTE_ADDR="192.0.2.9", HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302
    added = AuditEntry.objects.get(action="schema.add")
    assert (added.application, added.model, added.actor["kind"], added.actor["username"],
            added.ip, added.user_agent) == ("demo", "permission", "admin", "admin",
                                            "192.0.2.9", BROWSER)
    permission = company.permissions.get()
    assert added.record_id == permission.pk
    admin_client.post(reverse("admin:identity_permission_delete", args=[permission.pk]),
                      {"post": "yes"})
    deleted = AuditEntry.objects.get(action="schema.delete")
    assert (deleted.application, deleted.details["object"]) == ("demo", str(permission))


def test_a_records_page_in_the_record_browser_shows_its_history(admin_client, demo):  # noqa: F811
    key = server_keys.create(demo, "history")[1]
    changed = admin_client.post(
        "/api/demo/graphql", json.dumps({"query": "mutation { updateTask(id: 1, input: "
                                                  "{ done: false }) { id } }"}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}",
        REMOTE_ADDR="198.51.100.4")
    assert "errors" not in changed.json()
    task = demo.data_models.get(name="Task")
    page = admin_client.get(record_url("change", task.pk, 1)).content.decode()
    history = page[page.index('id="record-history"'):]
    rows = history.split('<tr class="version"')[1:]
    assert len(rows) == 2  # newest first: the update, then the loader's create
    assert "server key mk_" in rows[0] and "198.51.100.4" in rows[0]
    assert "update (#" in rows[0]
    assert "<b>done</b>: <del>True</del> → <ins>False</ins>" in rows[0]  # before → after
    assert "loader" in rows[1] and "create (#" in rows[1]
    assert "<b>name</b>: " in rows[1]  # what the record was created with


def test_the_admins_delete_selected_is_recorded_row_by_row(admin_client, demo):  # noqa: F811
    hooks = [Webhook.objects.create(application=demo, name=f"h{n}", url="https://e.com/in")
             for n in range(3)]
    changelist = reverse("admin:webhooks_webhook_changelist")
    response = admin_client.post(changelist, {
        "action": "delete_selected", "_selected_action": [hooks[0].pk, hooks[1].pk],
        "post": "yes"}, REMOTE_ADDR="192.0.2.9")
    assert response.status_code == 302
    deleted = AuditEntry.objects.filter(action="schema.delete").order_by("record_id")
    assert [(e.application, e.model, e.record_id, e.details["object"], e.ip) for e in deleted] == [
        ("demo", "webhook", hook.pk, str(hook), "192.0.2.9") for hook in hooks[:2]]
    admin_client.post(changelist, {"action": "delete_selected",
                                   "_selected_action": [hooks[2].pk], "post": "yes"})
    assert AuditEntry.objects.filter(action="schema.delete").count() == 3  # one row: once


def test_commands_run_on_the_server_are_recorded(demo):  # noqa: F811
    call_command("createserverkey", "demo", "--name", "imports", stdout=StringIO(),
                 stderr=StringIO())
    call_command("trash", "on", "demo", "Task", stdout=StringIO())
    key, trash = AuditEntry.objects.filter(actor={"kind": "shell"}).order_by("id")
    assert (key.action, key.application, key.model, key.actor_label) == (
        "schema.add", "demo", "server key", "shell")
    assert key.details["object"].startswith("imports (mk_")
    assert (trash.action, trash.model, trash.details) == (
        "schema.change", "data model", {"object": "Task", "trash": True})
