"""upsertX and upsertManyX: each item updates the record its `uniqueBy` properties pick
(or its id), or becomes a new record. upsertX's ifUpdatedAt guards the update: the matched
record must not have changed since, and an item that matches none is refused, not created."""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import Q
from django.utils import timezone

from models_registry.events import UPDATE

from ..errors import BadUserInput
from .base import Mutation, advisory_lock
from .locking import gone
from .record_input import RecordInput
from .relation_writes import apply_many_changes


class _Upsert(Mutation):
    """Both upserts: the permission to create or update depends on what the items match."""

    def upsert_items(self, items: list[dict], args: dict, single: bool) -> list[int]:
        """The ids of the items' records, in order: matched ones updated, the others created."""
        model_id = self.cls._mortar.pk
        if not (self.access.allows(model_id, "create") or self.access.allows(model_id, "update")):
            self.require("update")  # refused before any record is looked at
        unique_by = list(dict.fromkeys(args.get("uniqueBy") or ["id"]))
        reader = self.reader(args)
        records, raws = [], {}
        for index, item in enumerate(items):
            path = "" if single else f"[{index}]"
            missing = [n for n in unique_by if n != "id" and n not in item]
            if missing:
                place = f"{path}.{missing[0]}" if path else missing[0]
                raise BadUserInput(f"{place}: uniqueBy names {', '.join(missing)}, so the "
                                   "input must give it: it picks the record.", field=place)
            record = reader.read(item, path, creating=False, id_allowed=not single)
            records.append(record)
            raws[id(record)] = item
        attnames = ["pk" if n == "id" else self.cls._mortar.properties[n].attname
                    for n in unique_by]

        def key(record: RecordInput) -> tuple | None:
            if "pk" in attnames and record.id is None:
                return None  # no id to match: a new record
            return tuple(record.id if a == "pk" else record.values.get(a) for a in attnames)

        keys = {id(r): key(r) for r in records}
        wanted = sorted({k for k in keys.values() if k is not None}, key=repr)
        advisory_lock([f"{self.cls._meta.db_table}:{attnames}:{k!r}" for k in wanted])
        existing: dict[tuple, list[int]] = {}
        if wanted and self.access.allows(model_id, "update"):
            # only records the caller may update can be matched: whether others exist is not
            # his to learn (an item matching none of his is a new record)
            matches = reduce(or_, (Q(**dict(zip(attnames, k, strict=True))) for k in wanted))
            found = self.cls.objects.filter(matches)
            if not self.access.unrestricted:
                found = found.filter(pk__in=self.updatable_ids())
            for row in found.values_list("pk", *attnames):
                existing.setdefault(tuple(row[1:]), []).append(row[0])
        seen: dict[tuple, str] = {}
        creating, updating = [], []
        for record in records:
            k = keys[id(record)]
            if k is not None and k in seen:
                reader.problems.add(record.path or "input", f"Another item has the same "
                                    f"{', '.join(unique_by)} ({seen[k] or 'input'}).")
            if k is not None:
                seen.setdefault(k, record.path)
            matched = existing.get(k, []) if k is not None else []
            if len(matched) > 1:
                reader.problems.add(record.path or "input", f"{len(matched)} records have these "
                                    f"{', '.join(unique_by)}; uniqueBy must pick one.")
            elif matched:
                record.id = matched[0]
                updating.append(record)
            else:
                record.id = None
                reader.required_missing(record, raws[id(record)])
                creating.append(record)
        since = args.get("ifUpdatedAt")  # upsertX only: the record it matched, unchanged
        if since is not None and creating:
            raise gone(self.cls._mortar.name)
        if since is not None and updating and not self.matching_unchanged(
                {"id": {"eq": updating[0].id}}, "update", since):
            raise gone(self.cls._mortar.name)  # deleted since it was matched
        if creating:  # before the checks: their answers may speak of others' records
            self.require("create")
        self.checked(reader, records)
        if creating:
            self.insert(creating, reader.ends)
        _bulk_update(self.cls, updating)
        if updating:
            self.note(updating, UPDATE)
            self.within_condition([record.id for record in updating], "update")
        apply_many_changes(self.built, reader.ends, updating, self.changes)
        return [record.id for record in records]


class Upsert(_Upsert):
    def perform(self, args: dict) -> str:
        if not args.get("uniqueBy"):
            raise BadUserInput(f"{self.name} needs uniqueBy: the properties that pick the "
                               'record, e.g. uniqueBy: ["externalId"].', field="uniqueBy")
        return self.one_json(self.upsert_items([args["input"]], args, single=True)[0])


class UpsertMany(_Upsert):
    def perform(self, args: dict) -> str:
        items = self.counted(args["input"])
        return self.list_json(self.upsert_items(items, args, single=False))


def _bulk_update(cls, records: list[RecordInput]) -> None:
    """Records with the same fields changed: one UPDATE for all of them."""
    now = timezone.now()
    groups: dict[tuple, list] = {}
    for record in records:
        obj = cls(pk=record.id, **record.values)
        obj.updated_at = now
        groups.setdefault(tuple(sorted(record.values)), []).append(obj)
    for fields, objects in groups.items():
        cls.objects.bulk_update(objects, [*fields, "updated_at"])
