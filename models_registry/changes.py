"""Schema changes: each one checks first, then applies DDL and metadata in one transaction.

Every function here either changes the database schema and the metadata together and bumps the
application's schema version, or raises SchemaChangeError with a message for the builder and
changes nothing. Check functions (`*_problems`) are the same checks without applying, for forms.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import DatabaseError, connection, models, transaction
from django.db.models import Count, F

from .kinds import KINDS, convert_value
from .models import Application, DataModel, Property, Relation
from .names import field_name_problems, model_name_problems
from .runtime import RuntimeRecord, build_runtime_models
from .specs import DELETED_AT

EXAMPLES_SHOWN = 3


class SchemaChangeError(Exception):
    """A schema change that cannot be made; `message` says what to change, `field` where."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def _refuse(problems: list[str], field: str | None = None) -> None:
    if problems:
        raise SchemaChangeError(" ".join(problems), field)


# -- transactions ---------------------------------------------------------------------------

_pauses = threading.local()  # per thread, as connections are


@contextmanager
def sqlite_foreign_keys_paused() -> Iterator[None]:
    """SQLite's schema editor needs foreign-key checks off, which SQLite only allows outside a
    transaction: callers that open their own transaction around schema changes (the admin,
    loadapp) enter this first. A no-op on PostgreSQL, whose DDL is transactional as it is."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    depth = getattr(_pauses, "depth", 0)
    _pauses.depth = depth + 1
    if depth == 0:
        connection.disable_constraint_checking()
    try:
        yield
    finally:
        _pauses.depth = depth
        if depth == 0:
            connection.enable_constraint_checking()


@contextmanager
def schema_change(application: Application):
    """One transaction for metadata, DDL and the new schema version; serialised per application."""
    with sqlite_foreign_keys_paused(), transaction.atomic():
        Application.objects.select_for_update().filter(pk=application.pk).exists()
        if connection.vendor == "postgresql":  # DDL is not bound by the data API's timeout
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = 0")
        try:
            with connection.schema_editor(atomic=False) as editor:
                yield editor
        except DatabaseError as error:
            raise SchemaChangeError(
                f"The database refused the change ({type(error).__name__}); nothing was changed."
            ) from error
        Application.objects.filter(pk=application.pk).update(
            schema_version=F("schema_version") + 1
        )
    if application.pk is not None:  # None when the change deleted the application
        application.refresh_from_db(fields=["schema_version"])


def _runtime_class(application: Application, data_model_id: int) -> type[RuntimeRecord]:
    return build_runtime_models(application).by_id[data_model_id]


# -- applications ---------------------------------------------------------------------------


def delete_application(application: Application) -> None:
    """Drop every table of the application, then its metadata."""
    with schema_change(application) as editor:
        built = build_runtime_models(application)
        for link in built.link_classes():
            editor.delete_model(link)
        for cls in built.by_id.values():
            editor.delete_model(cls)
        application.relations.all().delete()
        application.delete()


# -- models ---------------------------------------------------------------------------------


def model_name_problems_in(application: Application, name: str, data_model_id=None) -> list[str]:
    others = set(
        DataModel.objects.filter(application=application)
        .exclude(pk=data_model_id)
        .values_list("name", flat=True)
    )
    return model_name_problems(name, others)


def create_model(application: Application, name: str,
                 properties: Sequence[Property] = (), trash: bool = False) -> DataModel:
    """A new model and its table; `properties` (unsaved) come with it in the same change, the
    table made once with all their columns (a definition file's new model: one schema change,
    not one per property)."""
    _refuse(model_name_problems_in(application, name), "name")
    candidate, taken = DataModel(application=application, name=name), set()
    for prop in properties:
        prop.data_model = candidate
        _refuse_problems(property_problems(prop, taken=taken))
        taken.add(prop.name)
    with schema_change(application) as editor:
        data_model = DataModel.objects.create(application=application, name=name, trash=trash)
        for prop in properties:
            prop.data_model = data_model
        Property.objects.bulk_create(properties)
        editor.create_model(_runtime_class(application, data_model.pk))
    return data_model


def rename_model(data_model: DataModel, name: str) -> DataModel:
    if name == data_model.name:
        return data_model
    application = data_model.application
    _refuse(model_name_problems_in(application, name, data_model.pk), "name")
    with schema_change(application):
        data_model.name = name
        data_model.save(update_fields=["name", "updated_at"])
    return data_model


def delete_model_problems(data_model: DataModel) -> list[str]:
    others = (
        Relation.objects.filter(models.Q(source=data_model) | models.Q(target=data_model))
        .exclude(source=data_model, target=data_model)
        .select_related("source", "target")
    )
    if not others:
        return []
    listed = ", ".join(str(relation) for relation in others)
    return [f"{data_model.name} is related to other models ({listed}); delete those relations "
            "first."]


def delete_model(data_model: DataModel) -> None:
    _refuse(delete_model_problems(data_model))
    application = data_model.application
    with schema_change(application) as editor:
        built = build_runtime_models(application)
        for relation in data_model.relations_out.all():  # only self-relations are left
            _drop_relation_storage(editor, built, relation)
        editor.delete_model(built.by_id[data_model.pk])
        data_model.relations_out.all().delete()
        data_model.delete()


# -- trash ----------------------------------------------------------------------------------


def trash_problems(data_model: DataModel, on: bool) -> list[str]:
    """Turning a trash off while it holds records would delete them unseen: refused. A trash
    brings the field deletedAt: on, no field may have that name."""
    if on and not data_model.trash and data_model.pk is not None:
        if DELETED_AT in field_names_of(data_model):
            return [f"{data_model.name} has a field named {DELETED_AT}, the trash's: rename it "
                    "first."]
        return []
    if on or not data_model.trash or data_model.pk is None:
        return []
    cls = _runtime_class(data_model.application, data_model.pk)
    held = cls._base_manager.filter(deleted_at__isnull=False).count()
    if not held:
        return []
    return [f"The trash of {data_model.name} holds {held} record{'s' if held > 1 else ''}: "
            "restore or purge them before turning it off."]


def set_trash(data_model: DataModel, on: bool) -> DataModel:
    """Turn a model's trash on (its table gets deleted_at, its unique rules hold among the
    records not in the trash) or off (refused while it holds records)."""
    if data_model.trash == on:
        return data_model
    _refuse(trash_problems(data_model, on), "trash")
    application = data_model.application
    with schema_change(application) as editor:
        before = _runtime_class(application, data_model.pk)
        DataModel.objects.filter(pk=data_model.pk).update(trash=on)
        data_model.trash = on
        after = _runtime_class(application, data_model.pk)
        if connection.vendor == "sqlite":
            # SQLite alters a table by making it anew from the model: columns, unique rules
            # and indexes at once (what Django's own alterations do there)
            editor._remake_table(after, create_field=after._meta.get_field("deleted_at")
                                 if on else None)
        else:
            _switch_trash(editor, data_model, before, after, on)
        # The planner's statistics: SQLite's went with the old table, and PostgreSQL knows
        # nothing of a new column (it would take `deleted_at IS NULL` for a rare condition).
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(after._meta.db_table)}")
    return data_model


def _switch_trash(editor, data_model: DataModel, before: type[RuntimeRecord],
                  after: type[RuntimeRecord], on: bool) -> None:
    """PostgreSQL: the trash's column, partial index and conditional unique rules in place of
    the plain unique rules, or back (the unique rules of the records outside the trash are
    dropped only once the plain ones hold)."""
    if on:
        editor.add_field(after, after._meta.get_field("deleted_at"))
    else:
        _sync_trash_rules(editor, before, after)
    for prop in data_model.properties.filter(unique=True):
        editor.alter_field(after, before._meta.get_field(prop.attname),
                           after._meta.get_field(prop.attname))
    if on:
        _sync_trash_rules(editor, before, after)
    else:
        editor.remove_field(before, before._meta.get_field("deleted_at"))


def _existing_rules(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


def _sync_trash_rules(editor, before: type[RuntimeRecord], after: type[RuntimeRecord]) -> None:
    """Make the table's conditional unique rules and partial index (`runtime.trash_rules`)
    those of `after`: drop what only `before` has, add what is missing."""
    if not (before._meta.indexes or after._meta.indexes):  # no trash before or after
        return
    existing = _existing_rules(after._meta.db_table)
    wanted = {rule.name for rule in (*after._meta.constraints, *after._meta.indexes)}
    for rule in before._meta.constraints:
        if rule.name in existing and rule.name not in wanted:
            editor.remove_constraint(before, rule)
    for rule in before._meta.indexes:
        if rule.name in existing and rule.name not in wanted:
            editor.remove_index(before, rule)
    for rule in after._meta.constraints:
        if rule.name not in existing:
            editor.add_constraint(after, rule)
    for rule in after._meta.indexes:
        if rule.name not in existing:
            editor.add_index(after, rule)


def _drop_trash_rules(editor, cls: type[RuntimeRecord], attname: str) -> None:
    """Drop a column's conditional unique rule before the column is rewritten or removed."""
    if not any(attname in rule.fields for rule in cls._meta.constraints):
        return
    existing = _existing_rules(cls._meta.db_table)
    for rule in cls._meta.constraints:
        if attname in rule.fields and rule.name in existing:
            editor.remove_constraint(cls, rule)


