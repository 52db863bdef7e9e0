"""Export an application as a definition document (optionally with its records)."""

from __future__ import annotations

import decimal
from typing import Any

from ..kinds import KINDS
from ..models import Application, Property, Relation
from ..runtime import build_runtime_models
from .document import FORMAT, PROPERTY_SETTINGS, SECTIONS


def export_definition(application: Application, with_data: bool = False) -> dict:
    data_models = list(application.data_models.order_by("id").prefetch_related("properties"))
    document: dict[str, Any] = {
        "mortar": FORMAT,
        "application": {
            "slug": application.slug,
            "name": application.name,
            "environment": application.environment,
            "introspection": application.introspection_enabled,
            "playground": application.playground_enabled,
            "eventRetentionHours": application.event_retention_hours,
            "webhookPrivateTargets": application.webhook_private_targets,
            "trashHours": application.trash_hours,
        },
        "models": [
            {"name": dm.name, **({"trash": True} if dm.trash else {}),
             "properties": [_export_property(p) for p in dm.properties.all()]}
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
