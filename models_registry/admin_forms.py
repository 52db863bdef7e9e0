"""Admin forms for data models, properties and relations.

`clean()` runs the checks of the schema change it stands for (`changes.*_problems`), so a
refusal shows on the field to fix. The inline formsets' `save()` applies each row through
`changes` instead of saving the metadata row: that is what creates, alters and drops columns.
"""

from __future__ import annotations

import abc
import copy

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet

from . import changes
from .kinds import KINDS, Kind
from .models import DataModel, Property, Relation

PROPERTY_FIELDS = [
    "name", "kind", "required", "unique", "default", "min_value", "max_value", "min_length",
    "max_length", "pattern", "enum_values", "decimal_places",
]  # fmt: skip
RELATION_FIELDS = ["source_field", "kind", "target", "target_field", "on_delete"]
# What update_relation may change; a relation's kind and models are fixed once it exists.
RELATION_EDITABLE = ["source_field", "target_field", "on_delete"]


def add_problems(form: forms.BaseForm, problems: dict[str, list[str]]) -> None:
    """Attach `changes.*_problems` messages to the form fields they name (else to the form)."""
    for field, messages in problems.items():
        form.add_error(field if field in form.fields else None, messages)


class DataModelForm(forms.ModelForm):
    class Meta:
        model = DataModel
        fields = ["application", "name", "trash"]

    def clean(self):
        cleaned = super().clean()
        application = cleaned.get("application")
        if application is None and self.instance.application_id:
            application = self.instance.application
        name = cleaned.get("name")
        if application is not None and name:
            problems = changes.model_name_problems_in(application, name, self.instance.pk)
            add_problems(self, {"name": problems} if problems else {})
        if self.instance.pk is not None and "trash" in cleaned:
            stored = DataModel.objects.get(pk=self.instance.pk)
            problems = changes.trash_problems(stored, cleaned["trash"])
            add_problems(self, {"trash": problems} if problems else {})
        return cleaned


class SchemaChangeForm(forms.ModelForm):
    """An inline row whose clean() runs the checks of the schema change it stands for."""

    checked_fields: list[str] = []
    # changes.property_problems or changes.relation_problems: (candidate, previous) -> problems
    check = None

    def clean(self):
        cleaned = super().clean()
        if self.errors or cleaned.get("DELETE") or not self.has_changed():
            return cleaned
        # The instance still holds the stored values here (the form copies its values into it
        # only after clean()), so it is the "previous" of a change.
        previous = self.instance if self.instance.pk else None
        candidate = copy.copy(self.instance)
        for name in self.checked_fields:
            if name in cleaned:  # a field the form leaves out keeps its stored value
                setattr(candidate, name, cleaned[name])
        add_problems(self, type(self).check(candidate, previous))
        return cleaned


class EnumOptionsField(forms.CharField):
    """Enum options typed one per line, kept as a list."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 24})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value) -> list[str]:
        return [line.strip() for line in (value or "").splitlines() if line.strip()]


# What an option the kind does not use is set to when the kind changes: nothing hidden stays
# in force.
UNUSED_OPTION = {
    "unique": False, "default": None, "min_value": None, "max_value": None,
    "min_length": None, "max_length": None, "pattern": "", "enum_values": [],
    "decimal_places": None,
}  # fmt: skip


class PropertyForm(SchemaChangeForm):
    """A property's settings. Defaults are typed as values of the kind (`open`, `3`, `true`,
    `2024-01-31`; JSON for a JSON property), enum options one per line."""

    checked_fields = PROPERTY_FIELDS
    check = changes.property_problems

    class Meta:
        model = Property
        fields = PROPERTY_FIELDS
        widgets = {
            "name": forms.TextInput(attrs={"size": 14}),
            "pattern": forms.TextInput(attrs={"size": 30}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "default" in self.fields:
            self.fields["default"] = forms.CharField(
                required=False,
                widget=forms.TextInput(attrs={"size": 12}),
                help_text="A value of the kind, e.g. open, 3, true or 2024-01-31.",
            )
            self.initial["default"] = KINDS[self.instance.kind].default_as_text(
                self.instance.default
            )
        if "enum_values" in self.fields:
            self.fields["enum_values"] = EnumOptionsField(
                required=False, label="enum options", help_text="One option per line."
            )

    def clean(self):
        kind = KINDS.get(self.cleaned_data.get("kind", self.instance.kind))
        if kind is not None:
            self.clean_for_kind(kind)
        return super().clean()

    def clean_for_kind(self, kind: Kind) -> None:
        """Read the default as a value of the chosen kind; ask for an enum's options where they
        are entered."""
        text = self.cleaned_data.get("default")
        if "default" in self.fields and isinstance(text, str):
            self.cleaned_data["default"] = None
            if text.strip() and not kind.can_default:
                self.cleaned_data["default"] = text  # the kind's check says why not
            elif text.strip():
                try:
                    self.cleaned_data["default"] = kind.default_from_text(text.strip())
                except (ValueError, TypeError, ValidationError) as error:
                    reason = " ".join(error.messages) if isinstance(error, ValidationError) \
                        else str(error)
                    self.add_error("default", f"The default is no {kind.label}: {reason}. "
                                   "Correct it, or leave it empty for none.")
        # The model page's rows have no options field: an enum row left as it was keeps its
        # options; a row becoming an enum there could not enter them.
        becomes_enum = self.instance.pk is None or "kind" in self.changed_data
        if kind.has_choices and "enum_values" not in self.fields and becomes_enum:
            self.add_error("kind", "An enum's options are entered on the property's own page: "
                           + ("follow its options link to make it an enum."
                              if self.instance.pk else
                              "add it with “Add a property with its options” at the top."))
        elif (kind.has_choices and "enum_values" in self.fields
              and not self.cleaned_data.get("enum_values")):
            self.add_error("enum_values", "Enter the enum's options, one per line.")

    def changed_settings(self) -> dict:
        """What saving this form changes: the edited settings, and the options the (new) kind
        does not use, reset."""
        changed = {f: self.cleaned_data[f] for f in self.changed_data if f in PROPERTY_FIELDS}
        options = KINDS[self.cleaned_data.get("kind", self.instance.kind)].options
        for name, unused in UNUSED_OPTION.items():
            if name not in options and getattr(self.instance, name) != unused:
                changed[name] = unused
        return changed


class PropertyPageForm(PropertyForm):
    """The property's own page, where it is added with its model chosen on the form."""

    checked_fields = ["data_model", *PROPERTY_FIELDS]


