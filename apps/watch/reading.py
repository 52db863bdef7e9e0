"""Reading an application's events by sequence number: the feed's only queries of the outbox.

Numbers are gapless and follow commit order (models_registry.events), so "everything after N"
is exact: a reader that sees event N+5 sees N+1..N+4 as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from models_registry.models import Application, ChangeEvent, EventSequence


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    data_model_id: int | None  # None once the model was dropped
    model: str  # its name when the change was made
    record_id: int
    operation: str
    fields: list[str]
    at: datetime


def last_seq(application_id: int) -> int:
    """The number of the application's latest committed event (0 before the first)."""
    return EventSequence.objects.filter(application_id=application_id).values_list(
        "last", flat=True).first() or 0


def events_after(application_id: int, after: int, limit: int, upto: int | None = None
                 ) -> list[Event]:
    """At most `limit` events numbered above `after` (and at most `upto`), in order."""
    found = ChangeEvent.objects.filter(application_id=application_id, seq__gt=after)
    if upto is not None:
        found = found.filter(seq__lte=upto)
    return [Event(*row) for row in found.order_by("seq").values_list(
        "seq", "data_model_id", "model", "record_id", "operation", "fields", "created_at"
    )[:limit]]


def batch_after(application_id: int, after: int, limit: int, upto: int | None = None
                ) -> tuple[Application | None, list[Event]]:
    """`events_after`, and the application as it is now when there are any (for its
    permissions and models; None when it is gone)."""
    events = events_after(application_id, after, limit, upto)
    if not events:
        return None, []
    return Application.objects.filter(pk=application_id).first(), events


def start_position(application: Application, asked: int | None) -> tuple[int, bool]:
    """Where a watcher starts (it is sent the events after it), and whether it must be told
    to reload (`event: reset`) because the events after `asked` are no longer kept: pruned,
    older than the application's retention, or `asked` is a number it never reached."""
    last = last_seq(application.pk)
    if asked is None or asked == last:
        return last, False
    if asked > last:
        return last, True
    following = ChangeEvent.objects.filter(application=application, seq=asked + 1).values_list(
        "created_at", flat=True).first()
    if following is None or following < retention_cutoff(application):
        return last, True
    return asked, False


def retention_cutoff(application: Application) -> datetime:
    """Events created before this are past the application's retention."""
    return timezone.now() - timedelta(hours=application.event_retention_hours)
