"""Has-many and has-and-belongs-to-many changes of a mutation: `_add`, `_remove`, `_replace`.

Each operation is one set-based statement for all the records of the mutation, whatever their
number: has-many changes set the children's reference column (an `_add` moves a child from its
old parent), habtm changes insert or delete rows of the link table. What they change at the far
end is noted for the mutation's events: the children moved or unlinked, the records newly
linked or unlinked (updates with the relation's field on their side). Unlinking reads the rows
it changes first (locking them on PostgreSQL), then changes those by id, so the events name
exactly the records written.
"""

from __future__ import annotations

from collections import defaultdict
from functools import reduce
from operator import or_

from django.db import connection
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from models_registry.events import UPDATE, ChangeBatch, far_field, id_list
from models_registry.runtime import RuntimeModels
from models_registry.specs import RelationEnd

from ..errors import BadUserInput
from ..sql.dialects import dialect
from ..sql.text import q
from .record_input import RecordInput


def check_many_changes(ends: dict[str, RelationEnd], records: list[RecordInput]) -> None:
    """A child has one parent: refuse to give one child to two records of one request."""
    for name, end in ends.items():
        if not end.has_many:
            continue
        owners: dict[int, str] = {}
        for record in records:
            operations = record.many.get(name, {})
            for child_id in operations.get("_add", []) + operations.get("_replace", []):
                place = f"{record.path}.{name}" if record.path else name
                if owners.setdefault(child_id, place) != place:
                    raise BadUserInput(
                        f"{place}: record {child_id} is also given to {owners[child_id]}; a "
                        f"{end.target.name} belongs to one record at a time.", field=place)


def apply_many_changes(built: RuntimeModels, ends: dict[str, RelationEnd],
                       records: list[RecordInput], events: ChangeBatch, *,
                       new: bool = False) -> None:
    """Carry out the records' relation operations (the records have their ids by now), noting
    the far records they change in `events`; `new`: the records were just created."""
    for name, end in ends.items():
        changes = [(record.id, record.many[name]) for record in records if name in record.many]
        if not changes:
            continue
        if end.has_many:
            _has_many(end, changes, events)
        else:
            _habtm(built, end, changes, events, new)


def _has_many(end: RelationEnd, changes: list, events: ChangeBatch) -> None:
    child = end.target.model_class
    column = end.relation.attname
    field = [far_field(end)]
    now = timezone.now()
    unlink = []
    for parent_id, operations in changes:
        if "_replace" in operations:
            unlink.append(Q(**{column: parent_id}) & ~Q(pk__in=operations["_replace"]))
        if operations.get("_remove"):
            unlink.append(Q(**{column: parent_id, "pk__in": operations["_remove"]}))
    if unlink:
        unlinked = list(child.objects.filter(reduce(or_, unlink)).order_by("pk")
                        .select_for_update().values_list("pk", flat=True))
        if unlinked:
            child.objects.filter(pk__in=id_list(unlinked)).update(**{column: None},
                                                                  updated_at=now)
            events.add(child, unlinked, UPDATE, field)
    parent_of = {child_id: parent_id for parent_id, operations in changes
                 for child_id in operations.get("_add", []) + operations.get("_replace", [])}
    if parent_of:
        moves = [When(pk=child_id, then=Value(parent_id))
                 for child_id, parent_id in parent_of.items()]
        moved = list(parent_of)
        count = child.objects.filter(pk__in=moved).update(
            **{column: Case(*moves, output_field=IntegerField())}, updated_at=now)
        if count != len(moved):  # one was deleted since it was checked
            moved = list(child.objects.filter(pk__in=moved).values_list("pk", flat=True))
        events.add(child, moved, UPDATE, field)


def _habtm(built: RuntimeModels, end: RelationEnd, changes: list, events: ChangeBatch,
           new: bool) -> None:
    link = built.link_class(end.relation.pk)
    near, far = end.link_columns
    far_class, field = end.target.model_class, [far_field(end)]
    unlink = []
    for parent_id, operations in changes:
        if "_replace" in operations:
            unlink.append(Q(**{near: parent_id}) & ~Q(**{f"{far}__in": operations["_replace"]}))
        if operations.get("_remove"):
            unlink.append(Q(**{near: parent_id, f"{far}__in": operations["_remove"]}))
    if unlink:
        unlinked = list(link.objects.filter(reduce(or_, unlink)).order_by("pk")
                        .select_for_update().values_list("pk", far))
        if unlinked:
            link.objects.filter(pk__in=id_list([row[0] for row in unlinked])).delete()
            events.add(far_class, sorted({row[1] for row in unlinked}), UPDATE, field)
    pairs = defaultdict(set)
    for parent_id, operations in changes:
        pairs[parent_id].update(operations.get("_add", []) + operations.get("_replace", []))
    rows = [(parent_id, child_id)
            for parent_id, children in pairs.items() for child_id in sorted(children)]
    if rows:
        # Thousands of links in one statement of two parameters; links already there stay,
        # and only the far ends of new ones come back (every link of a new record is new).
        insert = dialect().insert_pairs(q(link._meta.db_table), near, far, rows,
                                        returning=None if new else far)
        with connection.cursor() as cursor:
            cursor.execute(insert.text, insert.params)
            linked = {row[1] for row in rows} if new else {row[0] for row in cursor.fetchall()}
        events.add(far_class, sorted(linked), UPDATE, field)
