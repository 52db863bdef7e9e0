"""The eight mutations of a model, each run in one transaction by the executor.

Inputs are read and checked for every item first (`record_input`); only then is anything
written, with statements whose number depends on the mutation's shape, not on its items: bulk
inserts, one UPDATE for many records, set-based relation changes. The records are returned as
the client selected them, read back by the planner in one statement.
"""

from __future__ import annotations

import hashlib
from functools import reduce
from operator import or_

from django.db import connection
from django.db.models import Max, Q
from django.db.models.deletion import ProtectedError, RestrictedError
from django.db.models.expressions import RawSQL
from django.utils import timezone
from graphql.execution.values import get_argument_values

from models_registry.models import Relation

from .bulk import insert_records
from .calls import Call
from .errors import BadUserInput, Forbidden, NotFound, ValidationFailed
from .filters import FilterCompiler
from .planner import Planner
from .record_input import InputReader, RecordInput
from .relation_writes import apply_many_changes, check_many_changes
from .sql import Aliases, dialect, q

ACTIONS = ("createMany", "updateMany", "upsertMany", "deleteMany",
           "create", "update", "upsert", "delete")


def split_name(name: str, record_types: set[str]) -> tuple[str, str] | None:
    """("createMany", "Task") for createManyTask; None when it is no mutation of a model."""
    for action in ACTIONS:
        if name.startswith(action) and name[len(action):] in record_types:
            return action, name[len(action):]
    return None


