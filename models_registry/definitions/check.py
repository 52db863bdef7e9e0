"""Check a definition document whole: every problem, each with its place in the file."""

from __future__ import annotations

import decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError

from ..kinds import KINDS
from ..models import Application, Relation
from ..names import field_name_problems, model_name_problems
from ..specs import DELETED_AT
from .document import FORMAT, PROPERTY_SETTINGS, RELATION_KINDS, SECTIONS, property_from


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
            candidate.clean_fields(exclude=["schema_version", "introspection_enabled"])
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                problems.extend(f"application.{name}: {m}" for m in messages)
        if not isinstance(app.get("introspection", False), bool):
            problems.append("application.introspection: expected true or false (left out: on "
                            "for a new sandbox application, off for a new production one).")
        if not isinstance(app.get("playground", False), bool):
            problems.append("application.playground: expected true or false (GraphiQL for "
                            "browsers at the API URL; left out: off for a new application).")
        retention = app.get("eventRetentionHours", 24)
        if not isinstance(retention, int) or isinstance(retention, bool) or retention < 1:
            problems.append("application.eventRetentionHours: expected a whole number of hours, "
                            "at least 1 (how long change events are kept; left out: 24 for a "
                            "new application).")
        trash_hours = app.get("trashHours", 72)
        if not isinstance(trash_hours, int) or isinstance(trash_hours, bool) or trash_hours < 1:
            problems.append("application.trashHours: expected a whole number of hours, at "
                            "least 1 (how long deleted records of models with a trash can be "
                            "restored; left out: 72 for a new application).")
        if not isinstance(app.get("webhookPrivateTargets", False), bool):
            problems.append("application.webhookPrivateTargets: expected true or false (let "
                            "webhooks call loopback and private addresses; left out: off for a "
                            "new application).")
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
    if not isinstance(model.get("trash", False), bool):
        problems.append(f"{where}.trash: expected true or false (deletions move its records to "
                        "a trash they can be restored from; left out: off, deletions are "
                        "final).")
    elif model.get("trash"):
        fields_of[name].add(DELETED_AT)  # the trash's field: no property may take its name
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
            candidate = property_from(prop)
        except (TypeError, ValueError, decimal.InvalidOperation) as error:
            problems.append(f"{place}: {error}")
            continue
        problems.extend(f"{place}: {p}" for p in kind.check_settings(candidate))
    return problems


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
