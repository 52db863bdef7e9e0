"""Property kinds: one class per kind, looked up by name in KINDS.

A kind says how its values are stored (the Django field of the runtime model), how a value is
read from JSON or text (`parse`), written to JSON (`to_json`), which other kinds it converts from,
and which validations apply. Nothing outside this module branches on a kind's name.
"""

from __future__ import annotations

import abc
import datetime as dt
import decimal
import json
import re
from typing import Any, Protocol

from django.contrib.auth.hashers import identify_hasher, make_password
from django.core import validators
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.dateparse import parse_datetime

from .files import IMAGE_TYPES


class Property(Protocol):
    """The settings of a property that its kind reads (`models.Property` has them; that
    module imports this one for its kind choices)."""

    name: str
    attname: str
    required: bool
    unique: bool
    default: Any
    min_value: Any
    max_value: Any
    min_length: int | None
    max_length: int | None
    pattern: str
    enum_values: Any
    decimal_places: int | None


TEXT_KINDS = {"text", "rich_text", "email", "url", "phone", "enum"}


class Kind(abc.ABC):
    name: str = ""
    label: str = ""
    searchable = False  # free-text search in the admin's record browser
    has_length = False  # min/max length apply
    has_range = False  # min/max value apply
    can_default = True
    can_unique = True
    numbered = False  # the platform numbers new records: one more than the highest so far
    has_pattern = False  # a regular expression values must match
    has_choices = False  # enum options
    has_places = False  # decimal places of its own
    kept_in_history = True  # change events keep its values (snapshots)
    # Kinds whose values this kind can take over in a kind change (besides itself).
    converts_from: frozenset[str] = frozenset()

    @property
    def options(self) -> list[str]:
        """The property settings this kind uses besides name, kind and required, in form order
        (the admin edits only these)."""
        applies = {
            "unique": self.can_unique, "default": self.can_default,
            "enum_values": self.has_choices, "min_length": self.has_length,
            "max_length": self.has_length, "min_value": self.has_range,
            "max_value": self.has_range, "decimal_places": self.has_places,
            "pattern": self.has_pattern,
        }  # fmt: skip
        return [name for name, used in applies.items() if used]

    def default_from_text(self, text: str) -> Any:
        """The stored (JSON) default for what a builder typed, e.g. `3`, `true` or `open`;
        ValueError or ValidationError when it is no value of this kind."""
        return self.to_json(self.parse(text))

    def default_as_text(self, value: Any) -> str:
        """A stored default as the builder types it (the inverse of default_from_text)."""
        if value is None:
            return ""
        return value if isinstance(value, str) else json.dumps(value)

    def model_field(self, prop: Property, unique: bool | None = None) -> models.Field:
        """`unique`: whether the column itself is unique (default: the property's rule; a model
        with a trash keeps it with a condition instead, `runtime`)."""
        options = {
            "db_column": prop.attname,
            "verbose_name": prop.name,
            "null": not prop.required,
            "blank": not prop.required,
            "unique": prop.unique if unique is None else unique,
            "validators": self.validators(prop),
        }
        if prop.default is not None and self.can_default:
            options["default"] = self.parse(prop.default)
        return self.make_field(prop, **options)

    @abc.abstractmethod
    def make_field(self, prop: Property, **options) -> models.Field:
        """The Django field that stores this kind, built with the common `options`."""

    def validators(self, prop: Property) -> list:
        found = []
        if self.has_length and prop.min_length is not None:
            found.append(validators.MinLengthValidator(prop.min_length))
        if self.has_length and prop.max_length is not None:
            found.append(validators.MaxLengthValidator(prop.max_length))
        # format(..., "f"): SQLite gives back 0 as Decimal("0E-10"), which is no integer text
        if self.has_range and prop.min_value is not None:
            found.append(validators.MinValueValidator(self.parse(format(prop.min_value, "f"))))
        if self.has_range and prop.max_value is not None:
            found.append(validators.MaxValueValidator(self.parse(format(prop.max_value, "f"))))
        if self.has_pattern and prop.pattern:
            found.append(validators.RegexValidator(
                prop.pattern, message=f"Does not match the pattern {prop.pattern}."))
        return found

    def parse(self, value: Any) -> Any:
        """A stored value from a JSON value (or the text of another kind); ValueError if invalid."""
        return value

    def to_json(self, value: Any) -> Any:
        return value

    def to_text(self, value: Any) -> str:
        """Canonical text of a value: what a kind change reads it as."""
        converted = self.to_json(value)
        return converted if isinstance(converted, str) else json.dumps(converted)

    def check_settings(self, prop: Property) -> list[str]:
        """Problems with a property's settings for this kind, as messages for the builder."""
        problems = []
        if prop.default is not None:
            if not self.can_default:
                problems.append(f"A {self.label} property cannot have a default.")
            else:
                try:
                    self.parse(prop.default)
                except (ValueError, TypeError, ValidationError) as error:
                    problems.append(f"The default {prop.default!r} is not a valid {self.label}: "
                                    f"{_reason(error)}")
        if prop.unique and not self.can_unique:
            problems.append(f"A {self.label} property cannot be unique.")
        if prop.pattern:
            try:
                re.compile(prop.pattern)
            except re.error as error:
                problems.append(f"The pattern is not a valid regular expression: {error}.")
        return problems


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


