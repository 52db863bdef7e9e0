"""Load a checked definition document: create or update its application, in one transaction,
through the same schema-change functions the admin uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import connection, transaction
from django.dispatch import Signal

from .. import changes
from ..events import CREATE, LOADER, UPDATE, ChangeBatch, note_links
from ..files import store_file
from ..kinds import KINDS
from ..models import Application, DataModel, Property, Relation
from ..runtime import build_runtime_models
from .check import check_definition
from .document import PROPERTY_SETTINGS, SECTIONS, DefinitionError, LoadReport, property_from

# Sent when a file has loaded (application=, report=: what it created and changed), in its
# transaction: the audit log records it without this package knowing of it.
definition_loaded = Signal()


def load_definition(
    document: Any, with_data: bool = False, files_dir: Path | None = None
) -> LoadReport:
    """Check `document` whole, then create or update its application in one transaction."""
    problems = check_definition(document, with_data, files_dir)
    if problems:
        raise DefinitionError(problems)
    with changes.sqlite_foreign_keys_paused(), transaction.atomic():
        try:
            report = _apply_schema(document)
            for section in SECTIONS:
                if section.key in document:
                    section.apply(report.application, document[section.key], report)
            if with_data and document.get("data"):
                report.records = _apply_records(report.application, document["data"], files_dir)
            # in the load's transaction: a load that fails is not recorded as done
            definition_loaded.send_robust(None, application=report.application, report=report)
        except changes.SchemaChangeError as error:
            raise DefinitionError([error.message]) from error
    return report


# The application's settings a file may give (its key: the model's field); left out, a new
# application takes the field's default and a loaded one keeps its own.
APPLICATION_SETTINGS = {"playground": "playground_enabled",
                        "eventRetentionHours": "event_retention_hours",
                        "webhookPrivateTargets": "webhook_private_targets",
                        "trashHours": "trash_hours"}


def _apply_schema(document: dict) -> LoadReport:
    app_doc = document["application"]
    settings = {field: app_doc[key] for key, field in APPLICATION_SETTINGS.items()
                if key in app_doc}
    application, created = Application.objects.get_or_create(
        slug=app_doc["slug"],
        defaults={"name": app_doc.get("name") or app_doc["slug"],
                  "environment": app_doc.get("environment", "production"),
                  # left out: the environment decides (Application.save)
                  "introspection_enabled": app_doc.get("introspection"), **settings},
    )
    report = LoadReport(application)
    if created:
        report.created.append(f"application {application.slug}")
    else:
        wanted = {"name": app_doc.get("name") or application.name,
                  "environment": app_doc.get("environment", application.environment),
                  "introspection_enabled": app_doc.get("introspection",
                                                       application.introspection_enabled),
                  **settings}
        if any(getattr(application, k) != v for k, v in wanted.items()):
            Application.objects.filter(pk=application.pk).update(**wanted)
            application.refresh_from_db()
            report.changed.append(f"application {application.slug}")

    existing = {dm.name: dm for dm in application.data_models.all()}
    in_file = set()
    for model_doc in document["models"]:
        name = model_doc["name"]
        in_file.add(name)
        data_model = existing.get(name)
        if data_model is None:
            properties = [property_from(prop_doc) for prop_doc in model_doc.get("properties", [])]
            for position, prop in enumerate(properties):
                prop.position = position
            changes.create_model(application, name, properties,
                                 trash=model_doc.get("trash", False))
            report.created.append(f"model {name}")
            report.created.extend(f"property {name}.{prop.name}" for prop in properties)
            continue
        trash = model_doc.get("trash", False)
        if not trash and data_model.trash:  # first: a property may take deletedAt then
            _set_trash(data_model, trash, report)
        _apply_properties(data_model, model_doc.get("properties", []), report)
        if trash and not data_model.trash:  # last: once the file's properties are in place
            _set_trash(data_model, trash, report)
    report.not_in_file.extend(f"model {n}" for n in existing if n not in in_file)
    models = {dm.name: dm for dm in application.data_models.all()}  # read once, for all
    for relation_doc in document.get("relations", []):
        _apply_relation(models, relation_doc, report)
    return report


def _set_trash(data_model: DataModel, on: bool, report: LoadReport) -> None:
    changes.set_trash(data_model, on)
    report.changed.append(f"model {data_model.name} (trash {'on' if on else 'off'})")


def _apply_properties(data_model: DataModel, properties: list[dict], report: LoadReport) -> None:
    existing = {p.name: p for p in data_model.properties.all()}
    for position, prop_doc in enumerate(properties):
        wanted = property_from(prop_doc, data_model)
        settings = {attr: getattr(wanted, attr) for attr in PROPERTY_SETTINGS.values()}
        settings["position"] = position
        current = existing.pop(wanted.name, None)
        place = f"property {data_model.name}.{wanted.name}"
        if current is None:
            changes.add_property(data_model, wanted.name, wanted.kind, **settings)
            report.created.append(place)
            continue
        differing = {
            attr: value
            for attr, value in {"kind": wanted.kind, **settings}.items()
            if getattr(current, attr) != value
        }
        if differing:
            changes.alter_property(current, **differing)
            report.changed.append(f"{place} ({', '.join(sorted(differing))})")
    report.not_in_file.extend(f"property {data_model.name}.{name}" for name in existing)


def _apply_relation(models: dict[str, DataModel], doc: dict, report: LoadReport) -> None:
    source, field_name, target, inverse = doc["from"], doc["field"], doc["to"], doc["inverse"]
    kind = doc["kind"]
    if kind == "has_many":
        source, field_name, target, inverse = target, inverse, source, field_name
        kind = Relation.Kind.BELONGS_TO
    on_delete = doc.get("onDelete", Relation.OnDelete.NULLIFY)
    current = Relation.objects.filter(source=models[source], source_field=field_name).first()
    place = f"relation {source}.{field_name}"
    if current is None:
        changes.add_relation(models[source], field_name, models[target], inverse, kind, on_delete)
        report.created.append(place)
    elif (current.kind, current.target_id) != (kind, models[target].pk):
        raise changes.SchemaChangeError(
            f"{place} exists with another kind or target; delete it in the admin first."
        )
    elif (current.target_field, current.on_delete) != (inverse, on_delete):
        changes.update_relation(current, target_field=inverse, on_delete=on_delete)
        report.changed.append(place)


def _apply_records(application: Application, data: dict, files_dir: Path | None) -> int:
    """Create or update records by id (unchanged ones are left alone); relations are set once
    every record exists, since records may point at records later in the file. What is written
    is recorded as change events (actor "loader"), like any other write of records."""
    built = build_runtime_models(application)
    written = 0
    loaded: list[tuple[Any, dict]] = []
    events = ChangeBatch()
    for model_name, rows in data.items():
        cls = built.by_name[model_name]
        spec = cls._mortar
        for row in rows:
            record = cls.objects.filter(pk=row["id"]).first() or cls(pk=row["id"])
            before = {p.attname: getattr(record, p.attname) for p in spec.properties.values()}
            for key, value in row.items():
                if key in spec.properties:
                    prop = spec.properties[key]
                    current = before[prop.attname]
                    setattr(record, prop.attname, _stored_value(prop, value, current, files_dir))
            after = {p.attname: getattr(record, p.attname) for p in spec.properties.values()}
            loaded.append((record, row))
            if not record._state.adding and before == after:
                continue
            try:
                record.full_clean(exclude=[spec.attname(name) for name in spec.ends])
            except ValidationError as error:
                raise DefinitionError([
                    f"data.{model_name} id {row['id']}: {_user_name(spec, k)}: {' '.join(m)}"
                    for k, m in error.message_dict.items()
                ]) from error
            adding = record._state.adding
            record.save()
            written += 1
            events.add(cls, [record.pk], CREATE if adding else UPDATE,
                       [name for name, prop in spec.properties.items()
                        if name in row and (adding or before[prop.attname] != after[prop.attname])])
    for record, row in loaded:
        written += _apply_links(record, row, events)
    _reset_id_sequences(list(built.by_id.values()))
    events.flush(application.pk, LOADER)
    return written


def _apply_links(record, row: dict, events: ChangeBatch) -> int:
    """Set the record's belongs-to and has-and-belongs-to-many fields given in `row`."""
    spec = record._mortar
    changed = 0
    for key, value in row.items():
        if key not in spec.ends:
            continue
        end = spec.ends[key]
        relation = end.relation  # the file check allows only the owning side
        if relation.kind == Relation.Kind.BELONGS_TO:
            if getattr(record, f"{relation.attname}_id") != value:
                setattr(record, f"{relation.attname}_id", value)
                record.save(update_fields=[relation.attname])
                events.add(type(record), [record.pk], UPDATE, [key])
                changed += 1
        else:
            linked = getattr(record, spec.attname(key))
            before = set(linked.values_list("pk", flat=True))
            if before != set(value):
                linked.set(value)
                events.add(type(record), [record.pk], UPDATE, [key])
                note_links(events, end, before, set(value))
                changed += 1
    return changed


def _user_name(spec, attname: str) -> str:
    for name, prop in spec.properties.items():
        if prop.attname == attname:
            return name
    return attname


def _stored_value(prop: Property, value: Any, current: Any, files_dir: Path | None) -> Any:
    if value is None:
        return None
    if isinstance(value, dict) and "file" in value and prop.kind in {"file", "image"}:
        path = (files_dir or Path(".")) / value["file"]
        if current and current.get("name") == path.name and current.get("size") == (
                path.stat().st_size):
            return current  # loaded before: keep the stored copy
        with path.open("rb") as content:
            value = store_file(path.name, content)
    if prop.kind == "password" and current and _same_password(value, current):
        return current
    return KINDS[prop.kind].parse(value)


def _same_password(plain_or_hash: str, current_hash: str) -> bool:
    return plain_or_hash == current_hash or check_password(plain_or_hash, current_hash)


def _reset_id_sequences(classes: list) -> None:
    """Records were written with explicit ids: move PostgreSQL's id sequences past them."""
    statements = connection.ops.sequence_reset_sql(no_style(), classes)
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
