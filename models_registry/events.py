"""The transactional outbox: every write of records (a data API mutation, the admin's record
browser, a definition file's data) notes its changes in a `ChangeBatch` and flushes it as the
last statements of its own transaction, so an event exists if and only if its change committed.

An event says which record (application, model, id) changed how (create, update or delete),
which of its API fields the change set, and who made it (`actor`). Relations count where the
stored data changed: a belongs-to change is an update of the record holding the reference (a
child moved or unlinked by a has-many operation, or nullified by a deletion); a habtm link
added or removed is an update of the records at both ends, with the relation's field name on
each. Records a deletion cascades to are deleted too, with their own events.

One write, however many records, costs two statements: the counter's upsert and one
set-based INSERT of all its events (arrays bound as one parameter per column on PostgreSQL,
one JSON parameter on SQLite).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, NamedTuple

from django.db import connection, router, transaction
from django.db.models import QuerySet
from django.db.models.deletion import Collector
from django.db.models.expressions import RawSQL
from django.dispatch import Signal
from django.utils import timezone

from .models import ChangeEvent, EventSequence
from .runtime import RuntimeRecord
from .snapshots import known_values, snapshot_sql
from .specs import RelationEnd

CREATE = ChangeEvent.Operation.CREATE.value
UPDATE = ChangeEvent.Operation.UPDATE.value
DELETE = ChangeEvent.Operation.DELETE.value

LOADER = {"kind": "loader"}  # a definition file's data (loadapp --with-data)

# Sent once a write's events have committed (sender=None, application_id, last_seq): what wakes
# watchers (apps.watch) without this package knowing them. Sent robustly: a failing receiver
# is logged and never fails the write, which has committed.
events_committed = Signal()
# On PostgreSQL the counter's upsert also NOTIFYs this channel (payload: the application's id),
# delivered by PostgreSQL if and only if the transaction commits, at no extra round trip:
# apps.watch LISTENs to it.
NOTIFY_CHANNEL = "mortar_events"


def admin_actor(user) -> dict:
    """A builder in the admin's record browser."""
    return {"kind": "admin", "id": user.pk, "username": user.get_username()}


def actor_label(actor: dict) -> str:
    """Who, in words (the admin shows and searches it): `user 7 (profile …)`, `server key`,
    `anonymous`, `admin alice`, `loader`."""
    kind = actor.get("kind", "anonymous")
    if kind == "user":
        return f"user {actor.get('id')} (profile {actor.get('profile')})"
    if kind == "admin":
        return f"admin {actor.get('username')}"
    if kind == "server":
        return f"server key {actor['key']}" if actor.get("key") else "server key"
    return kind


class Origin(NamedTuple):
    """Where a write came from: the client's address as the web server saw it (REMOTE_ADDR;
    behind a proxy, the proxy's) and its user agent (cut to what is kept)."""

    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def of(cls, request) -> Origin:
        if request is None:
            return cls()
        return cls(request.META.get("REMOTE_ADDR") or None,
                   request.headers.get("User-Agent", "")[:USER_AGENT_LENGTH])


USER_AGENT_LENGTH = ChangeEvent._meta.get_field("user_agent").max_length
NOWHERE = Origin()  # the loader's, and a write's without a request


