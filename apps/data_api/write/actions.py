"""Which class runs each mutation action (the action a schema field's role names)."""

from __future__ import annotations

from .base import Mutation
from .create import Create, CreateMany
from .delete import Delete, DeleteMany
from .restore import Restore, RestoreMany
from .update import Update, UpdateMany
from .upsert import Upsert, UpsertMany

MUTATIONS: dict[str, type[Mutation]] = {
    "create": Create, "createMany": CreateMany,
    "update": Update, "updateMany": UpdateMany,
    "upsert": Upsert, "upsertMany": UpsertMany,
    "delete": Delete, "deleteMany": DeleteMany,
    "restore": Restore, "restoreMany": RestoreMany,  # models with a trash
}
