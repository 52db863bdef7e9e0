"""A record's history: its change events are its versions. Each keeps the values it set
(`snapshots`), so replaying a record's events in order gives its values before and after each
change, and an earlier version can be restored (an update like any other: its own event, made
by whoever restored it, and an audit entry saying which version).

A value no kept event set (pruned past retention, or the record older than the snapshots) is
unknown: shown as none, never restored.
"""

from __future__ import annotations

import collections
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import router, transaction
from django.db.models import Q
from django.dispatch import Signal

from .events import CREATE, DELETE, UPDATE, ChangeBatch, Origin
from .models import ChangeEvent
from .runtime import RuntimeRecord
from .snapshots import api_names, readable, restorable

# A builder restored an earlier version (sender=None, application_id, model, record_id,
# version (the event's seq), fields, actor, request): the audit log records it.
version_restored = Signal()


class NotRestorable(Exception):
    """The version cannot be restored; the message says why and what to do."""


# What replaying reads of an event, oldest first.
REPLAYED = ("pk", "data_model_id", "record_id", "operation", "after")


def replay(rows: Iterable[tuple]) -> Iterator[tuple[int, dict | None, dict]]:
    """(event id, values before, the record's values after) for rows of REPLAYED in seq order:
    before is None for a create, the fields it set for an update, all known for a delete."""
    states: dict[tuple[int, int], dict] = defaultdict(dict)
    for pk, model_id, record_id, operation, after in rows:
        state = states[(model_id, record_id)]
        if operation == CREATE:
            before = None
        elif operation == DELETE:
            before = dict(state)
            states.pop((model_id, record_id))
        else:
            before = {name: state.get(name) for name in after or ()}
        state.update(after or {})
        yield pk, before, state


def befores(events: list[ChangeEvent]) -> dict[int, dict | None]:
    """Event id -> its record's values before it, for `events` (one statement: the histories
    of their records up to the newest of them)."""
    by_model: dict[int, set[int]] = defaultdict(set)
    for event in events:
        if event.data_model_id is not None:
            by_model[event.data_model_id].add(event.record_id)
    if not by_model:
        return {}
    records = Q()
    for model_id, record_ids in by_model.items():
        records |= Q(data_model_id=model_id, record_id__in=sorted(record_ids))
    rows = ChangeEvent.objects.filter(records, seq__lte=max(e.seq for e in events)).order_by(
        "data_model_id", "record_id", "seq").values_list(*REPLAYED)
    wanted = {event.pk for event in events}
    return {pk: before for pk, before, _ in replay(rows.iterator()) if pk in wanted}


@dataclass
class Version:
    """One change of a record, as the record browser lists it."""

    event: ChangeEvent
    before: dict | None
    after: dict | None

    @property
    def changes(self) -> list[tuple[str, object, object]]:
        """(field, value before, value after) of the kept fields the change set (a habtm list,
        a password: named in `event.fields` only); a deletion's: every known value."""
        before, after = self.before or {}, self.after or {}
        names = before if self.event.operation == DELETE else after
        return [(name, before.get(name), after.get(name)) for name in names]

    @property
    def restorable(self) -> bool:
        return self.event.operation != DELETE


def versions(cls: type[RuntimeRecord], record_id: int, most: int) -> list[Version]:
    """The record's last `most` changes, newest first."""
    events = list(ChangeEvent.objects.filter(data_model_id=cls._mortar.pk, record_id=record_id)
                  .order_by("-seq")[:most])
    found = befores(events)
    return [Version(event, readable(cls, found.get(event.pk)), readable(cls, event.after))
            for event in events]


def values_after(cls: type[RuntimeRecord], record_id: int, seq: int) -> dict | None:
    """The record's known values after its change `seq` (None after a deletion)."""
    rows = list(ChangeEvent.objects.filter(
        data_model_id=cls._mortar.pk, record_id=record_id, seq__lte=seq).order_by("seq")
        .values_list(*REPLAYED))
    if not rows or rows[-1][3] == DELETE:
        return None
    return collections.deque(replay(rows), maxlen=1)[0][2]  # the state after the last


def restore(cls: type[RuntimeRecord], record_id: int, seq: int, actor: dict,
            origin: Origin, request=None) -> list[str]:
    """Put the record back to the values it had after its change number `seq`; returns the
    fields that changed (none: nothing is written). Raises NotRestorable, or the database's
    IntegrityError when a unique value is taken or a referenced record is gone (nothing is
    written then either)."""
    spec = cls._mortar
    if not ChangeEvent.objects.filter(data_model_id=spec.pk, record_id=record_id,
                                      seq=seq).exists():
        raise NotRestorable(f"{spec.name} {record_id} has no version {seq}; pick one from its "
                            "history.")
    state = values_after(cls, record_id, seq)
    if state is None:
        raise NotRestorable(f"Version {seq} is a deletion: it has no values to restore; pick "
                            "an earlier one.")
    values = restorable(cls, state)
    names = api_names(cls)
    with transaction.atomic(using=router.db_for_write(cls)):
        record = cls._base_manager.select_for_update().filter(pk=record_id).first()
        if record is None:
            raise NotRestorable(f"{spec.name} {record_id} no longer exists.")
        changed = [attname for attname, value in values.items()
                   if getattr(record, attname) != value]
        if not changed:
            return []
        for attname in changed:
            setattr(record, attname, values[attname])
        record.full_clean(exclude=[f.name for f in cls._meta.fields
                                   if f.attname not in changed], validate_unique=False)
        record.save(update_fields=[*changed, "updated_at"])
        fields = [names[attname] for attname in changed]
        changes = ChangeBatch()
        changes.add(cls, [record_id], UPDATE, fields)
        changes.flush(spec.data_model.application_id, actor, origin)
        version_restored.send(None, application_id=spec.data_model.application_id,
                              model=spec.name, record_id=record_id, version=seq, fields=fields,
                              actor=actor, request=request)
    return fields