class RelationTargetField(forms.ModelChoiceField):
    """Offers the models of the source's application but accepts any model, so that a target
    from another application reaches `relation_problems` and is refused with its message rather
    than with "select a valid choice"."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return DataModel.objects.get(pk=value)
        except (ValueError, TypeError, DataModel.DoesNotExist) as error:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from error


class RelationForm(SchemaChangeForm):
    checked_fields = RELATION_FIELDS
    check = changes.relation_problems

    class Meta:
        model = Relation
        fields = RELATION_FIELDS
        labels = {
            "source_field": "field on this model",
            "target": "related model",
            "target_field": "field on the related model",
        }
        widgets = {
            "source_field": forms.TextInput(attrs={"size": 14}),
            "target_field": forms.TextInput(attrs={"size": 14}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:  # fixed once the relation exists: shown, not editable
            for name in ("kind", "target"):
                self.fields[name].disabled = True



class SchemaFormSet(BaseInlineFormSet, abc.ABC):
    """An inline formset whose save applies its rows as schema changes: deletions first, then
    changes, then additions. Each change checks again and raises SchemaChangeError if refused;
    the admin's transaction then rolls the whole save back."""

    def save(self, commit: bool = True) -> list[models.Model]:
        # The admin's change message reads these three lists.
        self.new_objects, self.changed_objects, self.deleted_objects = [], [], []
        deleted = set(self.deleted_forms) if self.can_delete else set()
        for form in self.initial_forms:
            if form in deleted:
                self.delete_row(form.instance)
                self.deleted_objects.append(form.instance)
        for form in self.initial_forms:
            if form not in deleted and form.has_changed():
                self.change_row(form)
                self.changed_objects.append((form.instance, form.changed_data))
        for form in self.extra_forms:
            if form not in deleted and form.has_changed():
                self.new_objects.append(self.add_row(form))
        return [*self.new_objects, *(obj for obj, _ in self.changed_objects)]

    @abc.abstractmethod
    def delete_row(self, instance: models.Model) -> None:
        """Apply this row through `changes`."""

    @abc.abstractmethod
    def change_row(self, form: forms.ModelForm) -> None:
        """Apply this row through `changes`."""

    @abc.abstractmethod
    def add_row(self, form: forms.ModelForm) -> models.Model:
        """Apply this row through `changes`."""


class PropertyFormSet(SchemaFormSet):
    def delete_row(self, instance: Property) -> None:
        changes.delete_property(instance)

    def change_row(self, form: PropertyForm) -> None:
        changes.alter_property(form.instance, **form.changed_settings())

    def add_row(self, form: PropertyForm) -> Property:
        settings = {f: form.cleaned_data[f] for f in PROPERTY_FIELDS if f in form.cleaned_data}
        name, kind = settings.pop("name"), settings.pop("kind")
        return changes.add_property(self.instance, name, kind, **settings)


class RelationFormSet(SchemaFormSet):
    def delete_row(self, instance: Relation) -> None:
        changes.delete_relation(instance)

    def change_row(self, form: RelationForm) -> None:
        changed = {f: form.cleaned_data[f] for f in form.changed_data if f in RELATION_EDITABLE}
        changes.update_relation(form.instance, **changed)

    def add_row(self, form: RelationForm) -> Relation:
        data = form.cleaned_data
        return changes.add_relation(
            self.instance,
            data["source_field"],
            data["target"],
            data["target_field"],
            kind=data["kind"],
            on_delete=data["on_delete"],
        )
