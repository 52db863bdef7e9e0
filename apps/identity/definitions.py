"""The `authProfiles` section of application definition files."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError

from models_registry.definitions import LoadReport, Section
from models_registry.models import Application

from .models import AuthProfile

# JSON key -> AuthProfile field, for the settings beside the model and its properties.
SETTINGS = {"accessTokenLifetime": "access_token_lifetime",
            "refreshTokenLifetime": "refresh_token_lifetime",
            "refreshGraceSeconds": "refresh_grace_seconds"}
KINDS = {"usernameProperty": {"text", "email"}, "passwordProperty": {"password"}}


def export(application: Application) -> list[dict] | None:
    return [{"name": p.name, "uuid": str(p.uuid), "userModel": p.user_model.name,
             "usernameProperty": p.username_property.name,
             "passwordProperty": p.password_property.name,
             **{key: getattr(p, name) for key, name in SETTINGS.items()}}
            for p in application.auth_profiles.select_related(
                "user_model", "username_property", "password_property").order_by("id")] or None


def check(value: Any, document: dict) -> list[str]:
    if not isinstance(value, list):
        return ["authProfiles: expected a list."]
    kinds_of = {m.get("name"): {p.get("name"): p.get("kind", "text")
                                for p in m.get("properties", []) if isinstance(p, dict)}
                for m in document.get("models", []) if isinstance(m, dict)}
    problems = []
    for index, doc in enumerate(value):
        where = f"authProfiles[{index}]"
        if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
            problems.append(f'{where}: expected {{"name": ..., "userModel": ..., ...}}.')
            continue
        properties = kinds_of.get(doc.get("userModel"))
        if properties is None:
            problems.append(f"{where}.userModel: no model {doc.get('userModel')!r} in the file.")
            continue
        for key, kinds in KINDS.items():
            kind = properties.get(doc.get(key))
            if kind not in kinds:
                problems.append(f"{where}.{key}: expected a {' or '.join(sorted(kinds))} "
                                f"property of {doc['userModel']}.")
        if "uuid" in doc:
            try:
                uuid.UUID(str(doc["uuid"]))
            except ValueError:
                problems.append(f"{where}.uuid: not a UUID.")
        candidate = AuthProfile(**{name: doc[key] for key, name in SETTINGS.items() if key in doc})
        try:
            candidate.clean_fields(exclude=["application", "user_model", "username_property",
                                            "password_property", "uuid", "name"])
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                key = next(k for k, n in SETTINGS.items() if n == name)
                problems.extend(f"{where}.{key}: {m}" for m in messages)
    return problems


def apply(application: Application, value: list[dict], report: LoadReport) -> None:
    models = {m.name: m for m in application.data_models.prefetch_related("properties")}
    existing = {p.name: p for p in application.auth_profiles.all()}
    for doc in value:
        user_model = models[doc["userModel"]]
        properties = {p.name: p for p in user_model.properties.all()}
        wanted = {"user_model": user_model,
                  "username_property": properties[doc["usernameProperty"]],
                  "password_property": properties[doc["passwordProperty"]],
                  **{name: doc[key] for key, name in SETTINGS.items() if key in doc}}
        profile = existing.get(doc["name"])
        if profile is None:
            extra = {"uuid": uuid.UUID(doc["uuid"])} if "uuid" in doc else {}
            AuthProfile.objects.create(application=application, name=doc["name"], **wanted,
                                       **extra)
            report.created.append(f"auth profile {doc['name']}")
        elif any(getattr(profile, k) != v for k, v in wanted.items()):
            AuthProfile.objects.filter(pk=profile.pk).update(**wanted)
            report.changed.append(f"auth profile {doc['name']}")


SECTION = Section("authProfiles", export, check, apply)
