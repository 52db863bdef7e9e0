"""GET /ops/audit: the audit log for ops (the ops token or a staff session), newest first,
filtered by application, action, model, record, actor and time; paged with cursors
(`first`, `after`), or every matching entry as JSON Lines (`format=jsonl`)."""

from __future__ import annotations

import json
from datetime import datetime

from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET

from apps.error_codes import ErrorCode
from apps.ratelimit.views import ops_refusal

from .models import AuditEntry

PAGE, MOST = 50, 500
CURSOR = signing.Signer(salt="mortar.audit.cursor")


class BadQuery(ValueError):
    pass


def entry_json(entry: AuditEntry) -> dict:
    return {"id": entry.pk, "at": entry.at.isoformat().replace("+00:00", "Z"),
            "app": entry.application, "action": entry.action, "model": entry.model or None,
            "recordId": entry.record_id, "actor": entry.actor, "actorLabel": entry.actor_label,
            "ip": entry.ip, "userAgent": entry.user_agent, "details": entry.details}


def _time(params, name: str) -> datetime | None:
    text = params.get(name)
    if text is None:
        return None
    try:
        found = parse_datetime(text)
    except ValueError:
        found = None
    if found is None or found.tzinfo is None:
        raise BadQuery(f"{name}: expected a date and time with its zone, e.g. "
                       "2026-12-03T10:00:00Z.")
    return found


def matching(params) -> tuple:
    """The entries the query string asks for, newest first."""
    entries = AuditEntry.objects.all()
    for name, lookup in (("app", "application"), ("action", "action"), ("model", "model"),
                         ("actor", "actor_label__icontains")):
        if params.get(name):
            entries = entries.filter(**{lookup: params[name]})
    if params.get("record"):
        if not params["record"].isdigit():
            raise BadQuery("record: expected a record id (a whole number).")
        entries = entries.filter(record_id=int(params["record"]))
    since, until = _time(params, "since"), _time(params, "until")
    if since and until and since > until:
        raise BadQuery("since is after until: give a time range that runs forward.")
    if since:
        entries = entries.filter(at__gte=since)
    if until:
        entries = entries.filter(at__lt=until)
    return entries.order_by("-at", "-id")


def _page(entries, params) -> dict:
    try:
        size = int(params.get("first", PAGE))
    except ValueError:
        size = 0
    if not 1 <= size <= MOST:
        raise BadQuery(f"first: expected a page size from 1 to {MOST}.")
    if params.get("after"):
        try:
            at, entry_id = json.loads(CURSOR.unsign(params["after"]))
        except (signing.BadSignature, ValueError, TypeError):
            raise BadQuery("after: not a cursor of this log; pass a page's endCursor.") \
                from None
        at = parse_datetime(at)
        entries = entries.filter(at__lt=at) | entries.filter(at=at, id__lt=entry_id)
        entries = entries.order_by("-at", "-id")
    rows = list(entries[:size + 1])
    shown = rows[:size]
    end = (CURSOR.sign(json.dumps([shown[-1].at.isoformat(), shown[-1].pk]))
           if shown else None)
    return {"entries": [entry_json(entry) for entry in shown],
            "pageInfo": {"hasNextPage": len(rows) > size, "endCursor": end}}


@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    refusal = ops_refusal(request)
    if refusal is not None:
        return refusal
    try:
        entries = matching(request.GET)
        if request.GET.get("format") == "jsonl":
            lines = (json.dumps(entry_json(entry)) + "\n" for entry in entries.iterator())
            response = StreamingHttpResponse(lines, content_type="application/jsonl")
            response["Content-Disposition"] = 'attachment; filename="audit.jsonl"'
            return response
        return JsonResponse(_page(entries, request.GET))
    except BadQuery as error:
        return JsonResponse({"errors": [{"message": str(error),
                                         "extensions": {"code": ErrorCode.BAD_USER_INPUT}}]},
                            status=400)
