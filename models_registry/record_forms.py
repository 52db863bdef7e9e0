"""The admin's record form: a ModelForm over a runtime class, labelled with user names.

It has a field per property (auto numbers excepted: the database assigns them) and per relation
of which the model is the source. The model's validations (required, unique, lengths, ranges,
pattern, enum options, email/url/phone) come from the runtime fields' validators through
ModelForm's model validation. Passwords and files are not typed in as the values kept: their
inputs are form-only fields, and an `Entry` turns what was entered into what is stored.
"""

from __future__ import annotations

from functools import partial
from typing import Any, TypeVar

from django import forms
from django.contrib.admin import widgets as admin_widgets
from django.contrib.admin.options import FORMFIELD_FOR_DBFIELD_DEFAULTS
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.forms.models import modelform_factory

from .files import IMAGE_TYPES, file_url, read_content_type, store_file
from .kinds import (
    KINDS,
    EmailKind,
    FileKind,
    ImageKind,
    Kind,
    PasswordKind,
    RichTextKind,
    TextKind,
    UrlKind,
)
from .models import Property
from .runtime import RuntimeRecord

T = TypeVar("T")


def for_kind(table: dict[type, T], kind: Kind) -> T | None:
    """The entry of `kind`'s class, or of its nearest base class, in a table keyed by kinds."""
    for kind_class in type(kind).__mro__:
        if kind_class in table:
            return table[kind_class]
    return None


# -- passwords and files: entered one way, stored another -----------------------------------


class PasswordEntry:
    """Typed in plain, stored hashed; left empty on an edit, the current hash stays."""

    def form_field(self, prop: Property, model_field: models.Field, current: Any) -> forms.Field:
        return forms.CharField(
            label=prop.name,
            required=not model_field.blank and not current,
            strip=False,
            widget=forms.PasswordInput(render_value=False),
            validators=model_field.validators,  # checked on the plain text, not on the hash
            help_text="Leave empty to keep the current password." if current else "",
        )

    def initial(self, current: Any, slug: str) -> None:
        return None  # a hash is never sent to the browser

    def stored_value(self, entered: Any, current: Any) -> Any:
        return make_password(entered) if entered else current


class StoredFileLink:
    """A stored file as Django's file input shows it: its name, linked to its signed URL."""

    def __init__(self, slug: str, stored: dict):
        self.stored = stored
        self.url = file_url(slug, stored)

    def __str__(self) -> str:
        return self.stored.get("name") or self.stored["key"]


class UploadField(forms.FileField):
    widget = admin_widgets.AdminFileWidget

    def __init__(self, *, images_only: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.images_only = images_only

    def clean(self, data, initial=None):
        value = super().clean(data, initial)
        if self.images_only and isinstance(value, UploadedFile):
            content_type = read_content_type(value)  # what the browser says is not trusted
            if content_type not in IMAGE_TYPES:
                raise ValidationError(
                    f"{value.name} is not a PNG, JPEG, GIF or WebP image ({content_type}); "
                    "upload one of those.",
                    code="not_an_image",
                )
        return value


class FileEntry:
    """Uploaded through Django's file input; stored with `store_file`. No new upload keeps the
    current file; ticking "clear" removes it."""

    def __init__(self, images_only: bool = False):
        self.images_only = images_only

    def form_field(self, prop: Property, model_field: models.Field, current: Any) -> forms.Field:
        return UploadField(
            label=prop.name, required=not model_field.blank, images_only=self.images_only
        )

    def initial(self, current: Any, slug: str) -> StoredFileLink | None:
        return StoredFileLink(slug, current) if current else None

    def stored_value(self, entered: Any, current: Any) -> Any:
        if entered is False:
            return None
        if isinstance(entered, UploadedFile):
            return store_file(entered.name, entered)
        return current


ENTRIES = {PasswordKind: PasswordEntry(), FileKind: FileEntry(), ImageKind: FileEntry(True)}

# Widgets by kind where the storage field's admin widget does not fit (all text kinds are
# TextFields: only rich text wants a text area).
WIDGETS = {
    TextKind: admin_widgets.AdminTextInputWidget,
    RichTextKind: admin_widgets.AdminTextareaWidget,
    EmailKind: admin_widgets.AdminEmailInputWidget,
    UrlKind: admin_widgets.AdminURLFieldWidget,
}


# -- the form -------------------------------------------------------------------------------


class RecordForm(forms.ModelForm):
    required_css_class = "required"  # the admin's bold label
    entries: dict[str, tuple[Property, PasswordEntry | FileEntry]] = {}
    slug: str  # the application's: file links are signed for it

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for attname, (prop, entry) in self.entries.items():
            current = getattr(self.instance, attname)
            model_field = self.instance._meta.get_field(attname)
            self.fields[attname] = entry.form_field(prop, model_field, current)
            self.initial[attname] = entry.initial(current, self.slug)
        self.order_fields(self.field_order)

    def save(self, commit: bool = True) -> RuntimeRecord:
        for attname, (_, entry) in self.entries.items():
            current = getattr(self.instance, attname)
            entered = self.cleaned_data.get(attname)
            setattr(self.instance, attname, entry.stored_value(entered, current))
        return super().save(commit)

    def changed_fields(self) -> list[str]:
        """The API names of the fields the builder set (labels are the user names)."""
        return [str(self.fields[name].label) for name in self.changed_data]


def record_form_class(cls: type[RuntimeRecord]) -> type[RecordForm]:
    """The admin form for records of the runtime class `cls`."""
    spec = cls._mortar
    kinds: dict[str, Kind] = {}
    entries: dict[str, tuple[Property, PasswordEntry | FileEntry]] = {}
    model_fields, labels, error_messages = [], {}, {}
    for prop in spec.properties.values():
        if not cls._meta.get_field(prop.attname).editable:
            continue
        labels[prop.attname] = prop.name
        # Django's message would capitalise the name (`endDate` -> "EndDate").
        error_messages[prop.attname] = {
            "unique": f"{spec.name} with this {prop.name} already exists."
        }
        entry = for_kind(ENTRIES, KINDS[prop.kind])
        if entry is not None:
            entries[prop.attname] = (prop, entry)
        else:
            kinds[prop.attname] = KINDS[prop.kind]
            model_fields.append(prop.attname)
    for name, end in spec.ends.items():
        if end.side == "source":
            attname = end.attname
            labels[attname] = name
            model_fields.append(attname)
    base = type(
        f"{cls.__name__}Form",
        (RecordForm,),
        {
            "entries": entries,
            "field_order": list(labels),
            "slug": spec.data_model.application.slug,
        },
    )
    return modelform_factory(
        cls,
        form=base,
        fields=model_fields,
        labels=labels,
        error_messages=error_messages,
        formfield_callback=partial(_model_form_field, kinds),
    )


def _model_form_field(kinds: dict[str, Kind], db_field: models.Field, **kwargs) -> forms.Field:
    """The admin's form field for a runtime field: admin widgets, by kind where it matters."""
    if not db_field.choices:  # enums keep their select
        defaults = next(
            (
                FORMFIELD_FOR_DBFIELD_DEFAULTS[field_class]
                for field_class in type(db_field).__mro__
                if field_class in FORMFIELD_FOR_DBFIELD_DEFAULTS
            ),
            {},
        )
        widget = for_kind(WIDGETS, kinds[db_field.name]) if db_field.name in kinds else None
        kwargs = {**defaults, **({"widget": widget} if widget else {}), **kwargs}
    return db_field.formfield(**kwargs)
