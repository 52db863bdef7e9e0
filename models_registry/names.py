"""Rules for the names builders give models, properties and relation fields.

Names become the names of an API's types and fields (`allTask`, `TaskInput`, `Task.endDate`),
so they follow GraphQL's name rules and must not clash with system fields, with the API's own
types or with the names it generates from other models (which the API registers here).
"""

import re
from dataclasses import dataclass

from .specs import SYSTEM_COLUMNS

MODEL_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
FIELD_NAME = re.compile(r"^[a-z][A-Za-z0-9]*$")
MAX_LENGTH = 63

SYSTEM_FIELDS = set(SYSTEM_COLUMNS)
# Names with a meaning of their own in queries and inputs.
RESERVED_FIELDS = SYSTEM_FIELDS | {"_and", "_or", "_add", "_remove", "_replace", "__typename"}


@dataclass(frozen=True)
class GeneratedNames:
    """The names an API generates from model names, registered by that API (the data API,
    from its AppConfig.ready()): this module knows the rules, not the API."""

    types: frozenset[str] = frozenset()  # type names of the API itself: StringFilter, ...
    type_suffixes: tuple[str, ...] = ()  # a model Task owns the types Task<suffix>
    field_prefixes: tuple[str, ...] = ()  # and the root fields <prefix>Task
    record_fields: frozenset[str] = frozenset()  # fields of every record: nodeId


_generated = GeneratedNames()


def register_generated_names(names: GeneratedNames) -> None:
    global _generated
    _generated = names


def model_name_problems(name: str, other_model_names: set[str]) -> list[str]:
    """Why `name` cannot name a model next to `other_model_names`; empty when it can."""
    if not MODEL_NAME.match(name or ""):
        return [
            f"{name!r} is not a valid model name: start with a capital letter, then only "
            "letters and digits (PascalCase, e.g. Task or WebUser)."
        ]
    if len(name) > MAX_LENGTH:
        return [f"Model names have at most {MAX_LENGTH} characters."]
    if name in _generated.types:
        return [f"{name!r} is reserved by the API; choose another model name."]
    for suffix in _generated.type_suffixes:
        if name + suffix in _generated.types:
            return [f"{name!r} would generate the type {name + suffix!r}, which the API has "
                    "already (a reserved name); choose another model name."]
    lowered = {other.lower(): other for other in other_model_names}
    if name.lower() in lowered:
        return [f"There is already a model named {lowered[name.lower()]!r} in this application."]
    for other in other_model_names:
        clash = _generated_clash(name, other)
        if clash == name:
            return [f"{name!r} clashes with the type {name!r} generated for model {other!r}; "
                    "choose another model name."]
        if clash == other:
            return [f"The model {other!r} would clash with the type {other!r} generated for "
                    f"{name!r}; choose another model name."]
        if clash is not None:
            return [f"{name!r} and the model {other!r} would both generate {clash!r}; choose "
                    "another model name."]
    return []


def _generated_clash(name: str, other: str) -> str | None:
    """A generated type or root field name that models `name` and `other` would share."""
    suffixes = ("", *_generated.type_suffixes)
    for mine in suffixes:
        for theirs in suffixes:
            if name + mine == other + theirs:
                return name + mine
    for mine in _generated.field_prefixes:
        for theirs in _generated.field_prefixes:
            if mine + name == theirs + other:
                return mine + name
    return None


def field_name_problems(name: str, model_name: str, other_field_names: set[str]) -> list[str]:
    """Why `name` cannot name a property or relation field of `model_name`; empty when it can."""
    if name in RESERVED_FIELDS:
        return [f"{name!r} is a system or reserved field of every model; choose another name."]
    if name in _generated.record_fields:
        return [f"{name!r} is a field the API gives every model; choose another name."]
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
