"""updateX and updateManyX: the same changes to one record, or to every record `where`
matches, in one UPDATE; with ifUpdatedAt only when the records did not change since (see
`locking`)."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from models_registry.events import UPDATE

from ..errors import BadUserInput, NotFound
from ..sql.dialects import dialect
from ..sql.text import q
from .base import Mutation, input_fields
from .record_input import RecordInput
from .relation_writes import apply_many_changes


class Update(Mutation):
    operation = "update"

    def perform(self, args: dict) -> str:
        reader = self.reader(args)
        record = reader.read(args["input"], "", creating=False)
        record.id = args["id"]
        if not self.matching_unchanged({"id": {"eq": record.id}}, "update",
                                       args.get("ifUpdatedAt")):
            raise NotFound(f"There is no {self.cls._mortar.name} with id {record.id}"
                           + ("" if self.access.unrestricted else " that you may change")
                           + ".", field="id")
        self.checked(reader, [record], updating=[record.id])
        update_rows(self.cls, [record.id], record)
        self.note([record], UPDATE)
        self.within_condition([record.id], "update")
        apply_many_changes(self.built, reader.ends, [record], self.changes)
        return self.one_json(record.id)


class UpdateMany(Mutation):
    operation = "update"

    def perform(self, args: dict) -> str:
        # ifUpdatedAt: refused as a whole when any matching record was updated after it
        ids = self.matching_unchanged(args["where"], "update", args.get("ifUpdatedAt"),
                                      exact=False)
        self.at_most(args, len(ids), "match where")
        reader = self.reader(args)
        template = reader.read(args["input"], "", creating=False)
        if len(ids) > 1:
            for name, operations in template.many.items():
                end = reader.ends[name]
                if end.has_many and ("_add" in operations or "_replace" in operations):
                    raise BadUserInput(
                        f"{name}: {len(ids)} records match, and a {end.target.name} belongs "
                        "to one record at a time; _add/_replace it with updateX.", field=name)
        self.checked(reader, [template], updating=ids)
        if ids:
            update_rows(self.cls, ids, template)
            # the same values for every record: kept as given, not read back from 10,000 rows
            self.changes.add(self.cls, ids, UPDATE, input_fields(template), template.values)
            self.within_condition(ids, "update")
            records = [RecordInput("", many=template.many, id=record_id) for record_id in ids]
            apply_many_changes(self.built, reader.ends, records, self.changes)
        return self.list_json(ids)


def update_rows(cls, ids: list[int], record: RecordInput) -> None:
    """One UPDATE giving the records with these ids the record's values, each prepared by its
    field as Django's own updates do. Written here, not by QuerySet.update: building that
    query cost more than running it (0.4 ms of an updateX's 2.4 ms on PostgreSQL)."""
    wrapper = connections[DEFAULT_DB_ALIAS]  # not the proxy: it is asked once per value
    values = {**record.values, "updated_at": timezone.now()}
    fields = [(cls._meta.get_field(attname), value) for attname, value in values.items()]
    id_list = dialect().id_list(ids)
    assignments = ", ".join(f"{q(field.column)} = %s" for field, _ in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {q(cls._meta.db_table)} SET {assignments} WHERE id IN ({id_list.text})",
            [field.get_db_prep_save(value, wrapper) for field, value in fields]
            + id_list.params)