class TextKind(Kind):
    name, label = "text", "text"
    searchable = has_length = has_pattern = True
    converts_from = frozenset(
        {"rich_text", "email", "url", "phone", "enum", "integer", "decimal", "price", "boolean",
         "date", "datetime", "time", "json", "auto_number"}
    )

    def make_field(self, prop, **options):
        return models.TextField(**options)

    def validators(self, prop):
        # PostgreSQL cannot store NUL in text; refused on SQLite too, so both agree.
        return [validators.ProhibitNullCharactersValidator(), *super().validators(prop)]

    def parse(self, value):
        if not isinstance(value, str):
            raise ValueError("expected a string")
        return value


class RichTextKind(TextKind):
    name, label = "rich_text", "rich text"


class EmailKind(TextKind):
    name, label = "email", "email address"

    def validators(self, prop):
        return [validators.EmailValidator(), *super().validators(prop)]

    def parse(self, value):
        value = super().parse(value).strip()
        validators.validate_email(value)
        return value


class UrlKind(TextKind):
    name, label = "url", "URL"

    def validators(self, prop):
        return [validators.URLValidator(), *super().validators(prop)]

    def parse(self, value):
        value = super().parse(value).strip()
        validators.URLValidator()(value)
        return value


PHONE_VALIDATOR = validators.RegexValidator(
    r"^\+?[0-9][0-9 ().-]{3,23}[0-9]$", "Enter a phone number, e.g. +31 20 123 4567."
)


class PhoneKind(TextKind):
    name, label = "phone", "phone number"

    def validators(self, prop):
        return [PHONE_VALIDATOR, *super().validators(prop)]

    def parse(self, value):
        value = super().parse(value).strip()
        PHONE_VALIDATOR(value)
        return value


class EnumKind(TextKind):
    name, label = "enum", "enum"
    has_length = has_pattern = False
    has_choices = True

    def make_field(self, prop, **options):
        return models.TextField(choices=[(v, v) for v in prop.enum_values], **options)

    def check_settings(self, prop):
        problems = super().check_settings(prop)
        values = prop.enum_values
        if not values or not isinstance(values, list):
            problems.append('An enum needs its options as a JSON list, e.g. ["low", "high"].')
        elif not all(isinstance(v, str) and v for v in values) or len(set(values)) != len(values):
            problems.append("Enum options must be distinct, non-empty strings.")
        return problems


class PasswordKind(Kind):
    name, label = "password", "password"
    has_length = False
    has_pattern = True  # checked on the plain text
    can_default = False
    can_unique = False
    converts_from = frozenset({"text"})
    kept_in_history = False  # not even its hash

    def make_field(self, prop, **options):
        return models.TextField(**options)

    def parse(self, value):
        """Plain text in, a hash out (values that are already hashes are kept)."""
        if not isinstance(value, str) or not value:
            raise ValueError("expected a non-empty string")
        try:
            identify_hasher(value)
            return value
        except ValueError:
            return make_password(value)

    def to_text(self, value):
        raise ValueError("password hashes cannot be read")