class Mutation:
    def __init__(self, call: Call, nodes: list):
        self.api = call.api
        self.built = call.api.built
        self.application = call.application
        self.fragments = call.fragments
        self.variables = call.variables
        self.access = call.access
        self.nodes = nodes

    def run(self) -> str:
        """The JSON text of the field's value."""
        name = self.nodes[0].name.value
        action, model = split_name(name, self.api.record_types)
        self.cls = self.built.by_name[model]
        self.name = name
        field_def = self.api.schema.mutation_type.fields[name]
        args = get_argument_values(field_def, self.nodes[0], self.variables)
        return getattr(self, f"_{action}")(args)

    # -- the eight ---------------------------------------------------------------------------

    def _create(self, args: dict) -> str:
        self._require("create")
        reader = self._reader(args)
        record = reader.read(args["input"], "", creating=True)
        self._checked(reader, [record])
        self._insert([record], reader.ends)
        return self._one(record.id)

    def _createMany(self, args: dict) -> str:
        self._require("create")
        items = self._counted(args["input"])
        reader = self._reader(args)
        records = [reader.read(item, f"[{i}]", creating=True) for i, item in enumerate(items)]
        self._checked(reader, records)
        self._insert(records, reader.ends)
        return self._list([r.id for r in records])

    def _update(self, args: dict) -> str:
        self._require("update")
        reader = self._reader(args)
        record = reader.read(args["input"], "", creating=False)
        record.id = args["id"]
        if not self._matching({"id": {"eq": record.id}}, "update"):
            raise NotFound(f"There is no {self.cls._mortar.name} with id {record.id}"
                           + ("" if self.access.unrestricted else " that you may change")
                           + ".", field="id")
        self._checked(reader, [record], updating=[record.id])
        self._update_rows([record.id], record)
        apply_many_changes(self.built, reader.ends, [record])
        return self._one(record.id)

    def _updateMany(self, args: dict) -> str:
        self._require("update")
        ids = self._matching(args["where"], "update")
        self._at_most(args, len(ids), "match where")
        reader = self._reader(args)
        template = reader.read(args["input"], "", creating=False)
        if len(ids) > 1:
            for name, operations in template.many.items():
                if reader.ends[name].relation.kind == Relation.Kind.BELONGS_TO and (
                        "_add" in operations or "_replace" in operations):
                    raise BadUserInput(
                        f"{name}: {len(ids)} records match, and a {reader.ends[name].target.name}"
                        " belongs to one record at a time; _add/_replace it with updateX.",
                        field=name)
        self._checked(reader, [template], updating=ids)
        if ids:
            self._update_rows(ids, template)
            records = [RecordInput("", many=template.many, id=record_id) for record_id in ids]
            apply_many_changes(self.built, reader.ends, records)
        return self._list(ids)

    def _upsert(self, args: dict) -> str:
        if not args.get("uniqueBy"):
            raise BadUserInput(f"{self.name} needs uniqueBy: the properties that pick the "
                               'record, e.g. uniqueBy: ["externalId"].', field="uniqueBy")
        return self._one(self._upsert_items([args["input"]], args, single=True)[0])

    def _upsertMany(self, args: dict) -> str:
        items = self._counted(args["input"])
        return self._list(self._upsert_items(items, args, single=False))

    def _delete(self, args: dict) -> str:
        self._require("delete")
        record_id = args["id"]
        found = self._records_json(self._matching({"id": {"eq": record_id}}, "delete"))
        if record_id not in found:
            raise NotFound(f"There is no {self.cls._mortar.name} with id {record_id}"
                           + ("" if self.access.unrestricted else " that you may delete")
                           + ".", field="id")
        self._delete_rows([record_id])
        return found[record_id]

    def _deleteMany(self, args: dict) -> str:
        self._require("delete")
        ids = list(dict.fromkeys(self._counted(args["input"]["ids"])))
        self._at_most(args, len(ids), "are listed")
        found = self._records_json(self._matching({"id": {"in": ids}}, "delete"))
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"There is no {self.cls._mortar.name} with id "
                           f"{', '.join(map(str, missing))}; nothing was deleted.",
                           field="input.ids", ids=missing)
        self._delete_rows(ids)
        return "[" + ",".join(found[i] for i in ids) + "]"

    # -- reading and checking ------------------------------------------------------------------

    def _reader(self, args: dict) -> InputReader:
        sets = args.get("validationSets") or ["default"]
        unknown = set(sets) - {"default", "empty"}
        if unknown:
            raise BadUserInput(f"Unknown validation set {sorted(unknown)[0]!r}: use "
                               '["default"] or ["empty"].', field="validationSets")
        validate = "default" in sets
        if not validate and not self.access.unrestricted:
            raise Forbidden('validationSets: ["empty"] is for action scripts (requests with a '
                            "server key).", field="validationSets")
        return InputReader(self.cls, self.built, self.application.slug, validate=validate)

    def _counted(self, items: list) -> list:
        most = self.application.max_mutation_items
        if len(items) > most:
            raise BadUserInput(f"{self.name} takes at most {most} items per request (got "
                               f"{len(items)}); send them in several requests.", field="input")
        return items

    @staticmethod
    def _at_most(args: dict, count: int, how: str) -> None:
        at_most = args.get("atMost")
        if at_most is not None and count > at_most:
            raise BadUserInput(f"{count} records {how}, more than atMost ({at_most}): nothing "
                               "was changed.", field="atMost", matched=count)

    def _checked(self, reader: InputReader, records: list[RecordInput],
                 updating: list[int] | None = None) -> None:
        check_many_changes(reader.ends, records)
        reader.check_related_ids(records)
        if reader.validate:
            reader.check_unique(records, updating)
        reader.problems.raise_any(f"{self.name} was refused")
        self._check_children(reader, records)

    def _check_children(self, reader: InputReader, records: list[RecordInput]) -> None:
        """Has-many operations change the children's reference: the caller must be allowed
        to update those children (and each of them)."""
        for name, end in reader.ends.items():
            if not end.many or end.relation.kind != Relation.Kind.BELONGS_TO:
                continue
            if not any(name in r.many for r in records) or self.access.unrestricted:
                continue
            ids = {child_id for record in records
                   for listed in record.many.get(name, {}).values() for child_id in listed}
            child = self.built.by_id[end.target.data_model.pk]
            if not self.access.allows(end.target.data_model.pk, "update"):
                raise Forbidden(f"{name}: you may not change {child._mortar.name} records, "
                                "which this relation operation would.", field=name)
            if ids and len(self._matching({"id": {"in": sorted(ids)}}, "update", child)) != len(
                    ids):
                raise Forbidden(f"{name}: some of these {child._mortar.name} records are not "
                                "yours to change; nothing was changed.", field=name)

    def _require(self, operation: str) -> None:
        if not self.access.allows(self.cls._mortar.data_model.pk, operation):
            anonymous = self.access.principal.kind == "anonymous"
            raise Forbidden(f"You may not {operation} {self.cls._mortar.name} records"
                            + (": log in first." if anonymous else "."))

    def _matching(self, where: dict, operation: str, cls=None) -> list[int]:
        """Ids of the records (of `cls`, this mutation's model by default) matching `where`
        that the caller may `operation`, in order."""
        cls = cls or self.cls
        aliases = Aliases()
        alias = aliases.next()
        filters = FilterCompiler(self.built, dialect(), aliases, self.access)
        condition = (filters.condition(cls, alias, where) + " AND "
                     + filters.permitted(cls, alias, operation))
        sql = (f"SELECT {alias}.id FROM {q(cls._meta.db_table)} {alias} WHERE " + condition
               + f" ORDER BY {alias}.id")
        with connection.cursor() as cursor:
            cursor.execute(sql.text, sql.params)
            return [row[0] for row in cursor.fetchall()]

    # -- writing -----------------------------------------------------------------------------------

    def _insert(self, records: list[RecordInput], ends: dict) -> None:
        self._number(records)
        ids = insert_records(self.cls, [record.values for record in records])
        for record, record_id in zip(records, ids, strict=True):
            record.id = record_id
        apply_many_changes(self.built, ends, records)
        self._within_condition(ids, "create")

    def _number(self, records: list[RecordInput]) -> None:
        """Auto numbers: one more than the highest so far, in order (serialised per property
        on PostgreSQL, so concurrent inserts do not take one number twice)."""
        for prop in self.cls._mortar.properties.values():
            if prop.kind != "auto_number":
                continue
            self._lock([f"{self.cls._meta.db_table}.{prop.attname}"])
            top = self.cls.objects.aggregate(top=Max(prop.attname))["top"] or 0
            for record in records:
                top += 1
                record.values[prop.attname] = top

    def _update_rows(self, ids: list[int], record: RecordInput) -> None:
        id_list = dialect().id_list(ids)
        self.cls.objects.filter(pk__in=RawSQL(id_list.text, id_list.params)).update(
            **record.values, updated_at=timezone.now())

    def _upsert_items(self, items: list[dict], args: dict, single: bool) -> list[int]:
        unique_by = list(dict.fromkeys(args.get("uniqueBy") or ["id"]))
        reader = self._reader(args)
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
        self._lock([f"{self.cls._meta.db_table}:{attnames}:{k!r}" for k in wanted])
        existing: dict[tuple, list[int]] = {}
        if wanted:
            matches = reduce(or_, (Q(**dict(zip(attnames, k, strict=True))) for k in wanted))
            for row in self.cls.objects.filter(matches).values_list("pk", *attnames):
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
        self._checked(reader, records)
        if creating:
            self._require("create")
            self._insert(creating, reader.ends)
        if updating:
            self._require("update")
            wanted = [record.id for record in updating]
            if len(self._matching({"id": {"in": wanted}}, "update")) != len(set(wanted)):
                raise Forbidden(f"Some of the {self.cls._mortar.name} records these items match "
                                "are not yours to change; nothing was changed.")
        self._bulk_update(updating)
        apply_many_changes(self.built, reader.ends, updating)
        return [record.id for record in records]

    def _within_condition(self, ids: list[int], operation: str) -> None:
        """New records must be ones the caller's condition allows (checked after the insert,
        inside the transaction: a refusal writes nothing)."""
        if self.access.condition(self.cls._mortar.data_model.pk, operation) is None:
            return
        if len(self._matching({"id": {"in": ids}}, operation)) != len(ids):
            raise Forbidden(f"You may {operation} only {self.cls._mortar.name} records that "
                            "meet your permission's condition; nothing was written.")

    def _bulk_update(self, records: list[RecordInput]) -> None:
        """Records with the same fields changed: one UPDATE for all of them."""
        now = timezone.now()
        groups: dict[tuple, list] = {}
        for record in records:
            obj = self.cls(pk=record.id, **record.values)
            obj.updated_at = now
            groups.setdefault(tuple(sorted(record.values)), []).append(obj)
        for fields, objects in groups.items():
            self.cls.objects.bulk_update(objects, [*fields, "updated_at"])

    def _delete_rows(self, ids: list[int]) -> None:
        id_list = dialect().id_list(ids)
        try:
            self.cls.objects.filter(pk__in=RawSQL(id_list.text, id_list.params)).delete()
        except (ProtectedError, RestrictedError) as error:
            blocking = sorted({obj._mortar.name for obj in error.protected_objects}
                              if isinstance(error, ProtectedError)
                              else {obj._mortar.name for obj in error.restricted_objects})
            raise ValidationFailed(
                f"{', '.join(blocking)} records still refer to it, and their relation says "
                "restrict: delete or move them first. Nothing was deleted.",
                fields={"id": [f"Referred to by {', '.join(blocking)} records."]}) from None

    @staticmethod
    def _lock(names: list[str]) -> None:
        """PostgreSQL: hold a lock per name until the transaction ends (sorted, one statement);
        SQLite has one writer at a time anyway."""
        if connection.vendor != "postgresql" or not names:
            return
        keys = sorted({int.from_bytes(hashlib.blake2b(n.encode(), digest_size=8).digest(),
                                      "big", signed=True) for n in names})
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) k",
                           [keys])

    # -- results -----------------------------------------------------------------------------------

    def _records_json(self, ids: list[int]) -> dict[int, str]:
        if not ids:
            return {}
        # The records the mutation wrote come back whole; relations in the selection only
        # show records the caller may read.
        planner = Planner(self.built, self.api.schema, self.fragments, self.variables,
                          self.application, access=self.access)
        sql = planner.records_by_id(self.cls, self.nodes, ids)
        with connection.cursor() as cursor:
            cursor.execute(sql.text, sql.params)
            return dict(cursor.fetchall())

    def _one(self, record_id: int) -> str:
        return self._records_json([record_id]).get(record_id, "null")

    def _list(self, ids: list[int]) -> str:
        found = self._records_json(ids)
        return "[" + ",".join(found[i] for i in ids) + "]"