# -- properties -----------------------------------------------------------------------------


def field_names_of(data_model: DataModel, exclude: object = None) -> set[str]:
    """Names taken on a model: its properties and its sides of relations (`exclude` skipped)."""
    skipped_property = exclude.pk if isinstance(exclude, Property) else None
    skipped_relation = exclude.pk if isinstance(exclude, Relation) else None
    names = set(
        Property.objects.filter(data_model=data_model)
        .exclude(pk=skipped_property)
        .values_list("name", flat=True)
    )
    relations = Relation.objects.filter(models.Q(source=data_model) | models.Q(target=data_model))
    for relation in relations.exclude(pk=skipped_relation):
        if relation.source_id == data_model.pk:
            names.add(relation.source_field)
        if relation.target_id == data_model.pk:
            names.add(relation.target_field)
    if data_model.trash:
        names.add(DELETED_AT)
    return names


def property_problems(prop: Property, previous: Property | None = None,
                      taken: set[str] | None = None) -> dict[str, list[str]]:
    """Everything wrong with adding `prop`, or changing `previous` into `prop`, by form field
    (`taken`: the model's names, for a model not saved yet)."""
    problems: dict[str, list[str]] = {}

    def add(field: str, found: list[str]) -> None:
        if found:
            problems.setdefault(field, []).extend(found)

    data_model = prop.data_model
    add("name", field_name_problems(
        prop.name, data_model.name,
        field_names_of(data_model, exclude=previous) if taken is None else taken))
    kind = KINDS.get(prop.kind)
    if kind is None:
        add("kind", [f"Unknown kind {prop.kind!r}; choose one of: {', '.join(KINDS)}."])
        return problems
    add("__all__", kind.check_settings(prop))
    if prop.required and prop.kind == "auto_number":
        add("required", ["An auto number is assigned by the database; it cannot be required."])
    if problems or data_model.pk is None:
        return problems

    cls = _runtime_class(data_model.application, data_model.pk)
    rows = cls.objects.count()
    if previous is None:
        if prop.required and rows and prop.default is None:
            add("default", [f"{data_model.name} has {rows} records: a required property needs a "
                            "default to give them."])
        if prop.unique and rows > 1 and prop.default is not None:
            add("unique", ["A unique property cannot give every existing record the same "
                           "default; add it without default or without unique."])
        return problems

    if previous.kind != prop.kind:
        add("kind", _kind_change_problems(cls, previous, prop))
    attname = previous.attname
    if prop.required and not previous.required and prop.default is None:
        empty = cls.objects.filter(**{f"{attname}__isnull": True}).count()
        if empty:
            add("default", [f"{empty} of {rows} {data_model.name} records have no {previous.name}: "
                            "give a default to fill them, or fill them first."])
    if prop.unique and not previous.unique:
        duplicated = (
            cls.objects.exclude(**{f"{attname}__isnull": True})
            .values(attname)
            .annotate(n=Count("id"))
            .filter(n__gt=1)
        )
        count = duplicated.count()
        if count:
            examples = [str(row[attname]) for row in duplicated[:EXAMPLES_SHOWN]]
            add("unique", [f"{count} values of {previous.name} occur more than once (e.g. "
                           f"{', '.join(map(repr, examples))}); make them distinct first."])
    return problems