INTEGER_TEXT = re.compile(r"^\s*[+-]?[0-9]+(\.0*)?\s*$")


class IntegerKind(Kind):
    name, label = "integer", "integer"
    has_range = True
    converts_from = frozenset(TEXT_KINDS | {"decimal", "price", "boolean", "auto_number"})

    def make_field(self, prop, **options):
        return models.IntegerField(**options)

    def parse(self, value):
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            result = value
        elif isinstance(value, (str, decimal.Decimal, float)):
            text = str(value)
            if text in {"true", "false"}:
                return int(text == "true")
            if not INTEGER_TEXT.match(text):
                raise ValueError(f"{value!r} is not a whole number")
            result = int(decimal.Decimal(text.strip()))
        else:
            raise ValueError("expected a whole number")
        if not -(2**31) <= result < 2**31:
            raise ValueError(f"{value!r} is out of range for an integer")
        return result


class AutoNumberKind(IntegerKind):
    """A number the database assigns on creation: one more than the highest so far."""

    name, label = "auto_number", "auto number"
    can_default = False
    numbered = True
    converts_from = frozenset({"integer"})

    def make_field(self, prop, **options):
        # Assigned on insert, so never required of the writer; unique by nature.
        options.update(null=True, blank=True, unique=True, editable=False)
        return models.IntegerField(**options)


DECIMAL_TEXT = re.compile(r"^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$")


class DecimalKind(Kind):
    name, label = "decimal", "decimal"
    has_range = has_places = True
    default_places = 2
    converts_from = frozenset(TEXT_KINDS | {"integer", "decimal", "price", "auto_number"})

    def places(self, prop):
        return prop.decimal_places if prop.decimal_places is not None else self.default_places

    def make_field(self, prop, **options):
        return models.DecimalField(max_digits=30, decimal_places=self.places(prop), **options)

    def parse(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, str, decimal.Decimal, float)):
            raise ValueError("expected a decimal number, e.g. \"12.50\"")
        text = repr(value) if isinstance(value, float) else str(value)
        if not DECIMAL_TEXT.match(text):
            raise ValueError(f"{value!r} is not a decimal number")
        try:
            result = decimal.Decimal(text.strip())
        except decimal.InvalidOperation:  # an exponent beyond what decimal can hold
            raise ValueError(f"{value!r} is not a decimal number") from None
        if not result.is_finite():
            raise ValueError(f"{value!r} is not a finite number")
        return result

    def to_json(self, value):
        return None if value is None else str(value)  # exact: decimals travel as strings

    def check_settings(self, prop):
        problems = super().check_settings(prop)
        if self.places(prop) > 10:
            problems.append("A decimal has at most 10 decimal places.")
        return problems


class PriceKind(DecimalKind):
    name, label = "price", "price"
    has_places = False  # always 2

    def places(self, prop):
        return 2


class BooleanKind(Kind):
    name, label = "boolean", "boolean"
    can_unique = False
    converts_from = frozenset(TEXT_KINDS | {"integer"})
    truths = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}

    def make_field(self, prop, **options):
        return models.BooleanField(**options)

    def parse(self, value):
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in self.truths:
            return self.truths[value.strip().lower()]
        raise ValueError(f"{value!r} is not a boolean (true or false)")


class DateKind(Kind):
    name, label = "date", "date"
    converts_from = frozenset(TEXT_KINDS | {"datetime"})

    def make_field(self, prop, **options):
        return models.DateField(**options)

    def parse(self, value):
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
            return dt.date.fromisoformat(value.strip())
        if isinstance(value, str) and (moment := _parse_iso_datetime(value)):
            if moment.time() == dt.time(0):
                return moment.date()
        raise ValueError(f"{value!r} is not a date in ISO 8601 form (YYYY-MM-DD)")

    def to_json(self, value):
        return None if value is None else value.isoformat()


def _parse_iso_datetime(text: str) -> dt.datetime | None:
    try:
        return parse_datetime(text.strip())
    except ValueError:
        return None


