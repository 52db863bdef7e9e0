"""The `authProfiles` section of application definition files."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q

from models_registry.definitions import LoadReport, Section
from models_registry.models import Application

from .models import AuthProfile, Permission

# JSON key -> AuthProfile field, for the settings beside the model and its properties.
SETTINGS = {"accessTokenLifetime": "access_token_lifetime",
            "refreshTokenLifetime": "refresh_token_lifetime",
            "refreshGraceSeconds": "refresh_grace_seconds"}
KINDS = {"usernameProperty": {"text", "email"}, "passwordProperty": {"password"}}


def export(application: Application) -> list[dict] | None:
    return [{"name": p.name, "uuid": str(p.uuid), "userModel": p.user_model.name,
             "usernameProperty": p.username_property.name,
             "passwordProperty": p.password_property.name,
             **_roles_export(p),
             **{key: getattr(p, name) for key, name in SETTINGS.items()}}
            for p in application.auth_profiles.select_related(
                "user_model", "username_property", "password_property", "roles_relation",
                "role_name_property").order_by("id")] or None


def _roles_export(profile: AuthProfile) -> dict:
    relation = profile.roles_relation
    if relation is None or profile.role_name_property is None:
        return {}
    field = (relation.source_field if relation.source_id == profile.user_model_id
             else relation.target_field)
    return {"rolesField": field, "roleNameProperty": profile.role_name_property.name}


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
        problems.extend(_check_roles(where, doc, document, kinds_of))
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


def _role_model(doc: dict, relations: list) -> str | None:
    """The model at the other end of the user model's `rolesField` relation in the file."""
    for relation in relations:
        if not isinstance(relation, dict):
            continue
        if relation.get("from") == doc["userModel"] and relation.get("field") == doc["rolesField"]:
            return relation.get("to")
        if relation.get("to") == doc["userModel"] and relation.get("inverse") == doc["rolesField"]:
            return relation.get("from")
    return None


def _check_roles(where: str, doc: dict, document: dict, kinds_of: dict) -> list[str]:
    if "rolesField" not in doc and "roleNameProperty" not in doc:
        return []
    if "rolesField" not in doc or "roleNameProperty" not in doc:
        return [f"{where}: give both rolesField and roleNameProperty."]
    role_model = _role_model(doc, document.get("relations", []))
    if role_model is None:
        return [f"{where}.rolesField: no relation {doc['rolesField']!r} of {doc['userModel']} "
                "in the file."]
    if doc["roleNameProperty"] not in kinds_of.get(role_model, {}):
        return [f"{where}.roleNameProperty: no property {doc['roleNameProperty']!r} of "
                f"{role_model}."]
    return []


def _roles_settings(application: Application, user_model, doc: dict) -> dict:
    if "rolesField" not in doc:
        return {"roles_relation": None, "role_name_property": None}
    relation = application.relations.filter(
        Q(source=user_model, source_field=doc["rolesField"])
        | Q(target=user_model, target_field=doc["rolesField"])).get()
    role_model = relation.target if relation.source_id == user_model.pk else relation.source
    return {"roles_relation": relation,
            "role_name_property": role_model.properties.get(name=doc["roleNameProperty"])}


def apply(application: Application, value: list[dict], report: LoadReport) -> None:
    models = {m.name: m for m in application.data_models.prefetch_related("properties")}
    existing = {p.name: p for p in application.auth_profiles.all()}
    for doc in value:
        user_model = models[doc["userModel"]]
        properties = {p.name: p for p in user_model.properties.all()}
        wanted = {"user_model": user_model,
                  "username_property": properties[doc["usernameProperty"]],
                  "password_property": properties[doc["passwordProperty"]],
                  **_roles_settings(application, user_model, doc),
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


# -- permissions ------------------------------------------------------------------------------

def export_permissions(application: Application) -> list[dict] | None:
    found = []
    for p in Permission.objects.filter(data_model__application=application).select_related(
            "data_model").order_by("data_model__name", "operation"):
        doc = {"model": p.data_model.name, "operation": p.operation, "access": p.access}
        if p.roles:
            doc["roles"] = p.roles
        if p.condition is not None:
            doc["condition"] = p.condition
        found.append(doc)
    return found or None


def check_permissions(value: Any, document: dict) -> list[str]:
    if not isinstance(value, list):
        return ["permissions: expected a list."]
    models = {m.get("name") for m in document.get("models", []) if isinstance(m, dict)}
    problems, seen = [], set()
    for index, doc in enumerate(value):
        where = f"permissions[{index}]"
        if not isinstance(doc, dict):
            problems.append(f'{where}: expected {{"model": ..., "operation": ..., "access": ...}}.')
            continue
        if doc.get("model") not in models:
            problems.append(f"{where}.model: no model {doc.get('model')!r} in the file.")
        if doc.get("operation") not in Permission.Operation.values:
            problems.append(f"{where}.operation: one of {', '.join(Permission.Operation.values)}.")
        if doc.get("access") not in Permission.Access.values:
            problems.append(f"{where}.access: one of {', '.join(Permission.Access.values)}.")
        key = (doc.get("model"), doc.get("operation"))
        if key in seen:
            problems.append(f"{where}: {key[0]} {key[1]} is given twice.")
        seen.add(key)
        candidate = Permission(access=doc.get("access"), roles=doc.get("roles", []),
                               condition=doc.get("condition"))
        try:
            candidate.clean()
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                problems.extend(f"{where}.{name}: {m}" for m in messages)
    return problems


def apply_permissions(application: Application, value: list[dict], report: LoadReport) -> None:
    """The file's permissions become the application's: listed ones set, others removed."""
    models = {m.name: m for m in application.data_models.all()}
    existing = {(p.data_model.name, p.operation): p for p in Permission.objects.filter(
        data_model__application=application).select_related("data_model")}
    wanted = {(doc["model"], doc["operation"]): {"access": doc["access"],
                                                 "roles": doc.get("roles", []),
                                                 "condition": doc.get("condition")}
              for doc in value}
    report.replace_rows(
        "permission", existing, wanted,
        lambda key, values: Permission.objects.create(data_model=models[key[0]],
                                                      operation=key[1], **values),
        name=" ".join)


PERMISSIONS = Section("permissions", export_permissions, check_permissions, apply_permissions)