class ChangeBatch:
    """The changes of one write, one per record (noted again, a record's changes merge: the
    fields add up, a create stays a create, a delete wins). Events come out by model, in the
    order models were first noted, and within a model by kind (operation and fields), each
    kind's records in the order noted.

    Kept per model as record id -> (operation, fields, values), one shared tuple per kind: noting
    10,000 records allocates no object per record (measured: 15-18 ms for 10,000 with a pair
    of objects per record, under Django, most of it the garbage collector's)."""

    def __init__(self):
        self._models: dict[int, tuple[type[RuntimeRecord],
                                      dict[int, tuple[str, tuple[str, ...], str | None]]]] = {}
        self._kinds: dict[tuple, tuple] = {}  # each (operation, fields, values) once

    def __len__(self) -> int:
        return sum(len(records) for _, records in self._models.values())

    def _kind(self, operation: str, fields: tuple[str, ...], values: str | None = None
              ) -> tuple[str, tuple[str, ...], str | None]:
        key = (operation, fields, values)
        return self._kinds.setdefault(key, key)

    def add(self, cls: type[RuntimeRecord], ids: Iterable[int], operation: str,
            fields: Iterable[str] = (), values: dict[str, Any] | None = None) -> None:
        """Records of the runtime class `cls` changed: `fields` are the API names the change
        set (ignored for a delete). `values`, when the writer knows them: the stored values
        (by runtime attribute) it gave all these records, kept as their events' values rather
        than read back from their rows (`snapshots`)."""
        spec = cls._mortar
        kind = self._kind(operation, () if operation == DELETE
                          else tuple(dict.fromkeys(fields)),
                          None if values is None else known_values(cls, values))
        noted = self._models.get(spec.pk)
        if noted is None:
            noted = self._models[spec.pk] = (cls, {})
        records = noted[1]
        if not records:
            records.update(dict.fromkeys(ids, kind))
            return
        for record_id in ids:
            found = records.get(record_id)
            if found is None:
                records[record_id] = kind
            elif found is kind or found[0] == DELETE:
                continue
            elif operation == DELETE:
                if found[0] == CREATE:  # never seen outside this transaction
                    del records[record_id]
                else:
                    records[record_id] = kind
            else:
                records[record_id] = self._kind(  # values: read back from the row
                    found[0], tuple(dict.fromkeys(found[1] + kind[1])))

    def _groups(self) -> list[tuple]:
        """(model id, runtime class, operation, fields, record ids, known values or None) per
        model and kind, in the order events are numbered."""
        groups = []
        for model_id, (cls, records) in self._models.items():
            by_kind: dict[int, tuple[tuple, list[int]]] = {}
            for record_id, kind in records.items():
                found = by_kind.get(id(kind))
                if found is None:
                    found = by_kind[id(kind)] = (kind, [])
                found[1].append(record_id)
            groups.extend((model_id, cls, kind[0], kind[1], ids, kind[2])
                          for kind, ids in by_kind.values())
        return groups

    def flush(self, application_id: int, actor: dict, origin: Origin = NOWHERE) -> None:
        """Write the noted changes as events of the application; the last thing a write's
        transaction does (nothing when nothing was noted).

        The numbers are taken here, at the end, by an upsert of the application's counter row,
        which keeps that row locked until the transaction ends: a concurrent write of the same
        application waits at its own upsert until this one has committed (or rolled back,
        giving the numbers back), then continues from the committed value. So numbers are
        gapless and follow commit order: a reader that sees event N sees every event before
        it. Taking them last keeps the lock short (one INSERT, then the commit) and away from
        every other lock the writes take, so it cannot be part of a deadlock. SQLite has one
        writer at a time anyway.
        """
        count = len(self)
        if not count:
            return
        groups = self._groups()
        self._models, self._kinds = {}, {}
        quote = connection.ops.quote_name
        counter = quote(EventSequence._meta.db_table)
        notify = (f", pg_notify('{NOTIFY_CHANNEL}', CAST(application_id AS text))"
                  if connection.vendor == "postgresql" else "")  # see NOTIFY_CHANNEL
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {counter} (application_id, last) VALUES (%s, %s) "
                f"ON CONFLICT (application_id) DO UPDATE SET last = {counter}.last + "
                f"excluded.last RETURNING last{notify}", [application_id, count])
            first = cursor.fetchone()[0] - count + 1
            cursor.execute(*_insert_events(application_id, first, groups, actor, origin))
        last = first + count - 1
        transaction.on_commit(lambda: events_committed.send_robust(
            None, application_id=application_id, last_seq=last))


