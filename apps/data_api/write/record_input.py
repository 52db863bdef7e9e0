"""Mutation input to what is stored: each property's value checked by its kind and the model's
validations, each relation change checked against the records it names.

Problems are collected for every item before anything is written, so one response names them
all: `VALIDATION_ERROR` with `extensions.fields` mapping each input path (`name`, or `[3].name`
in the many variants) to its messages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError

from models_registry.kinds import KINDS
from models_registry.runtime import RuntimeModels, RuntimeRecord
from models_registry.specs import RelationEnd

from ..errors import BadUserInput, ValidationFailed
from ..kinds import Write, api_kind, writable_properties
from .files import read_reference

MANY_OPERATIONS = ("_add", "_remove", "_replace")


@dataclass
class RecordInput:
    """One record's changes: stored values by attname (properties and belongs-to columns), and
    has-many / habtm operations by relation name ({"_add": [ids], ...})."""

    path: str  # "" for a single input, "[3]" for an item of a list
    values: dict[str, Any] = field(default_factory=dict)
    many: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    id: int | None = None
    names: dict[str, str] = field(default_factory=dict)  # attname -> the input's name for it


class Problems:
    def __init__(self):
        self.fields: dict[str, list[str]] = defaultdict(list)

    def add(self, path: str, message: str) -> None:
        self.fields[path].append(message)

    def raise_any(self, what: str) -> None:
        if self.fields:
            count = len(self.fields)
            raise ValidationFailed(
                f"{what}: {count} field{'s' if count > 1 else ''} did not pass validation; "
                "see extensions.fields. Nothing was changed.",
                fields=dict(self.fields))


def at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class InputReader:
    """Reads the inputs of one mutation for records of `cls`."""

    def __init__(self, cls: type[RuntimeRecord], built: RuntimeModels, slug: str, *,
                 validate: bool, readable: Callable[[type[RuntimeRecord], list[int]], set[int]]):
        """`readable(cls, ids)`: those of the ids that name records of `cls` the caller may
        read (one that exists but is not readable is named like one that does not exist)."""
        self.cls = cls
        self.slug = slug
        self.built = built
        self.spec = cls._mortar
        self.validate = validate
        self.properties = writable_properties(self.spec)
        self.fields = {name: cls._meta.get_field(prop.attname)
                       for name, prop in self.properties.items()}
        self.ends: dict[str, RelationEnd] = self.spec.ends
        self.belongs_to = {self._column(end): end for end in self.ends.values() if not end.many}
        self.problems = Problems()
        self.readable = readable

    def read(self, raw: dict, path: str, *, creating: bool, id_allowed: bool = False
             ) -> RecordInput:
        record = RecordInput(path)
        for name, value in raw.items():
            if name == "id":
                if not id_allowed:
                    raise BadUserInput(
                        f"{at(path, 'id')}: id is not set through input; give it as the "
                        "mutation's id argument (upsertMany items may carry one).",
                        field=at(path, "id"))
                record.id = value
            elif name in self.properties:
                self._property(record, name, value, creating)
            else:
                self._relation(record, name, value, creating)
        if creating:
            self.required_missing(record, raw)
        return record

    def _property(self, record: RecordInput, name: str, value: Any, creating: bool) -> None:
        prop = self.properties[name]
        model_field = self.fields[name]
        record.names[prop.attname] = name
        if value is None:
            if prop.required:
                self.problems.add(at(record.path, name),
                                  "This field is required; it cannot be null.")
            record.values[prop.attname] = None
            return
        try:
            if isinstance(value, str):
                value.encode()  # a lone surrogate cannot be stored: UnicodeEncodeError
            write = api_kind(prop).write
            if write is Write.PASSWORD:
                if self.validate:
                    model_field.run_validators(value)  # on the plain text, not the hash
                record.values[prop.attname] = make_password(value)
                return
            if write is Write.FILE:
                value = KINDS[prop.kind].parse(self._stored_file(value))
            value = model_field.to_python(value)
            if self.validate:
                model_field.validate(value, None)
                model_field.run_validators(value)
        except ValidationError as error:
            for message in error.messages:
                self.problems.add(at(record.path, name), message)
            return
        except UnicodeEncodeError:
            self.problems.add(at(record.path, name), "Not valid Unicode text (a lone "
                                                     "surrogate such as \\ud800).")
            return
        except ValueError as error:
            self.problems.add(at(record.path, name),
                              f"Not a valid {KINDS[prop.kind].label}: {error}.")
            return
        record.values[prop.attname] = value

    def _stored_file(self, reference: str) -> dict:
        return read_reference(self.slug, reference)

    def _relation(self, record: RecordInput, name: str, value: Any, creating: bool) -> None:
        end = self.ends[name]
        place = at(record.path, name)
        if not end.many:
            attname = self._column(end)
            record.names[attname] = name
            record.values[attname] = None if value is None else value["id"]
            return
        if value is None:
            raise BadUserInput(f"{place}: give {{_add, _remove, _replace}}, not null; "
                               "_replace: [] unrelates every record.", field=place)
        operations = {op: [ref["id"] for ref in value[op]] for op in MANY_OPERATIONS
                      if value.get(op) is not None}
        if "_replace" in operations and len(operations) > 1:
            raise BadUserInput(f"{place}: _replace says the whole list; do not combine it "
                               "with _add or _remove.", field=place)
        if creating and "_remove" in operations:
            raise BadUserInput(f"{place}: a new record has nothing to remove; use _add.",
                               field=place)
        record.many[name] = operations

    def required_missing(self, record: RecordInput, raw: dict) -> None:
        if not self.validate:  # the database's NOT NULL still applies
            return
        for name, prop in self.properties.items():
            if prop.required and name not in raw and prop.default is None:
                self.problems.add(at(record.path, name), "This field is required.")

    # -- checks across all items, one query each ---------------------------------------------

    def check_related_ids(self, records: list[RecordInput]) -> None:
        """Every id a relation names must exist: one query per related model."""
        wanted: dict[int, set[int]] = defaultdict(set)
        for record in records:
            for attname, value in record.values.items():
                end = self.belongs_to.get(attname)
                if end is not None and value is not None:
                    wanted[end.target.pk].add(value)
            for name, operations in record.many.items():
                target = wanted[self.ends[name].target.pk]
                for ids in operations.values():
                    target.update(ids)
        for target_id, ids in wanted.items():
            target = self.built.by_id[target_id]
            missing = ids - self.readable(target, sorted(ids))
            if missing:
                self._name_missing(records, target, missing)

    def _name_missing(self, records: list[RecordInput], target, missing: set[int]) -> None:
        """Say which inputs named the ids that do not exist (only when some do not)."""
        for record in records:
            found: dict[str, list[int]] = defaultdict(list)
            for attname, value in record.values.items():
                end = self.belongs_to.get(attname)
                if end is not None and end.target.name == target._mortar.name and value in missing:
                    found[record.names[attname]].append(value)
            for name, operations in record.many.items():
                if self.ends[name].target.name != target._mortar.name:
                    continue
                for ids in operations.values():
                    found[name].extend(i for i in ids if i in missing)
            for name, ids in found.items():
                if ids:
                    self.problems.add(at(record.path, name), f"No {target._mortar.name} with id "
                                      f"{', '.join(map(str, sorted(set(ids))))}.")

    def _column(self, end: RelationEnd) -> str:
        """The attname of a belongs-to end's reference column (r12_id)."""
        return self.cls._meta.get_field(end.attname).attname

    def check_unique(self, records: list[RecordInput], updating: list[int] | None = None
                     ) -> None:
        """Unique properties: no two items with one value, and none taken by another record
        (one query per unique property given). `updating`: the ids whose values these are."""
        for name, prop in self.properties.items():
            if not prop.unique:
                continue
            given = [(r, r.values[prop.attname]) for r in records
                     if r.values.get(prop.attname) is not None]
            if not given:
                continue
            seen: dict[Any, RecordInput] = {}
            for record, value in given:
                if value in seen:
                    self.problems.add(at(record.path, name),
                                      f"Another item of this request has this {name}.")
                seen.setdefault(value, record)
            if updating is not None and len(updating) > 1:
                self.problems.add(name, f"{name} is unique: {len(updating)} records cannot all "
                                        "take one value.")
                continue
            taken = self.cls.objects.filter(**{f"{prop.attname}__in": list(seen)})
            own_ids = {r.id for r, _ in given if r.id is not None} | set(updating or ())
            for value, record_id in taken.values_list(prop.attname, "pk"):
                if record_id in own_ids:
                    continue
                for record, given_value in given:
                    if given_value == value and record.id != record_id:
                        self.problems.add(at(record.path, name),
                                          f"A {self.spec.name} with this {name} already exists.")
