"""deleteX and deleteManyX: the records as they were, then gone, or in the trash of a model
that has one (deleteX with ifUpdatedAt only when the record did not change since: see
`locking`)."""

from __future__ import annotations

from django.db.models.deletion import ProtectedError, RestrictedError

from models_registry.events import ChangeBatch, delete_records
from models_registry.trash import trash_records

from ..errors import NotFound, ValidationFailed
from .base import Mutation


class Delete(Mutation):
    operation = "delete"

    def perform(self, args: dict) -> str:
        record_id = args["id"]
        if not self.matching_unchanged({"id": {"eq": record_id}}, "delete",
                                       args.get("ifUpdatedAt"), doing="deleted"):
            raise NotFound(f"There is no {self.cls._mortar.name} with id {record_id}"
                           + ("" if self.access.unrestricted else " that you may delete")
                           + ".", field="id")
        found = self.one_json(record_id)  # as it was (null if the caller may not read it)
        delete_rows(self.cls, [record_id], self.changes)
        return found


class DeleteMany(Mutation):
    operation = "delete"

    def perform(self, args: dict) -> str:
        ids = list(dict.fromkeys(self.counted(args["input"]["ids"])))
        self.at_most(args, len(ids), "are listed")
        deletable = set(self.matching({"id": {"in": ids}}, "delete"))
        missing = [i for i in ids if i not in deletable]
        if missing:
            raise NotFound(f"There is no {self.cls._mortar.name} with id "
                           f"{', '.join(map(str, missing))}; nothing was deleted.",
                           field="input.ids", ids=missing)
        found = self.list_json(ids)  # as they were (those the caller may read)
        delete_rows(self.cls, ids, self.changes)
        return found


def delete_rows(cls, ids: list[int], changes: ChangeBatch) -> None:
    """Delete these records; their relations say what happens to the records referring to
    them (restrict: refused, naming them). What is deleted or nullified is noted in
    `changes`. A model with a trash moves them there: nothing else changes (`restore`)."""
    if cls._mortar.data_model.trash:
        trash_records(cls, ids, changes)
        return
    try:
        delete_records(cls, ids, changes)
    except (ProtectedError, RestrictedError) as error:
        blocking = sorted({obj._mortar.name for obj in error.protected_objects}
                          if isinstance(error, ProtectedError)
                          else {obj._mortar.name for obj in error.restricted_objects})
        raise ValidationFailed(
            f"{', '.join(blocking)} records still refer to it, and their relation says "
            "restrict: delete or move them first. Nothing was deleted.",
            fields={"id": [f"Referred to by {', '.join(blocking)} records."]}) from None
