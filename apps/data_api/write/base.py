"""What every mutation of a model does, whatever its family: check the caller's permission,
open the transaction, turn failures into coded errors; and the steps the families share
(reading inputs, matching records the caller may change, inserting, reading back).

Inputs are read and checked for every item first (`record_input`); only then is anything
written, with statements whose number depends on the mutation's shape, not on its items: bulk
inserts, one UPDATE for many records, set-based relation changes. The records are returned as
the client selected them, read back by the planner in one statement.
"""

from __future__ import annotations

import abc
import datetime as dt
import hashlib

from django.db import connection, transaction
from django.db.models import Max
from django.db.models.expressions import RawSQL
from graphql import GraphQLField
from graphql.execution.values import get_argument_values
from graphql.language import FieldNode

from models_registry.events import CREATE, ChangeBatch
from models_registry.kinds import KINDS
from models_registry.specs import RelationEnd

from ..context import Context
from ..errors import ApiError, BadUserInput, Forbidden, coded, write_refusal
from ..read.filters import FilterCompiler
from ..read.planner import Planner
from ..sql.dialects import dialect
from ..sql.text import Aliases, Sql, q
from .bulk import insert_records
from .locking import lock_unchanged
from .record_input import InputReader, RecordInput
from .relation_writes import apply_many_changes, check_many_changes


