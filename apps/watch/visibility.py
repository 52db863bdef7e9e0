"""What one caller sees of a batch of events: the same permissions as reads.

- create and update: only records the caller may read now. The records of a batch are checked
  against his read condition with one SELECT per model; a record deleted since is not shown
  (it can no longer be checked), nor one moved out of his condition (his reads stop showing
  it too; a client that must know reloads on such gaps).
- delete: only when his read permission on the model has no condition. The record is gone, so
  whether it met a condition cannot be checked any more, and a deletion must not reveal that
  a record he was never allowed to see existed.
- fields: only names he may read: the system fields, properties other than passwords, and
  relations to models he may read.
A server key sees everything.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import connection

from apps.data_api.kinds import readable_properties
from apps.data_api.read.filters import FilterCompiler
from apps.data_api.sql.dialects import dialect
from apps.data_api.sql.global_ids import GlobalId
from apps.data_api.sql.text import Aliases, q
from apps.identity.access import Access, access_for
from apps.identity.principals import Principal
from models_registry.models import Application
from models_registry.runtime import RuntimeModels, runtime_models
from models_registry.specs import SYSTEM_COLUMNS

from . import frames
from .reading import Event

DELETE = "delete"
Frame = tuple[int, int, str]  # (seq, data model id, the event's text)


def visible_frames(application: Application, principal: Principal, events: list[Event]
                   ) -> list[Frame]:
    """The events `principal` may see, as text, in order."""
    built = runtime_models(application)
    access = access_for(application, principal)
    by_model: dict[int, list[Event]] = defaultdict(list)
    for event in events:
        if event.data_model_id is not None:
            by_model[event.data_model_id].append(event)
    shown: list[Frame] = []
    for model_id, model_events in by_model.items():
        cls = built.by_id.get(model_id)
        if cls is None or not access.allows(model_id, "read"):
            continue
        spec = cls._mortar
        fields = readable_fields(built, access, model_id)
        conditional = access.condition(model_id, "read") is not None
        readable = readable_ids(built, access, model_id, {
            e.record_id for e in model_events if e.operation != DELETE}) if conditional else None
        for e in model_events:
            if readable is not None and e.record_id not in readable:
                continue  # also every delete: see the module's docstring
            shown.append((e.seq, model_id, frames.event(e.seq, e.operation, {
                "seq": e.seq, "model": spec.name, "id": e.record_id,
                "nodeId": str(GlobalId(application.slug, spec.name, e.record_id)),
                "operation": e.operation, "fields": [f for f in e.fields if f in fields],
                "at": e.at.isoformat().replace("+00:00", "Z")})))
    shown.sort()
    return shown


def readable_fields(built: RuntimeModels, access: Access, model_id: int) -> set[str]:
    spec = built.by_id[model_id]._mortar
    names = set(SYSTEM_COLUMNS) | set(readable_properties(spec))
    names.update(name for name, end in spec.ends.items() if access.allows(end.target.pk, "read"))
    return names


def readable_ids(built: RuntimeModels, access: Access, model_id: int, ids: set[int]
                 ) -> set[int]:
    """Those of `ids` whose records exist and meet the caller's read condition: one SELECT."""
    if not ids:
        return set()
    cls = built.by_id[model_id]
    sql_dialect = dialect()
    aliases = Aliases()
    alias = aliases.next()
    filters = FilterCompiler(built, sql_dialect, aliases, access)
    sql = (f"SELECT {alias}.id FROM {q(cls._meta.db_table)} {alias} WHERE {alias}.id IN ("
           + sql_dialect.id_list(sorted(ids)) + ") AND " + filters.permitted(cls, alias))
    with connection.cursor() as cursor:
        cursor.execute(sql.text, sql.params)
        return {row[0] for row in cursor.fetchall()}
