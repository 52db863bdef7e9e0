"""The `webhooks` section of application definition files: `name`, `url`, `models`,
`operations`, `where` (the last three optional) and `enabled` (optional, true). The file's
webhooks become the application's: listed ones set, others removed. Secrets stay out of
exported files; a new webhook gets one generated unless the file gives `secret`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from models_registry.definitions import DefinitionError, LoadReport, Section
from models_registry.models import Application

from .checks import schema_problems, static_problems
from .models import Webhook
from .signing import secret_key

KEYS = {"name", "url", "models", "operations", "where", "enabled", "secret"}
NAME = Webhook._meta.get_field("name")
URL_LENGTH = Webhook._meta.get_field("url").max_length


def export(application: Application) -> list[dict] | None:
    found = []
    for row in application.webhooks.order_by("name"):
        doc: dict[str, Any] = {"name": row.name, "url": row.url}
        if row.model_names:
            doc["models"] = row.model_names
        if row.operations:
            doc["operations"] = row.operations
        if row.where is not None:
            doc["where"] = row.where
        if not row.enabled:
            doc["enabled"] = False
        found.append(doc)
    return found or None


def _settings(doc: dict) -> dict:
    return {"url": doc["url"], "model_names": doc.get("models", []),
            "operations": doc.get("operations", []), "where": doc.get("where"),
            "enabled": doc.get("enabled", True)}


def _entries(value: list, allow_private: bool | None) -> tuple[list[tuple[str, dict]],
                                                                  list[str]]:
    """(where in the file, entry) for each well-formed entry, and every problem found without
    the application's models (`allow_private` None: the URL's host is not judged yet)."""
    found, problems, names = [], [], set()
    for index, doc in enumerate(value):
        where = f"webhooks[{index}]"
        if not isinstance(doc, dict) or not all(isinstance(doc.get(k), str)
                                                for k in ("name", "url")):
            problems.append(f'{where}: expected {{"name": ..., "url": ..., "models": [...], '
                            '"operations": [...], "where": {...}}} with text name and url.')
            continue
        unknown = sorted(set(doc) - KEYS)
        if unknown:
            problems.append(f"{where}: unknown key {unknown[0]!r}; a webhook has "
                            f"{', '.join(sorted(KEYS))}.")
        try:
            NAME.clean(doc["name"], None)
        except ValidationError as error:
            problems.extend(f"{where}.name: {m}" for m in error.messages)
        if doc["name"] in names:
            problems.append(f"{where}.name: {doc['name']!r} is given twice.")
        names.add(doc["name"])
        if len(doc["url"]) > URL_LENGTH:
            problems.append(f"{where}.url: at most {URL_LENGTH} characters.")
        if not isinstance(doc.get("enabled", True), bool):
            problems.append(f"{where}.enabled: expected true or false.")
        if "secret" in doc:
            try:
                secret_key(doc["secret"] if isinstance(doc["secret"], str) else "")
            except ValueError as error:
                problems.append(f"{where}.secret: {error}")
        wanted = _settings(doc)
        for key, messages in static_problems(
                wanted["url"], wanted["model_names"], wanted["operations"], wanted["where"],
                True if allow_private is None else allow_private).items():
            problems.extend(f"{where}.{key}: {m}" for m in messages)
        found.append((where, doc))
    return found, problems


def check(value: Any, document: dict) -> list[str]:
    if not isinstance(value, list):
        return ["webhooks: expected a list."]
    return _entries(value, None)[1]


def apply(application: Application, value: list[dict], report: LoadReport) -> None:
    found, problems = _entries(value, application.webhook_private_targets)
    for where, doc in found:
        wanted = _settings(doc)
        for key, messages in schema_problems(application, wanted["model_names"],
                                             wanted["where"]).items():
            problems.extend(f"{where}.{key}: {m}" for m in messages)
    if problems:
        raise DefinitionError(problems)
    wanted = {}
    for _, doc in found:
        wanted[doc["name"]] = _settings(doc)
        if "secret" in doc:
            wanted[doc["name"]]["secret"] = doc["secret"]
    report.replace_rows(
        "webhook", {row.name: row for row in application.webhooks.all()}, wanted,
        lambda name, values: Webhook.objects.create(application=application, name=name,
                                                    **values))


SECTION = Section("webhooks", export, check, apply)