class Mutation(abc.ABC):
    """One mutation field of one model; a family says `operation` (the permission it needs
    before anything else, None when it depends on the items) and `perform`."""

    operation: str | None = None

    def __init__(self, context: Context, model: str, field_def: GraphQLField,
                 nodes: list[FieldNode]):
        self.context = context
        self.built = context.built
        self.application = context.application
        self.access = context.access
        self.cls = context.built.by_name[model]
        self.field_def = field_def
        self.nodes = nodes
        self.name = nodes[0].name.value
        self.changes = ChangeBatch()  # what the mutation wrote: its events, at the end

    def run(self) -> str:
        """The JSON text of the field's value; one transaction, whole or not at all. Raises
        an ApiError (or what `errors.coded` cannot name, reported as internal). The events of
        what it wrote are the transaction's last statements (`ChangeBatch.flush`): a mutation
        that fails leaves none, and takes no number."""
        try:
            args = get_argument_values(self.field_def, self.nodes[0], self.context.variables)
            if self.operation is not None:
                self.require(self.operation)
            with transaction.atomic():
                result = self.perform(args)
                self.changes.flush(self.application.pk, self.access.principal.actor,
                                   self.context.origin)
                self.context.admit()  # a request not served rolls back here
                return result
        except ApiError:
            raise
        except Exception as error:
            known = coded(error)
            if known is error:
                raise
            raise known from error

    @abc.abstractmethod
    def perform(self, args: dict) -> str:
        """Check and write, inside the transaction; the JSON text of the result."""

    # -- permissions -------------------------------------------------------------------------

    def require(self, operation: str) -> None:
        spec = self.cls._mortar
        if not self.access.allows(spec.pk, operation):
            raise Forbidden(write_refusal(self.access, spec.name, spec.pk, operation))

    def matching(self, where: dict, operation: str, cls=None, trashed: str | None = None
                 ) -> list[int]:
        """Ids of the records (of `cls`, this mutation's model by default) matching `where`
        that the caller may `operation`, in order (`trashed`: as allX's)."""
        sql = self._ids_sql(cls or self.cls, where, operation, trashed)
        with connection.cursor() as cursor:
            cursor.execute(sql.text + " ORDER BY 1", sql.params)
            return [row[0] for row in cursor.fetchall()]

    def matching_unchanged(self, where: dict, operation: str, since: dt.datetime | None, *,
                           exact: bool = True, doing: str = "written") -> list[int]:
        """`matching`; with `since` (ifUpdatedAt) the records are also locked until the
        transaction ends, and a CONFLICT refuses the mutation when any changed since (see
        `locking`): only records the caller may `operation` are compared."""
        if since is None:
            return self.matching(where, operation)
        return lock_unchanged(self.built, self.access, self.cls, where, operation, since,
                              exact=exact, doing=doing)

    def updatable_ids(self) -> RawSQL:
        """A subquery of the ids of this model's records the caller may update."""
        sql = self._ids_sql(self.cls, None, "update")
        return RawSQL(sql.text, sql.params)

    def _ids_sql(self, cls, where: dict | None, operation: str, trashed: str | None = None
                 ) -> Sql:
        """SELECT the ids of records of `cls` matching `where` that the caller may
        `operation` (the filters and permission conditions of the read stage)."""
        aliases = Aliases()
        alias = aliases.next()
        filters = FilterCompiler(self.built, dialect(), aliases, self.access)
        return (f"SELECT {alias}.id FROM {q(cls._meta.db_table)} {alias} WHERE "
                + filters.condition(cls, alias, where) + " AND "
                + filters.permitted(cls, alias, operation, trashed))

    def within_condition(self, ids: list[int], operation: str) -> None:
        """Records as written (created, or updated) must still be ones the caller's condition
        allows: checked after the write, inside the transaction, so a refusal writes nothing
        (no record is handed to another owner or moved out of its condition)."""
        if self.access.condition(self.cls._mortar.pk, operation) is None:
            return
        if len(self.matching({"id": {"in": ids}}, operation)) != len(set(ids)):
            raise Forbidden(f"You may {operation} only {self.cls._mortar.name} records that "
                            "meet your permission's condition, also once changed; nothing "
                            "was written.")

    # -- reading and checking ----------------------------------------------------------------

    def reader(self, args: dict) -> InputReader:
        sets = args.get("validationSets") or ["default"]
        unknown = set(sets) - {"default", "empty"}
        if unknown:
            raise BadUserInput(f"Unknown validation set {sorted(unknown)[0]!r}: use "
                               '["default"] or ["empty"].', field="validationSets")
        validate = "default" in sets
        if not validate and not self.access.unrestricted:
            raise Forbidden('validationSets: ["empty"] is for action scripts (requests with a '
                            "server key).", field="validationSets")
        return InputReader(self.cls, self.built, self.application.slug, validate=validate,
                           readable=lambda cls, ids: set(self.matching(
                               {"id": {"in": ids}}, "read", cls)))

    def counted(self, items: list) -> list:
        most = self.application.max_mutation_items
        if len(items) > most:
            raise BadUserInput(f"{self.name} takes at most {most} items per request (got "
                               f"{len(items)}); send them in several requests.", field="input")
        return items

    @staticmethod
    def at_most(args: dict, count: int, how: str) -> None:
        at_most = args.get("atMost")
        if at_most is not None and count > at_most:
            raise BadUserInput(f"{count} records {how}, more than atMost ({at_most}): nothing "
                               "was changed.", field="atMost", matched=count)

    def checked(self, reader: InputReader, records: list[RecordInput],
                updating: list[int] | None = None) -> None:
        check_many_changes(reader.ends, records)
        self._check_far_models(reader, records)
        reader.check_related_ids(records)
        if reader.validate:
            reader.check_unique(records, updating)
        reader.problems.raise_any(f"{self.name} was refused")
        self._check_far_records(reader, records)

    def _check_far_models(self, reader: InputReader, records: list[RecordInput]) -> None:
        """A relation operation on a list changes the records at its far end: the caller
        must be allowed to update that model at all (said before any record is looked at)."""
        if self.access.unrestricted:
            return
        for name, end in reader.ends.items():
            if end.many and any(name in r.many for r in records) and not self.access.allows(
                    end.target.pk, "update"):
                raise Forbidden(f"{name}: you may not change {end.target.name} records, "
                                "which this relation operation would.", field=name)

    def _check_far_records(self, reader: InputReader, records: list[RecordInput]) -> None:
        """Has-many and habtm operations change the records at the far end too (a moved or
        unlinked child; both records of a link): the caller must be allowed to update every
        one of them, those a `_replace` would unlink included."""
        if self.access.unrestricted:
            return
        for name, end in reader.ends.items():
            changing = [r for r in records if name in r.many]
            if not end.many or not changing:
                continue
            far = end.target.model_class
            ids = {far_id for record in changing
                   for listed in record.many[name].values() for far_id in listed}
            replacing = [r.id for r in changing if "_replace" in r.many[name] and r.id]
            if replacing:
                kept = {far_id for r in changing for far_id in r.many[name].get("_replace", ())}
                ids |= linked_ids(end, replacing) - kept
            if ids and len(self.matching({"id": {"in": sorted(ids)}}, "update", far)) != len(ids):
                raise Forbidden(f"{name}: some of the {far._mortar.name} records this would "
                                "change are not yours to change; nothing was changed.",
                                field=name)

    # -- writing -------------------------------------------------------------------------------

    def insert(self, records: list[RecordInput], ends: dict) -> None:
        """Insert new records (one statement), then their relation operations."""
        self._number(records)
        ids = insert_records(self.cls, [record.values for record in records])
        for record, record_id in zip(records, ids, strict=True):
            record.id = record_id
        self.note(records, CREATE)
        apply_many_changes(self.built, ends, records, self.changes, new=True)
        self.within_condition(ids, "create")

    def note(self, records: list[RecordInput], operation: str) -> None:
        """These records were written with their inputs: their events' fields are the
        inputs' field names (records with the same names noted together)."""
        groups: dict[tuple[str, ...], list[int]] = {}
        for record in records:
            groups.setdefault(input_fields(record), []).append(record.id)
        for fields, ids in groups.items():
            self.changes.add(self.cls, ids, operation, fields)

    def _number(self, records: list[RecordInput]) -> None:
        """Auto numbers: one more than the highest so far, in order (serialised per property
        on PostgreSQL, so concurrent inserts do not take one number twice)."""
        for prop in self.cls._mortar.properties.values():
            if not KINDS[prop.kind].numbered:
                continue
            advisory_lock([f"{self.cls._meta.db_table}.{prop.attname}"])
            # records in a trash keep their numbers: counted too
            top = self.cls._base_manager.aggregate(top=Max(prop.attname))["top"] or 0
            for record in records:
                top += 1
                record.values[prop.attname] = top

    # -- results -------------------------------------------------------------------------------

    def records_json(self, ids: list[int]) -> dict[int, str]:
        if not ids:
            return {}
        # The records the mutation wrote come back whole; relations in the selection only
        # show records the caller may read.
        planner = Planner(self.built, self.context.schema, self.context.fragments,
                          self.context.variables, self.application, access=self.access)
        sql = planner.records_by_id(self.cls, self.nodes, ids)
        with connection.cursor() as cursor:
            cursor.execute(sql.text, sql.params)
            return dict(cursor.fetchall())

    def one_json(self, record_id: int) -> str:
        return self.records_json([record_id]).get(record_id, "null")

    def list_json(self, ids: list[int]) -> str:
        """The records in order, those the caller may not read left out."""
        found = self.records_json(ids)
        return "[" + ",".join(found[i] for i in ids if i in found) + "]"


