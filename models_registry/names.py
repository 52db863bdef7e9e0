"""Rules for the names builders give models, properties and relation fields.

Names become GraphQL names (`allTask`, `TaskInput`, `Task.endDate`), so they follow GraphQL's
name rules and must not clash with system fields, built-in types or names Mortar generates.
"""

import re

MODEL_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
FIELD_NAME = re.compile(r"^[a-z][A-Za-z0-9]*$")
MAX_LENGTH = 63

SYSTEM_FIELDS = {"id", "createdAt", "updatedAt"}
# Names with a meaning of their own in queries and inputs.
RESERVED_FIELDS = SYSTEM_FIELDS | {"_and", "_or", "_add", "_remove", "_replace", "__typename"}
RESERVED_MODELS = {
    "Query", "Mutation", "Subscription", "String", "Int", "Float", "Boolean", "ID", "JSON",
    "Date", "DateTime", "Time", "Decimal", "Upload", "File", "FileInput", "SortOrder",
    "DeleteManyInput", "IdInput", "LoginResult", "RefreshResult", "RevokeResult", "Jwt",
}
# Types generated per model: a model named `Task` owns `TaskInput`, `TaskFilterInput`, ...
GENERATED_SUFFIXES = (
    "Input", "FilterInput", "SortInput", "SortField", "ResultSet", "Field", "RelationInput",
    "RelationSortInput", "ManyRelationInput",
)


def model_name_problems(name: str, other_model_names: set[str]) -> list[str]:
    """Why `name` cannot name a model next to `other_model_names`; empty when it can."""
    if not MODEL_NAME.match(name or ""):
        return [
            f"{name!r} is not a valid model name: start with a capital letter, then only "
            "letters and digits (PascalCase, e.g. Task or WebUser)."
        ]
    if len(name) > MAX_LENGTH:
        return [f"Model names have at most {MAX_LENGTH} characters."]
    if name in RESERVED_MODELS:
        return [f"{name!r} is reserved by the API; choose another model name."]
    lowered = {other.lower(): other for other in other_model_names}
    if name.lower() in lowered:
        return [f"There is already a model named {lowered[name.lower()]!r} in this application."]
    for other in other_model_names:
        for suffix in GENERATED_SUFFIXES:
            if name == other + suffix:
                return [
                    f"{name!r} clashes with the type {name!r} generated for model {other!r}; "
                    "choose another model name."
                ]
            if other == name + suffix:
                return [
                    f"The model {other!r} would clash with the type {other!r} generated for "
                    f"{name!r}; choose another model name."
                ]
    return []


def field_name_problems(name: str, model_name: str, other_field_names: set[str]) -> list[str]:
    """Why `name` cannot name a property or relation field of `model_name`; empty when it can."""
    if name in RESERVED_FIELDS:
        return [f"{name!r} is a system or reserved field of every model; choose another name."]
    if not FIELD_NAME.match(name or ""):
        return [
            f"{name!r} is not a valid field name: start with a lowercase letter, then only "
            "letters and digits (camelCase, e.g. endDate)."
        ]
    if len(name) > MAX_LENGTH:
        return [f"Field names have at most {MAX_LENGTH} characters."]
    if name in other_field_names:
        return [f"{model_name} already has a field named {name!r}."]
    return []