def _insert_events(application_id: int, first: int, groups: list, actor: dict,
                   origin: Origin) -> tuple[str, list]:
    """One INSERT of the events (seq from `first` on, in the order of `groups`), each with the
    values of its record it keeps (`snapshots`), as the write left them."""
    table = connection.ops.quote_name(ChangeEvent._meta.db_table)
    columns = ("application_id, seq, data_model_id, model, record_id, operation, fields, actor, "
               "ip, user_agent, created_at, after")
    created = ChangeEvent._meta.get_field("created_at").get_db_prep_value(
        timezone.now(), connection)
    if connection.vendor == "postgresql":
        # What events share (model, operation, fields: a handful of kinds per write) is bound
        # once per kind; per event only its record id and its kind's number, as one text of
        # comma-separated numbers each. Binding a list per column instead (an element per
        # event) made psycopg's adapting most of the cost: 10,000 events took 80-115 ms to
        # insert that way, 27-37 ms this way (measured here).
        record_ids = ",".join(",".join(map(str, group[4])) for group in groups)
        numbers = ",".join(",".join([str(number)] * len(group[4]))
                           for number, group in enumerate(groups, 1))
        after, known = _after_sql(groups, "e.k", "e.r")
        return (f"INSERT INTO {table} ({columns}) SELECT %s, %s + e.n, "
                "(CAST(%s AS integer[]))[e.k], (CAST(%s AS text[]))[e.k], e.r, "
                "(CAST(%s AS text[]))[e.k], (CAST(%s AS jsonb[]))[e.k], CAST(%s AS jsonb), "
                f"CAST(%s AS inet), %s, CAST(%s AS timestamptz), {after} FROM unnest("
                "CAST(string_to_array(%s, ',') AS bigint[]), "
                "CAST(string_to_array(%s, ',') AS integer[])) WITH ORDINALITY AS e(r, k, n)",
                [application_id, first - 1, [group[0] for group in groups],
                 [group[1]._mortar.name for group in groups], [group[2] for group in groups],
                 [json.dumps(group[3]) for group in groups], json.dumps(actor), origin.ip,
                 origin.user_agent, created, *known, record_ids, numbers])
    # json_each's key is the array index, from 0; json_extract of an array is its JSON text
    events = json.dumps([[model_id, cls._mortar.name, record_id, operation, fields, number]
                         for number, (model_id, cls, operation, fields, ids, _)
                         in enumerate(groups, 1) for record_id in ids])
    picks = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(5))
    after, known = _after_sql(groups, "json_extract(value, '$[5]')",
                              "json_extract(value, '$[2]')")
    return (f"INSERT INTO {table} ({columns}) SELECT %s, %s + key, {picks}, %s, %s, %s, %s, "
            f"{after} FROM json_each(%s)", [application_id, first, json.dumps(actor), origin.ip,
                                             origin.user_agent, created, *known, events])


def _after_sql(groups: list, number: str, record_id: str) -> tuple[str, list]:
    """The events' `after` column and its parameters: by the event's kind number, the values
    its writer gave (one parameter per kind), or what `snapshots` keeps of its record, read
    from its model's table; NULL for a delete, or an update of nothing kept."""
    quote = connection.ops.quote_name
    cast = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"  # JSON text
    branches, params = [], []
    for at, (_, cls, operation, fields, _, known) in enumerate(groups, 1):
        if operation == DELETE:
            continue
        if known is not None:
            branches.append(f"WHEN {number} = {at} THEN {cast}")
            params.append(known)
            continue
        built = snapshot_sql(cls, "m", None if operation == CREATE else fields)
        if built is not None:
            branches.append(f"WHEN {number} = {at} THEN (SELECT {built} FROM "
                            f"{quote(cls._meta.db_table)} m WHERE m.id = {record_id})")
    return (f"CASE {' '.join(branches)} END" if branches else "NULL"), params


# -- relations --------------------------------------------------------------------------------


def far_field(end: RelationEnd) -> str:
    """The relation's field name on the model at the far end of `end`."""
    return end.relation.target_field if end.side == "source" else end.relation.source_field


def note_links(changes: ChangeBatch, end: RelationEnd, before: set[int], after: set[int]
               ) -> None:
    """A record's habtm links through `end` went from `before` to `after` (far record ids):
    the far records linked or unlinked are updated (the record itself is noted by its
    writer)."""
    far = before ^ after
    if far:
        changes.add(end.target.model_class, sorted(far), UPDATE, [far_field(end)])