class DateTimeKind(Kind):
    name, label = "datetime", "date and time"
    converts_from = frozenset(TEXT_KINDS | {"date"})

    def make_field(self, prop, **options):
        return models.DateTimeField(**options)

    def parse(self, value):
        if isinstance(value, dt.datetime):
            moment = value
        elif isinstance(value, dt.date):
            moment = dt.datetime.combine(value, dt.time(0))
        elif isinstance(value, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
            moment = dt.datetime.combine(dt.date.fromisoformat(value.strip()), dt.time(0))
        elif isinstance(value, str) and (parsed := _parse_iso_datetime(value)):
            moment = parsed
        else:
            raise ValueError(f"{value!r} is not a date and time in ISO 8601 form")
        if moment.tzinfo is None:  # a time without zone is read as UTC
            moment = moment.replace(tzinfo=dt.UTC)
        return moment

    def to_json(self, value):
        return None if value is None else value.isoformat()


TIME_TEXT = re.compile(r"\s*\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?\s*")


class TimeKind(Kind):
    name, label = "time", "time"
    converts_from = frozenset(TEXT_KINDS)

    def make_field(self, prop, **options):
        return models.TimeField(**options)

    def parse(self, value):
        if isinstance(value, dt.time):
            return value
        if isinstance(value, str) and TIME_TEXT.fullmatch(value):
            return dt.time.fromisoformat(value.strip())
        raise ValueError(f"{value!r} is not a time (HH:MM or HH:MM:SS)")

    def to_json(self, value):
        return None if value is None else value.isoformat()


class JsonKind(Kind):
    name, label = "json", "JSON"
    can_unique = False
    converts_from = frozenset({"text", "rich_text"})

    def make_field(self, prop, **options):
        return models.JSONField(**options)

    def parse(self, value):
        return value

    def to_text(self, value):
        return json.dumps(value)

    def default_from_text(self, text):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(
                f"not JSON ({error.msg}); strings need quotes, e.g. \"open\"") from None

    def default_as_text(self, value):
        return "" if value is None else json.dumps(value)


class FileKind(Kind):
    """A stored file: {name, key, size, contentType}; `key` is its path in Django's storage."""

    name, label = "file", "file"
    can_default = False
    can_unique = False
    converts_from = frozenset({"image"})

    def make_field(self, prop, **options):
        return models.JSONField(**options)

    def parse(self, value):
        if not (isinstance(value, dict) and isinstance(value.get("key"), str)):
            raise ValueError("expected a stored file ({name, key, size, contentType})")
        return {k: value.get(k) for k in ("name", "key", "size", "contentType")}

    def takes(self, content_type: str) -> bool:
        """Whether a file of this (detected) content type may be its value."""
        return True


class ImageKind(FileKind):
    name, label = "image", "image"
    converts_from = frozenset({"file"})

    def takes(self, content_type: str) -> bool:
        return content_type in IMAGE_TYPES

    def parse(self, value):
        stored = super().parse(value)
        if not self.takes(stored["contentType"]):
            raise ValueError(f"the file is {stored['contentType'] or 'of no known type'}, not "
                             "a PNG, JPEG, GIF or WebP image; upload one of those")
        return stored


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        TextKind(), RichTextKind(), IntegerKind(), DecimalKind(), PriceKind(), BooleanKind(),
        DateKind(), DateTimeKind(), TimeKind(), EmailKind(), UrlKind(), PhoneKind(), EnumKind(),
        JsonKind(), FileKind(), ImageKind(), PasswordKind(), AutoNumberKind(),
    )
}
KIND_CHOICES = [(kind.name, kind.label) for kind in KINDS.values()]


def convert_value(value: Any, source: Kind, target: Kind) -> Any:
    """A value of `source` kind as a value of `target` kind; ValueError when it cannot be."""
    if value is None:
        return None
    if source is target or type(target) is type(source):
        return target.parse(source.to_json(value))
    if isinstance(target, JsonKind):
        return json.loads(value)
    if isinstance(target, FileKind):
        return target.parse(value)
    return target.parse(source.to_text(value))