def _kind_change_problems(cls, previous: Property, prop: Property) -> list[str]:
    source, target = KINDS[previous.kind], KINDS[prop.kind]
    if previous.kind not in target.converts_from:
        return [f"A {source.label} property cannot become a {target.label} property; add a new "
                "property instead and copy the values."]
    _, failures, examples = _convert_rows(cls, previous, prop)
    return _unconvertible(previous, prop, failures, examples)


def _unconvertible(previous: Property, prop: Property, failures: int, examples: list) -> list:
    if not failures:
        return []
    shown = ", ".join(repr(value) for value in examples)
    return [f"{failures} records have a {previous.name} that cannot be converted to "
            f"{KINDS[prop.kind].label} (e.g. {shown}); fix or clear those values first. Nothing "
            "was changed."]


def _convert_rows(cls, previous: Property, prop: Property):
    """(converted (id, value) pairs, number of failures, a few failing values)."""
    source, target = KINDS[previous.kind], KINDS[prop.kind]
    target_field = target.model_field(prop)
    converted, failures, examples = [], 0, []
    rows = cls.objects.values_list("id", previous.attname).order_by()
    for pk, value in rows.iterator(chunk_size=2000):
        try:
            new_value = convert_value(value, source, target)
            if new_value is not None:
                target_field.clean(new_value, None)
        except Exception:  # any refusal of a value counts as one that cannot convert
            failures += 1
            if len(examples) < EXAMPLES_SHOWN:
                examples.append(value)
            continue
        converted.append((pk, new_value))
    return converted, failures, examples


