"""The trash of a model that has one (`DataModel.trash`): deleting moves records there
(`deleted_at` set, nothing else: their belongs-to references, habtm links and the records
pointing at them stay), restoring brings them back as they were, and purging deletes them for
good as a deletion without a trash would (the relations' on-delete rules apply then): once the
application's trash period (`Application.trash_hours`) has passed, or from the admin.

Every read leaves the trash out by a condition in its SQL (`runtime.LiveRecords` for the ORM,
the data API's permission conditions for its planner); its unique rules hold among the records
outside it (`runtime.trash_rules`).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import ProtectedError, QuerySet, RestrictedError
from django.utils import timezone

from .events import CREATE, DELETE, ChangeBatch, delete_records, id_list
from .models import Application
from .runtime import RuntimeRecord, runtime_models
from .specs import DELETED_AT

log = logging.getLogger(__name__)
SYSTEM = {"kind": "system"}  # the purge task, as its events' actor


class RestoreConflict(Exception):
    """Records cannot come back: their unique values are taken (the messages say which)."""

    def __init__(self, messages: list[str]):
        super().__init__(" ".join(messages))
        self.messages = messages


def in_trash(cls: type[RuntimeRecord]) -> QuerySet:
    return cls._base_manager.filter(deleted_at__isnull=False)


def trash_records(cls: type[RuntimeRecord], ids: list[int], changes: ChangeBatch) -> None:
    """Move these records (not in the trash) to it: for every reader, they are deleted."""
    cls._base_manager.filter(pk__in=id_list(ids)).update(deleted_at=timezone.now())
    changes.add(cls, ids, DELETE)


def restore_records(cls: type[RuntimeRecord], ids: list[int], changes: ChangeBatch) -> None:
    """Bring these records (in the trash) back, with their relations; RestoreConflict, and
    nothing restored, when a unique value of one is taken by a record outside the trash or
    by another of them. For readers they are created again (with every value: their events'
    fields say deletedAt)."""
    clashes = unique_clashes(cls, ids)
    if clashes:
        raise RestoreConflict(clashes)
    cls._base_manager.filter(pk__in=id_list(ids)).update(deleted_at=None)
    changes.add(cls, ids, CREATE, [DELETED_AT])


def unique_clashes(cls: type[RuntimeRecord], ids: list[int]) -> list[str]:
    """Why these records could not all come back: one message per value taken (two
    statements per unique property)."""
    spec = cls._mortar
    clashes = []
    for name, prop in spec.properties.items():
        if not prop.unique:
            continue
        coming = list(cls._base_manager.filter(pk__in=id_list(ids))
                      .exclude(**{f"{prop.attname}__isnull": True})
                      .values_list("pk", prop.attname).order_by("pk"))
        first_with: dict = {}
        for record_id, value in coming:
            if value in first_with:
                clashes.append(f"{spec.name} {record_id} and {first_with[value]} have the same "
                               f"{name} ({value!r}): restore one of them.")
            first_with.setdefault(value, record_id)
        taken = cls.objects.filter(**{f"{prop.attname}__in": list(first_with)}).values_list(
            prop.attname, "pk")
        # the other record is not named: the caller may not be allowed to read it
        clashes.extend(f"{spec.name} {first_with[value]}: its {name} {value!r} is taken by "
                       f"another {spec.name}; change one of them first."
                       for value, _ in taken)
    return clashes


def purge_records(cls: type[RuntimeRecord], ids: list[int], changes: ChangeBatch) -> None:
    """Delete these records of the trash for good (ProtectedError/RestrictedError when a
    relation refuses, as for a deletion without a trash)."""
    delete_records(cls, ids, changes)


def purge_expired(application: Application) -> int:
    """Purge the records past the application's trash period, each model's at once in its own
    transaction (when a relation refuses, one at a time: a record it refuses to let go stays,
    logged). The number purged."""
    cutoff = timezone.now() - timedelta(hours=application.trash_hours)
    purged = 0
    for cls in runtime_models(application).by_id.values():
        if not cls._mortar.data_model.trash:
            continue
        ids = list(in_trash(cls).filter(deleted_at__lt=cutoff).order_by("pk")
                   .values_list("pk", flat=True))
        if not ids or _purged(application, cls, ids):
            purged += len(ids)
            continue
        for record_id in ids:
            if _purged(application, cls, [record_id]):
                purged += 1
            else:
                log.warning("trash: %s %s stays: a relation refuses its deletion",
                            cls._mortar.name, record_id)
    return purged


def _purged(application: Application, cls: type[RuntimeRecord], ids: list[int]) -> bool:
    try:
        with transaction.atomic():
            changes = ChangeBatch()
            purge_records(cls, ids, changes)
            changes.flush(application.pk, SYSTEM)
        return True
    except (ProtectedError, RestrictedError):
        return False
