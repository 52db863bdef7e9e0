"""What a definition document is made of: its format version, the property settings it may
give, the sections other apps own, and what loading one reports or refuses."""

from __future__ import annotations

import decimal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..models import Application, DataModel, Property

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

    def replace_rows(self, kind: str, existing: dict[Any, Any], wanted: dict[Any, dict],
                     create: Callable[[Any, dict], Any], name: Callable[[Any], str] = str
                     ) -> None:
        """A section's rows become the file's: each wanted one (key -> its values) is created
        by `create(key, values)`, or saved where a value differs from the row under its key
        in `existing` (key -> row); the rows the file leaves out are deleted. Each change is
        reported as `kind` and the key's `name` ("webhook tasks")."""
        for key, values in wanted.items():
            row = existing.pop(key, None)
            if row is None:
                create(key, values)
                self.created.append(f"{kind} {name(key)}")
            elif any(getattr(row, field) != value for field, value in values.items()):
                for field, value in values.items():
                    setattr(row, field, value)
                row.save()
                self.changed.append(f"{kind} {name(key)}")
        for key, gone in existing.items():
            gone.delete()
            self.changed.append(f"{kind} {name(key)} removed")


def property_from(prop: dict, data_model: DataModel | None = None) -> Property:
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
