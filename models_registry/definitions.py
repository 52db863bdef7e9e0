"""Application definitions as JSON files: export an application, load (create or update) one.

The file is the application's desired shape. `load_definition` checks the whole document first
and reports every problem with its place in the file; only then does it apply the changes, all
in one transaction, through the same schema-change functions the admin uses. Loading the same
file twice changes nothing the second time.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import connection, transaction

from . import changes
from .files import store_file
from .kinds import KINDS
from .models import Application, DataModel, Property, Relation
from .names import field_name_problems, model_name_problems
from .runtime import build_runtime_models

FORMAT = 1
# JSON key -> Property attribute, for the settings that are not always present.
PROPERTY_SETTINGS = {
    "required": "required",
    "unique": "unique",
    "default": "default",
    "minValue": "min_value",
    "maxValue": "max_value",
    "minLength": "min_length",
    "maxLength": "max_length",
    "pattern": "pattern",
    "enumValues": "enum_values",
    "decimalPlaces": "decimal_places",
}
RELATION_KINDS = {"belongs_to", "has_many", "has_and_belongs_to_many"}


@dataclass
class Section:
    """A top-level part of definition files that another app owns (identity's `authProfiles`),
    registered from its AppConfig.ready(): this module knows nothing of what it holds."""

    key: str
    export: Callable[[Application], Any]  # the value to write, or None to leave it out
    check: Callable[[Any, dict], list[str]]  # problems of the value, given the whole document
    apply: Callable[[Application, Any, LoadReport], None]  # after models and relations


SECTIONS: list[Section] = []


def register_section(section: Section) -> None:
    SECTIONS[:] = [s for s in SECTIONS if s.key != section.key] + [section]


class DefinitionError(Exception):
    """A definition that cannot be loaded; `problems` lists each one with its place."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


# -- export ---------------------------------------------------------------------------------


def export_definition(application: Application, with_data: bool = False) -> dict:
    data_models = list(application.data_models.order_by("id").prefetch_related("properties"))
    document: dict[str, Any] = {
        "mortar": FORMAT,
        "application": {
            "slug": application.slug,
            "name": application.name,
            "environment": application.environment,
        },
        "models": [
            {"name": dm.name, "properties": [_export_property(p) for p in dm.properties.all()]}
            for dm in data_models
        ],
        "relations": [
            {
                "kind": relation.kind,
                "from": relation.source.name,
                "field": relation.source_field,
                "to": relation.target.name,
                "inverse": relation.target_field,
                "onDelete": relation.on_delete,
            }
            for relation in application.relations.order_by("id").select_related("source", "target")
        ],
    }
    for section in SECTIONS:
        value = section.export(application)
        if value:
            document[section.key] = value
    if with_data:
        document["data"] = _export_records(application)
    return document


def _export_property(prop: Property) -> dict:
    exported: dict[str, Any] = {"name": prop.name, "kind": prop.kind}
    blank = Property()
    for key, attribute in PROPERTY_SETTINGS.items():
        value = getattr(prop, attribute)
        if value != getattr(blank, attribute):
            exported[key] = str(value.normalize()) if isinstance(value, decimal.Decimal) else value
    return exported


def _export_records(application: Application) -> dict[str, list[dict]]:
    built = build_runtime_models(application)
    exported = {}
    for cls in built.by_id.values():
        spec = cls._mortar
        sources = {
            name: end.relation for name, end in spec.ends.items() if end.side == "source"
        }
        records = cls.objects.order_by("id").prefetch_related(
            *[spec.attname(name) for name, r in sources.items() if r.kind != "belongs_to"]
        )
        rows = []
        for record in records:
            row: dict[str, Any] = {"id": record.pk}
            for name, prop in spec.properties.items():
                value = getattr(record, prop.attname)
                if value is not None:
                    row[name] = KINDS[prop.kind].to_json(value)
            for name, relation in sources.items():
                if relation.kind == Relation.Kind.BELONGS_TO:
                    row[name] = getattr(record, f"{relation.attname}_id")
                else:
                    row[name] = [linked.pk for linked in getattr(record, spec.attname(name)).all()]
            rows.append(row)
        exported[spec.name] = rows
    return exported


# -- load -----------------------------------------------------------------------------------


@dataclass
class LoadReport:
    application: Application
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    records: int = 0
    not_in_file: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not (self.created or self.changed or self.records)


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
        except changes.SchemaChangeError as error:
            raise DefinitionError([error.message]) from error
    return report


def check_definition(document: Any, with_data: bool = False, files_dir: Path | None = None):
    """Every problem of a definition document, each with its place; empty when it can load."""
    problems: list[str] = []
    if not isinstance(document, dict):
        return ["The file must hold a JSON object with application, models and relations."]
    if document.get("mortar") != FORMAT:
        problems.append(f'mortar: expected {FORMAT} (the definition format version), e.g. '
                        f'"mortar": {FORMAT}.')
    app = document.get("application")
    if not isinstance(app, dict) or not isinstance(app.get("slug"), str):
        problems.append('application: expected {"slug": ..., "name": ...}.')
    else:
        candidate = Application(slug=app["slug"], name=app.get("name") or app["slug"],
                                environment=app.get("environment", "production"))
        try:
            candidate.clean_fields(exclude=["schema_version"])
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                problems.extend(f"application.{name}: {m}" for m in messages)
    models_doc = document.get("models")
    if not isinstance(models_doc, list):
        return [*problems, "models: expected a list of models."]
    fields_of: dict[str, set[str]] = {}
    for index, model in enumerate(models_doc):
        problems.extend(_check_model(index, model, fields_of))
    relations = document.get("relations", [])
    if not isinstance(relations, list):
        return [*problems, "relations: expected a list."]
    relation_fields: dict[str, dict[str, str]] = {name: {} for name in fields_of}
    for index, relation in enumerate(relations):
        problems.extend(_check_relation(index, relation, fields_of, relation_fields))
    if with_data and "data" in document:
        problems.extend(_check_data(document["data"], models_doc, relation_fields, files_dir))
    for section in SECTIONS:
        if section.key in document:
            problems.extend(section.check(document[section.key], document))
    return problems


def _check_model(index: int, model: Any, fields_of: dict[str, set[str]]) -> list[str]:
    where = f"models[{index}]"
    if not isinstance(model, dict) or not isinstance(model.get("name"), str):
        return [f'{where}: expected {{"name": "Task", "properties": [...]}}.']
    name = model["name"]
    problems = [f"{where} ({name}): {p}" for p in model_name_problems(name, set(fields_of))]
    fields_of[name] = set()
    properties = model.get("properties", [])
    if not isinstance(properties, list):
        return [*problems, f"{where}.properties: expected a list."]
    for p_index, prop in enumerate(properties):
        place = f"{where}.properties[{p_index}]"
        if not isinstance(prop, dict) or not isinstance(prop.get("name"), str):
            problems.append(f'{place}: expected {{"name": ..., "kind": ...}}.')
            continue
        place = f"{place} ({name}.{prop['name']})"
        problems.extend(
            f"{place}: {p}" for p in field_name_problems(prop["name"], name, fields_of[name])
        )
        fields_of[name].add(prop["name"])
        unknown = set(prop) - {"name", "kind", *PROPERTY_SETTINGS}
        if unknown:
            problems.append(f"{place}: unknown keys {sorted(unknown)}; known are name, kind, "
                            f"{', '.join(PROPERTY_SETTINGS)}.")
            continue
        kind = KINDS.get(prop.get("kind", "text"))
        if kind is None:
            problems.append(f"{place}: unknown kind {prop.get('kind')!r}; choose one of "
                            f"{', '.join(KINDS)}.")
            continue
        try:
            candidate = _property_from(prop)
        except (TypeError, ValueError, decimal.InvalidOperation) as error:
            problems.append(f"{place}: {error}")
            continue
        problems.extend(f"{place}: {p}" for p in kind.check_settings(candidate))
    return problems


def _property_from(prop: dict, data_model: DataModel | None = None) -> Property:
    candidate = Property(data_model=data_model, name=prop["name"], kind=prop.get("kind", "text"))
    for key, attribute in PROPERTY_SETTINGS.items():
        if key in prop:
            setattr(candidate, attribute, prop[key])
    for attribute in ("min_value", "max_value"):
        value = getattr(candidate, attribute)
        if value is not None:
            setattr(candidate, attribute, decimal.Decimal(str(value)))
    for attribute in ("required", "unique"):
        if not isinstance(getattr(candidate, attribute), bool):
            raise TypeError(f"{attribute} must be true or false")
    return candidate


def _check_relation(index, relation, fields_of, relation_fields) -> list[str]:
    where = f"relations[{index}]"
    keys = ("kind", "from", "field", "to", "inverse")
    if not isinstance(relation, dict) or not all(isinstance(relation.get(k), str) for k in keys):
        return [f'{where}: expected {{"kind", "from", "field", "to", "inverse"}} strings.']
    kind, source, target = relation["kind"], relation["from"], relation["to"]
    where = f"{where} ({source}.{relation['field']})"
    if kind not in RELATION_KINDS:
        return [f"{where}: unknown kind {kind!r}; use one of {', '.join(sorted(RELATION_KINDS))}."]
    on_delete = relation.get("onDelete", "nullify")
    if on_delete not in Relation.OnDelete.values:
        return [f"{where}: onDelete must be one of {', '.join(Relation.OnDelete.values)}."]
    problems = [
        f"{where}: there is no model {name!r} in this file."
        for name in (source, target)
        if name not in fields_of
    ]
    if problems:
        return problems
    for model, name in ((source, relation["field"]), (target, relation["inverse"])):
        problems.extend(f"{where}: {p}" for p in field_name_problems(name, model, fields_of[model]))
        fields_of[model].add(name)
    if kind == "has_many":
        source, target = target, source
    relation_fields[source][relation["inverse" if kind == "has_many" else "field"]] = (
        "one" if kind != "has_and_belongs_to_many" else "many"
    )
    return problems


def _check_data(data, models_doc, relation_fields, files_dir) -> list[str]:
    if not isinstance(data, dict):
        return ["data: expected an object of model name -> list of records."]
    properties = {
        m["name"]: {p["name"]: p for p in m.get("properties", [])} for m in models_doc
    }
    problems = []
    for model_name, records in data.items():
        if model_name not in properties:
            problems.append(f"data.{model_name}: there is no model {model_name!r} in this file.")
            continue
        if not isinstance(records, list):
            problems.append(f"data.{model_name}: expected a list of records.")
            continue
        for index, record in enumerate(records):
            place = f"data.{model_name}[{index}]"
            if not isinstance(record, dict) or not isinstance(record.get("id"), int):
                problems.append(f"{place}: each record needs an integer id.")
                continue
            for key, value in record.items():
                if key == "id" or value is None:
                    continue
                if key in relation_fields[model_name]:
                    expected = relation_fields[model_name][key]
                    ok = isinstance(value, int) if expected == "one" else (
                        isinstance(value, list) and all(isinstance(v, int) for v in value))
                    if not ok:
                        problems.append(f"{place}.{key}: expected "
                                        f"{'an id' if expected == 'one' else 'a list of ids'}.")
                    continue
                prop = properties[model_name].get(key)
                if prop is None:
                    problems.append(f"{place}: {model_name} has no field {key!r}.")
                    continue
                problem = _value_problem(prop, value, files_dir)
                if problem:
                    problems.append(f"{place}.{key}: {problem}")
    return problems


def _value_problem(prop: dict, value: Any, files_dir: Path | None) -> str | None:
    kind = KINDS[prop.get("kind", "text")]
    if isinstance(value, dict) and "file" in value and prop.get("kind") in {"file", "image"}:
        path = (files_dir or Path(".")) / str(value["file"])
        return None if path.is_file() else f"file {str(path)!r} does not exist."
    try:
        kind.parse(value)
    except (ValueError, TypeError, ValidationError) as error:
        return f"not a valid {kind.label}: {error}"
    return None


def _apply_schema(document: dict) -> LoadReport:
    app_doc = document["application"]
    application, created = Application.objects.get_or_create(
        slug=app_doc["slug"],
        defaults={"name": app_doc.get("name") or app_doc["slug"],
                  "environment": app_doc.get("environment", "production")},
    )
    report = LoadReport(application)
    if created:
        report.created.append(f"application {application.slug}")
    else:
        wanted = {"name": app_doc.get("name") or application.name,
                  "environment": app_doc.get("environment", application.environment)}
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
            data_model = changes.create_model(application, name)
            report.created.append(f"model {name}")
        _apply_properties(data_model, model_doc.get("properties", []), report)
    report.not_in_file.extend(f"model {n}" for n in existing if n not in in_file)
    models = {dm.name: dm for dm in application.data_models.all()}  # read once, for all
    for relation_doc in document.get("relations", []):
        _apply_relation(models, relation_doc, report)
    return report


def _apply_properties(data_model: DataModel, properties: list[dict], report: LoadReport) -> None:
    existing = {p.name: p for p in data_model.properties.all()}
    for position, prop_doc in enumerate(properties):
        wanted = _property_from(prop_doc, data_model)
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
    every record exists, since records may point at records later in the file."""
    built = build_runtime_models(application)
    written = 0
    loaded: list[tuple[Any, dict]] = []
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
            record.save()
            written += 1
    for record, row in loaded:
        written += _apply_links(record, row)
    _reset_id_sequences(list(built.by_id.values()))
    return written


def _apply_links(record, row: dict) -> int:
    """Set the record's belongs-to and has-and-belongs-to-many fields given in `row`."""
    spec = record._mortar
    changed = 0
    for key, value in row.items():
        if key not in spec.ends:
            continue
        relation = spec.ends[key].relation  # the file check allows only the owning side
        if relation.kind == Relation.Kind.BELONGS_TO:
            if getattr(record, f"{relation.attname}_id") != value:
                setattr(record, f"{relation.attname}_id", value)
                record.save(update_fields=[relation.attname])
                changed += 1
        else:
            linked = getattr(record, spec.attname(key))
            if set(linked.values_list("pk", flat=True)) != set(value):
                linked.set(value)
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
            value = store_file(path.name, content, value.get("contentType"))
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
