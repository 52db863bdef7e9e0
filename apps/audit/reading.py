"""The audit log as one list, newest first: its own entries and the record changes, which are
the change events (models_registry.events) read where they are, never copied. Each source is
filtered in SQL; pages take `first + 1` from each and merge them; a cursor is the last entry's
(time, source, id), signed."""

from __future__ import annotations

import heapq
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from models_registry.events import actor_label
from models_registry.models import ChangeEvent
from models_registry.record_history import befores
from models_registry.runtime import runtime_models
from models_registry.snapshots import readable

from .models import AuditEntry

PAGE, MOST = 50, 500
RECORD_ACTIONS = {f"record.{op}": op for op in ChangeEvent.Operation.values}
ACTOR_KINDS = ("user", "server", "anonymous", "admin", "loader", "shell", "system")
# the order of entries at one instant: events after the log's own (descending: events first)
LOG, EVENTS = 0, 1
CURSOR = signing.Signer(salt="mortar.audit.cursor")


class BadQuery(ValueError):
    """A query string the log cannot answer; its text says what to send instead."""


@dataclass(frozen=True)
class Query:
    app: str | None = None
    action: str | None = None
    model: str | None = None
    record: int | None = None
    actor: str | None = None
    actor_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def parse(cls, params) -> Query:
        record, actor_id = (_whole(params, name) for name in ("record", "actorId"))
        actor = params.get("actor") or None
        if actor is not None and actor not in ACTOR_KINDS:
            raise BadQuery(f"actor: one of {', '.join(ACTOR_KINDS)}.")
        since, until = _time(params, "since"), _time(params, "until")
        if since and until and since > until:
            raise BadQuery("since is after until: give a time range that runs forward.")
        return cls(params.get("app") or None, params.get("action") or None,
                   params.get("model") or None, record, actor, actor_id, since, until)

    def log_entries(self) -> QuerySet | None:
        if self.action in RECORD_ACTIONS:
            return None
        entries = AuditEntry.objects.all()
        if self.app:
            entries = entries.filter(application=self.app)
        if self.action:
            entries = entries.filter(action=self.action)
        if self.model:
            entries = entries.filter(model=self.model)
        return self._common(entries, "at").order_by("-at", "-id")

    def record_changes(self) -> QuerySet | None:
        if self.action and self.action not in RECORD_ACTIONS:
            return None
        events = ChangeEvent.objects.select_related("application")
        if self.app:
            events = events.filter(application__slug=self.app)
        if self.action:
            events = events.filter(operation=RECORD_ACTIONS[self.action])
        if self.model:
            events = events.filter(model=self.model)
        return self._common(events, "created_at").order_by("-created_at", "-id")

    def _common(self, rows: QuerySet, at: str) -> QuerySet:
        if self.record is not None:
            rows = rows.filter(record_id=self.record)
        if self.actor:
            rows = rows.filter(actor__kind=self.actor)
        if self.actor_id is not None:
            rows = rows.filter(actor__id=self.actor_id)
        if self.since:
            rows = rows.filter(**{f"{at}__gte": self.since})
        if self.until:
            rows = rows.filter(**{f"{at}__lt": self.until})
        return rows


def _whole(params, name: str) -> int | None:
    text = params.get(name)
    if not text:
        return None
    if not text.isdigit():
        raise BadQuery(f"{name}: expected a whole number.")
    return int(text)


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


def entry_json(entry: AuditEntry) -> dict:
    return _json(entry.pk, entry.at, entry.application, entry.action, entry.model or None,
                 entry.record_id, entry.actor, entry.actor_label, entry.ip, entry.user_agent,
                 entry.details)


def event_json(event: ChangeEvent, before: dict | None) -> dict:
    cls = _runtime_class(event)
    return _json(event.pk, event.created_at, event.application.slug,
                 f"record.{event.operation}", event.model, event.record_id, event.actor,
                 actor_label(event.actor), event.ip, event.user_agent,
                 {"fields": event.fields, "seq": event.seq,
                  "before": readable(cls, before), "after": readable(cls, event.after)})


def _runtime_class(event: ChangeEvent) -> type | None:
    """The event's model as it is now (None once dropped): how its values read."""
    if event.data_model_id is None:
        return None
    return runtime_models(event.application).by_id.get(event.data_model_id)


def _json(entry_id, at, app, action, model, record_id, actor, label, ip, user_agent,
          details) -> dict:
    return {"id": entry_id, "at": at.isoformat().replace("+00:00", "Z"), "app": app,
            "action": action, "model": model, "recordId": record_id, "actor": actor,
            "actorLabel": label, "ip": ip, "userAgent": user_agent, "details": details}


def _keyed(rows: Iterable, source: int, at: str) -> Iterator[tuple]:
    for row in rows:
        yield getattr(row, at), source, row.pk, row


def _sources(query: Query) -> list[tuple[QuerySet, int, str]]:
    found = [(query.log_entries(), LOG, "at"), (query.record_changes(), EVENTS, "created_at")]
    return [(rows, source, at) for rows, source, at in found if rows is not None]


def _as_json(shown: list[tuple]) -> list[dict]:
    """Entries as JSON; record changes with their values before (replayed: one statement)."""
    found = befores([keyed[3] for keyed in shown if keyed[1] == EVENTS])
    return [event_json(keyed[3], found.get(keyed[3].pk)) if keyed[1] == EVENTS
            else entry_json(keyed[3]) for keyed in shown]


def every_entry(query: Query) -> Iterator[dict]:
    """Every matching entry, newest first (for the JSON Lines export), read a page at a
    time."""
    merged = heapq.merge(*(_keyed(rows.iterator(), source, at)
                           for rows, source, at in _sources(query)),
                         key=lambda keyed: keyed[:3], reverse=True)
    while chunk := list(itertools.islice(merged, MOST)):
        yield from _as_json(chunk)


def page(query: Query, first: int, after: str | None) -> dict:
    if not 1 <= first <= MOST:
        raise BadQuery(f"first: expected a page size from 1 to {MOST}.")
    position = _position(after) if after else None
    lists = []
    for rows, source, at in _sources(query):
        if position is not None:
            rows = rows.filter(_before(position, source, at))
        lists.append(list(_keyed(rows[:first + 1], source, at)))
    merged = list(heapq.merge(*lists, key=lambda keyed: keyed[:3], reverse=True))[:first + 1]
    shown = merged[:first]
    end = (CURSOR.sign(json.dumps([shown[-1][0].isoformat(), shown[-1][1], shown[-1][2]]))
           if shown else None)
    return {"entries": _as_json(shown),
            "pageInfo": {"hasNextPage": len(merged) > first, "endCursor": end}}


def _position(cursor: str) -> tuple[datetime, int, int]:
    try:
        at, source, entry_id = json.loads(CURSOR.unsign(cursor))
        found = parse_datetime(at)
        if found is None or source not in (LOG, EVENTS) or not isinstance(entry_id, int):
            raise ValueError(cursor)
        return found, source, entry_id
    except (signing.BadSignature, ValueError, TypeError):
        raise BadQuery("after: not a cursor of this log; pass a page's endCursor.") from None


def _before(position: tuple[datetime, int, int], source: int, at: str) -> Q:
    """The rows of `source` after `position` in the newest-first order."""
    when, last_source, last_id = position
    earlier = Q(**{f"{at}__lt": when})
    if source < last_source:  # at the same instant, this source comes after the other
        return earlier | Q(**{at: when})
    if source == last_source:
        return earlier | Q(**{at: when, "id__lt": last_id})
    return earlier