def input_fields(record: RecordInput) -> tuple[str, ...]:
    """The API names of the fields a record's input set: properties and belongs-to relations
    (in the input type's order), then has-many and habtm operations."""
    return (*record.names.values(), *record.many)


def linked_ids(end: RelationEnd, record_ids: list[int]) -> set[int]:
    """The ids of the records these records are related to through a has-many or habtm end."""
    if end.habtm:
        near, far = end.link_columns
        link = end.relation
        sql = (f"SELECT {far} FROM {q(f'mortar_j{link.pk}')} WHERE {near} IN ("
               + dialect().id_list(record_ids) + ")")
    else:
        sql = (f"SELECT id FROM {q(end.target.data_model.table_name)} WHERE "
               f"{q(end.relation.attname)} IN (" + dialect().id_list(record_ids) + ")")
    with connection.cursor() as cursor:
        cursor.execute(sql.text, sql.params)
        return {row[0] for row in cursor.fetchall()}


def advisory_lock(names: list[str]) -> None:
    """PostgreSQL: hold a lock per name until the transaction ends (sorted, one statement);
    SQLite has one writer at a time anyway."""
    if connection.vendor != "postgresql" or not names:
        return
    keys = sorted({int.from_bytes(hashlib.blake2b(n.encode(), digest_size=8).digest(),
                                  "big", signed=True) for n in names})
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) k",
                       [keys])