def id_list(ids: Iterable[int]) -> RawSQL:
    """A subquery of these ids, bound as one parameter however many there are."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(CAST(%s AS bigint[]))", [ids])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])


# -- deletions ----------------------------------------------------------------------------------


def delete_records(cls: type[RuntimeRecord], ids: list[int], changes: ChangeBatch) -> None:
    """Delete these records of `cls` as Django's deletion does (the relations' on-delete rules
    cascade, nullify, or refuse with ProtectedError before anything is written), noting every
    record it deletes or changes: the records and those cascaded to are deleted; children
    nullified are updated (their belongs-to field); the far records of habtm links removed are
    updated (the relation's field on their side).

    What Django would delete or nullify by a condition (`fast_deletes`, lazy updates) is read
    first and then deleted or nullified by id, so the events name exactly the rows written.
    On PostgreSQL the records are locked first: one deleted meanwhile by a concurrent write
    (which has its own event) is left out, and no record can start referring to them before
    this transaction ends.
    """
    using = router.db_for_write(cls)
    if ids and connection.vendor == "postgresql":
        there = set(cls._base_manager.using(using).filter(pk__in=id_list(ids)).order_by("pk")
                    .select_for_update().values_list("pk", flat=True))
        ids = [record_id for record_id in ids if record_id in there]
    if not ids:
        return
    origin = cls._base_manager.using(using).filter(pk__in=id_list(ids))
    collector = Collector(using=using, origin=origin)
    collector.collect(origin)
    deleted: dict[type, set[int]] = defaultdict(set)
    links: list[tuple[type, list[tuple[int, int]]]] = []
    for model, instances in collector.data.items():
        pks = [obj.pk for obj in instances]
        if issubclass(model, RuntimeRecord):
            deleted[model].update(pks)
        elif pks:
            links.append((model, list(model._base_manager.using(using).filter(
                pk__in=id_list(pks)).values_list("a_id", "b_id"))))
    by_id = []
    for queryset in collector.fast_deletes:
        model = queryset.model
        if queryset is origin:
            deleted[model].update(ids)
            by_id.append(queryset)
            continue
        if issubclass(model, RuntimeRecord):
            pks = list(queryset.values_list("pk", flat=True))
            deleted[model].update(pks)
        else:
            rows = list(queryset.values_list("pk", "a_id", "b_id"))
            pks = [row[0] for row in rows]
            links.append((model, [row[1:] for row in rows]))
        if pks:
            by_id.append(model._base_manager.using(using).filter(pk__in=id_list(pks)))
    collector.fast_deletes = by_id
    changes.add(cls, ids, DELETE)  # the records asked for first, in their order
    for model, pks in deleted.items():
        changes.add(model, sorted(pks - set(ids) if model is cls else pks), DELETE)
    for (field, _), groups in collector.field_updates.items():
        for group in groups:
            if isinstance(group, QuerySet):
                list(group)  # evaluated: Django then updates these rows by id
            pks = sorted({obj.pk for obj in group} - deleted[field.model])
            if pks and issubclass(field.model, RuntimeRecord):
                changes.add(field.model, pks, UPDATE, [_belongs_to_name(field)])
    for link, pairs in links:
        _note_unlinked(changes, link, pairs, deleted)
    collector.delete()


def _belongs_to_name(field) -> str:
    """The API name of a runtime class's belongs-to field."""
    for name, end in field.model._mortar.ends.items():
        if not end.many and end.attname == field.name:
            return name
    return field.name


def _note_unlinked(changes: ChangeBatch, link: type, pairs: list[tuple[int, int]],
                   deleted: dict[type, set[int]]) -> None:
    """habtm links (a_id, b_id) deleted with records: the ends that stay are updated."""
    source = link._meta.get_field("a").related_model
    target = link._meta.get_field("b").related_model
    end = next(end for end in source._mortar.ends.values()
               if end.habtm and end.side == "source"
               and f"mortar_j{end.relation.pk}" == link._meta.db_table)
    gone_a, gone_b = deleted[source], deleted[target]
    stay_b = sorted({b for a, b in pairs if a in gone_a and b not in gone_b})
    stay_a = sorted({a for a, b in pairs if b in gone_b and a not in gone_a})
    if stay_b:
        changes.add(target, stay_b, UPDATE, [end.relation.target_field])
    if stay_a:
        changes.add(source, stay_a, UPDATE, [end.relation.source_field])
