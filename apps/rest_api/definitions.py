"""The `restEndpoints` section of application definition files: `name`, `url`, `methods`
(optional: the defaults), `query`, `comment` (optional). The file's endpoints become the
application's: listed ones set, others removed; each document is validated against the
schema the same file defines."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from apps.data_api.request.documents import DocumentCache
from apps.data_api.schema.build import build_schema
from models_registry.definitions import DefinitionError, LoadReport, Section
from models_registry.models import Application
from models_registry.runtime import build_runtime_models

from .checks import Definition, overlap_problems, schema_problems, static_problems
from .models import RestEndpoint

KEYS = {"name", "url", "methods", "query", "comment"}
NAME = RestEndpoint._meta.get_field("name")
URL_LENGTH = RestEndpoint._meta.get_field("url").max_length


def export(application: Application) -> list[dict] | None:
    found = []
    for row in application.rest_endpoints.order_by("name"):
        doc = {"name": row.name, "url": row.url}
        if row.methods:
            doc["methods"] = row.methods
        doc["query"] = row.query
        if row.comment:
            doc["comment"] = row.comment
        found.append(doc)
    return found or None


def _definitions(value: list) -> tuple[list[tuple[str, Definition]], list[str]]:
    """(where, definition) for each well-formed entry, and the problems of the others."""
    found, problems, names = [], [], set()
    for index, doc in enumerate(value):
        where = f"restEndpoints[{index}]"
        if not isinstance(doc, dict) or not all(
                isinstance(doc.get(key), str) for key in ("name", "url", "query")):
            problems.append(f'{where}: expected {{"name": ..., "url": ..., "query": ..., '
                            '"methods": [...]}} with text name, url and query.')
            continue
        unknown = sorted(set(doc) - KEYS)
        if unknown:
            problems.append(f"{where}: unknown key {unknown[0]!r}; an endpoint has "
                            f"{', '.join(sorted(KEYS))}.")
        try:  # the admin's form checks these with the model's fields; a file must too
            NAME.clean(doc["name"], None)
        except ValidationError as error:
            problems.extend(f"{where}.name: {message}" for message in error.messages)
        if len(doc["url"]) > URL_LENGTH:
            problems.append(f"{where}.url: at most {URL_LENGTH} characters.")
        if doc["name"] in names:
            problems.append(f"{where}.name: {doc['name']!r} is given twice.")
        names.add(doc["name"])
        if not isinstance(doc.get("comment", ""), str):
            problems.append(f"{where}.comment: expected text.")
        found.append((where, Definition(doc["name"], doc["url"], doc.get("methods", []),
                                        doc["query"])))
    return found, problems


def check(value: Any, document: dict) -> list[str]:
    if not isinstance(value, list):
        return ["restEndpoints: expected a list."]
    found, problems = _definitions(value)
    for index, (where, definition) in enumerate(found):
        for key, messages in static_problems(definition).items():
            problems.extend(f"{where}.{key}: {m}" for m in messages)
        others = [d for _, d in found[:index]]
        for key, messages in overlap_problems(definition, others).items():
            problems.extend(f"{where}.{key}: {m}" for m in messages)
    return problems


def apply(application: Application, value: list[dict], report: LoadReport) -> None:
    documents = DocumentCache(build_schema(build_runtime_models(application)))
    problems = []
    for where, definition in _definitions(value)[0]:
        static_problems(definition)  # fills in its template and operation (checked before)
        for key, messages in schema_problems(definition, documents,
                                             application.introspection_enabled).items():
            problems.extend(f"{where}.{key}: {m}" for m in messages)
    if problems:
        raise DefinitionError(problems)
    wanted = {doc["name"]: {"url": doc["url"], "methods": doc.get("methods", []),
                            "query": doc["query"], "comment": doc.get("comment", "")}
              for doc in value}
    report.replace_rows(
        "REST endpoint", {row.name: row for row in application.rest_endpoints.all()}, wanted,
        lambda name, values: RestEndpoint.objects.create(application=application, name=name,
                                                         **values))


SECTION = Section("restEndpoints", export, check, apply)