def add_property(data_model: DataModel, name: str, kind: str = "text", **settings) -> Property:
    position = settings.pop("position", None)
    if position is None:
        position = Property.objects.filter(data_model=data_model).count()
    prop = Property(data_model=data_model, name=name, kind=kind, position=position, **settings)
    _refuse_problems(property_problems(prop))
    application = data_model.application
    with schema_change(application) as editor:
        before = _runtime_class(application, data_model.pk)
        prop.save()
        cls = _runtime_class(application, data_model.pk)
        editor.add_field(cls, cls._meta.get_field(prop.attname))
        _sync_trash_rules(editor, before, cls)
        if kind == "auto_number":
            _number_existing_rows(cls, prop.attname)
    return prop


def _refuse_problems(problems: dict[str, list[str]]) -> None:
    for field, messages in problems.items():
        _refuse(messages, None if field == "__all__" else field)


def _number_existing_rows(cls, attname: str) -> None:
    table = connection.ops.quote_name(cls._meta.db_table)
    column = connection.ops.quote_name(attname)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = numbered.n FROM "
            f"(SELECT id, row_number() OVER (ORDER BY id) AS n FROM {table}) AS numbered "
            f"WHERE {table}.id = numbered.id"
        )


EDITABLE = ("name", "kind", "required", "unique", "default", "min_value", "max_value",
            "min_length", "max_length", "pattern", "enum_values", "decimal_places", "position")


def alter_property(prop: Property, **changes) -> Property:
    """Rename and/or change kind, required, unique, default and validations of a property."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise SchemaChangeError(f"Unknown property settings: {', '.join(sorted(unknown))}.")
    previous = Property.objects.select_related("data_model__application").get(pk=prop.pk)
    updated = copy.copy(previous)
    for key, value in changes.items():
        setattr(updated, key, value)
    _refuse_problems(property_problems(updated, previous))
    application = previous.data_model.application
    with schema_change(application) as editor:
        before = _runtime_class(application, previous.data_model_id)
        if previous.kind != updated.kind:
            _hold_off_writers(before)
        _drop_trash_rules(editor, before, previous.attname)  # put back after, as they are then
        updated.save()
        after = _runtime_class(application, previous.data_model_id)
        old_field = before._meta.get_field(previous.attname)
        new_field = after._meta.get_field(updated.attname)
        if _storage_differs(old_field, new_field) and previous.kind != updated.kind:
            _rewrite_column(editor, before, after, previous, updated)
        else:
            if previous.kind != updated.kind:
                _refuse(_kind_change_problems(before, previous, updated), "kind")
            if updated.required and not previous.required and updated.default is not None:
                after.objects.filter(**{f"{updated.attname}__isnull": True}).update(
                    **{updated.attname: new_field.default}
                )
            editor.alter_field(before, old_field, new_field)
        _sync_trash_rules(editor, before, after)
    prop.__dict__.update(updated.__dict__)
    return prop


def _hold_off_writers(cls) -> None:
    """Until the transaction ends, no one else writes to the table: a kind change reads every
    value and then replaces the column, and a row written in between would lose its value.
    ACCESS EXCLUSIVE, the ALTER's own lock, taken up front rather than upgraded to later (an
    upgrade can deadlock with a reader that then writes). SQLite's write lock is already held:
    its transactions begin IMMEDIATE (settings)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(cls._meta.db_table)} "
                           "IN ACCESS EXCLUSIVE MODE")


def _storage_differs(old_field: models.Field, new_field: models.Field) -> bool:
    return type(old_field) is not type(new_field) or old_field.db_type(
        connection) != new_field.db_type(connection)


