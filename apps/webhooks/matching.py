"""From change events to deliveries: each webhook reads the events after its cursor, keeps
those of its models and operations (and, with a `where`, those whose record matches it now:
one SELECT per model and batch), and queues them as deliveries in one INSERT, moving its
cursor in the same transaction."""

from __future__ import annotations

import logging
from collections import defaultdict

from django.db import connection, transaction

from apps.data_api.errors import BadUserInput
from apps.data_api.sql.global_ids import GlobalId
from apps.data_api.sql.text import Aliases, q
from models_registry.models import ChangeEvent, EventSequence

from .checks import filter_condition
from .models import Delivery, Webhook

log = logging.getLogger(__name__)

BATCH = 500  # events read at a time
TYPES = {"create": "record.created", "update": "record.updated", "delete": "record.deleted"}


def message_id(application_id: int, seq: int) -> str:
    """The webhook-id of an event: the same on every attempt and redelivery, so that a
    receiver can drop what it has already handled."""
    return f"evt_{application_id}_{seq}"


def payload(event: ChangeEvent, slug: str) -> dict:
    return {"type": TYPES[event.operation], "timestamp": event.created_at.isoformat(),
            "data": {"app": slug, "model": event.model, "id": event.record_id,
                     "nodeId": str(GlobalId(slug, event.model, event.record_id)),
                     "operation": event.operation, "fields": event.fields, "seq": event.seq}}


def collect(webhook: Webhook) -> int:
    """Queue deliveries for the next batch of events after the webhook's cursor; the number
    of events read (0: it has seen them all). The caller holds the webhook's lease."""
    application = webhook.application
    # read before the events: every number up to it belongs to a committed event (or one
    # pruned since, past the retention window)
    committed = EventSequence.objects.filter(application_id=application.pk).values_list(
        "last", flat=True).first() or 0
    events = list(ChangeEvent.objects.filter(
        application_id=application.pk, seq__gt=webhook.last_dispatched_seq).order_by("seq")
        [:BATCH])
    if not events:
        if committed > webhook.last_dispatched_seq:  # pruned before this webhook saw them
            log.warning("webhook %s: events %s to %s were pruned before it saw them",
                        webhook.pk, webhook.last_dispatched_seq + 1, committed)
            _move_cursor(webhook, committed)
        return 0
    wanted = [e for e in events if (not webhook.model_names or e.model in webhook.model_names)
              and (not webhook.operations or e.operation in webhook.operations)]
    if webhook.where is not None:
        wanted = _matching(webhook, wanted)
    rows = [Delivery(webhook=webhook, event_seq=e.seq,
                     message_id=message_id(application.pk, e.seq),
                     payload=payload(e, application.slug)) for e in wanted]
    with transaction.atomic():
        Delivery.objects.bulk_create(rows)
        if not _move_cursor(webhook, events[-1].seq):
            transaction.set_rollback(True)  # the lease was lost: the new holder queues them
            return 0
    return len(events)


def _move_cursor(webhook: Webhook, seq: int) -> bool:
    moved = Webhook.objects.filter(pk=webhook.pk, last_dispatched_seq=webhook.last_dispatched_seq
                                   ).update(last_dispatched_seq=seq)
    if moved:
        webhook.last_dispatched_seq = seq
    return bool(moved)


def _matching(webhook: Webhook, events: list[ChangeEvent]) -> list[ChangeEvent]:
    """The events whose record matches the webhook's where now (read when the event is
    dispatched, not as it was at commit: a record changed or deleted since is judged as it
    is now, or not found)."""
    ids: dict[str, set[int]] = defaultdict(set)
    for event in events:
        if event.operation != "delete":
            ids[event.model].add(event.record_id)
    found: dict[str, set[int]] = {}
    for model, wanted in ids.items():
        try:
            found[model] = _records_matching(webhook, model, wanted)
        except (KeyError, BadUserInput) as error:  # the model or a field is gone since
            log.warning("webhook %s: its where no longer fits %s (%s): skipped", webhook.pk,
                        model, error)
            found[model] = set()
    return [e for e in events if e.operation != "delete" and e.record_id in found[e.model]]


def _records_matching(webhook: Webhook, model: str, ids: set[int]) -> set[int]:
    aliases = Aliases()
    alias = aliases.next()
    cls, condition = filter_condition(webhook.application, model, webhook.where, alias,
                                      aliases)
    marks = ", ".join(["%s"] * len(ids))
    sql = (f"SELECT {alias}.id FROM {q(cls._meta.db_table)} {alias} "
           f"WHERE {alias}.id IN ({marks}) AND " + condition.text)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*sorted(ids), *condition.params])
        return {row[0] for row in cursor.fetchall()}
