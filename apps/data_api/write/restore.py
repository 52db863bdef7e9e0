"""restoreX and restoreManyX (models with a trash): records back from the trash with their
relations, all or none (`models_registry.trash`). Restoring needs the delete permission, as
seeing the trash does: who may put records there may take them out."""

from __future__ import annotations

from models_registry.trash import RestoreConflict, restore_records

from ..errors import Conflict, Forbidden, NotFound
from .base import Mutation


class Restoring(Mutation):
    operation = "delete"

    def require(self, operation: str) -> None:
        try:
            super().require(operation)
        except Forbidden as refused:
            raise Forbidden("Restoring takes the delete permission. " + refused.message
                            ) from None

    def restore(self, ids: list[int], field: str) -> None:
        name = self.cls._mortar.name
        found = set(self.matching({"id": {"in": ids}}, "delete", trashed="ONLY"))
        missing = [record_id for record_id in ids if record_id not in found]
        if missing:
            raise NotFound(f"There is no {name} with id {', '.join(map(str, missing))} in the "
                           "trash" + ("" if self.access.unrestricted else " that you may restore")
                           + "; nothing was restored.", field=field, ids=missing)
        try:
            restore_records(self.cls, ids, self.changes)
        except RestoreConflict as conflict:
            raise Conflict(" ".join(conflict.messages) + " Nothing was restored.",
                           field=field) from None


class Restore(Restoring):
    def perform(self, args: dict) -> str:
        self.restore([args["id"]], "id")
        return self.one_json(args["id"])


class RestoreMany(Restoring):
    def perform(self, args: dict) -> str:
        ids = list(dict.fromkeys(self.counted(args["input"]["ids"])))
        self.at_most(args, len(ids), "are listed")
        self.restore(ids, "input.ids")
        return self.list_json(ids)