def _rewrite_column(editor, before, after, previous: Property, updated: Property) -> None:
    """Kind change with new storage: convert every value in Python, drop the old column, add the
    new one, write the values back. All inside the schema change's transaction."""
    converted, failures, examples = _convert_rows(before, previous, updated)
    _refuse(_unconvertible(previous, updated, failures, examples), "kind")
    editor.remove_field(before, before._meta.get_field(previous.attname))
    final = after._meta.get_field(updated.attname)
    # First nullable, not unique and without default: required and unique follow once filled.
    _, _, args, kwargs = final.deconstruct()
    kwargs.update(null=True, unique=False)
    kwargs.pop("default", None)
    staging = type(final)(*args, **kwargs)
    staging.set_attributes_from_name(final.name)
    staging.model = after
    editor.add_field(after, staging)
    table = connection.ops.quote_name(after._meta.db_table)
    column = connection.ops.quote_name(final.column)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {column} = %s WHERE id = %s",
            [(staging.get_db_prep_save(value, connection), pk) for pk, value in converted
             if value is not None],
        )
    if updated.required and updated.default is not None:
        after.objects.filter(**{f"{final.attname}__isnull": True}).update(
            **{final.attname: final.default}
        )
    editor.alter_field(after, staging, final)


def delete_property(prop: Property) -> None:
    application = prop.data_model.application
    with schema_change(application) as editor:
        cls = _runtime_class(application, prop.data_model_id)
        _drop_trash_rules(editor, cls, prop.attname)
        editor.remove_field(cls, cls._meta.get_field(prop.attname))
        prop.delete()


# -- relations ------------------------------------------------------------------------------


def relation_problems(relation: Relation, previous: Relation | None = None) -> dict[str, list]:
    problems: dict[str, list[str]] = {}
    source, target = relation.source, relation.target
    if source.application_id != target.application_id:
        problems["target"] = [
            f"{target} belongs to another application; relations stay within one application."
        ]
        return problems
    if relation.kind not in Relation.Kind.values:
        problems["kind"] = [f"Unknown relation kind {relation.kind!r}."]
    if relation.on_delete not in Relation.OnDelete.values:
        problems["on_delete"] = [f"Unknown on-delete behaviour {relation.on_delete!r}."]
    if previous is not None and (previous.kind, previous.source_id, previous.target_id) != (
            relation.kind, relation.source_id, relation.target_id):
        problems["kind"] = ["A relation's kind and models cannot change; delete it and add a "
                            "new one."]
    source_problems = field_name_problems(
        relation.source_field, source.name, field_names_of(source, exclude=previous))
    if source_problems:
        problems["source_field"] = source_problems
    target_names = field_names_of(target, exclude=previous)
    if source.pk == target.pk:
        target_names.add(relation.source_field)
    target_problems = field_name_problems(relation.target_field, target.name, target_names)
    if target_problems:
        problems["target_field"] = target_problems
    return problems


def add_relation(
    source: DataModel,
    source_field: str,
    target: DataModel,
    target_field: str,
    kind: str = Relation.Kind.BELONGS_TO,
    on_delete: str = Relation.OnDelete.NULLIFY,
) -> Relation:
    """Add a relation; `has_many` is accepted and stored as the inverse belongs-to."""
    if kind == "has_many":
        source, source_field, target, target_field = target, target_field, source, source_field
        kind = Relation.Kind.BELONGS_TO
    relation = Relation(application_id=source.application_id, kind=kind, source=source,
                        source_field=source_field, target=target, target_field=target_field,
                        on_delete=on_delete)
    _refuse_problems(relation_problems(relation))
    application = source.application
    with schema_change(application) as editor:
        relation.save()
        built = build_runtime_models(application)
        if kind == Relation.Kind.BELONGS_TO:
            cls = built.by_id[source.pk]
            editor.add_field(cls, cls._meta.get_field(relation.attname))
        else:
            editor.create_model(built.link_class(relation.pk))
    return relation


def update_relation(relation: Relation, **changes) -> Relation:
    """Rename either field or change on-delete behaviour: metadata only."""
    previous = Relation.objects.select_related("source", "target").get(pk=relation.pk)
    updated = copy.copy(previous)
    for key, value in changes.items():
        setattr(updated, key, value)
    _refuse_problems(relation_problems(updated, previous))
    with schema_change(previous.source.application):
        updated.save()
    relation.__dict__.update(updated.__dict__)
    return relation


def delete_relation(relation: Relation) -> None:
    application = relation.application
    with schema_change(application) as editor:
        _drop_relation_storage(editor, build_runtime_models(application), relation)
        relation.delete()


def _drop_relation_storage(editor, built, relation: Relation) -> None:
    if relation.kind == Relation.Kind.BELONGS_TO:
        cls = built.by_id[relation.source_id]
        editor.remove_field(cls, cls._meta.get_field(relation.attname))
    else:
        editor.delete_model(built.link_class(relation.pk))
