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
        fields = ["application", "name"]

    def clean(self):
        cleaned = super().clean()
        application = cleaned.get("application")
        if application is None and self.instance.application_id:
            application = self.instance.application
        name = cleaned.get("name")
        if application is not None and name:
            problems = changes.model_name_problems_in(application, name, self.instance.pk)
            add_problems(self, {"name": problems} if problems else {})
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
            setattr(candidate, name, cleaned[name])
        add_problems(self, type(self).check(candidate, previous))
        return cleaned


class PropertyForm(SchemaChangeForm):
    checked_fields = PROPERTY_FIELDS
    check = changes.property_problems

    class Meta:
        model = Property
        fields = PROPERTY_FIELDS
        widgets = {
            "name": forms.TextInput(attrs={"size": 14}),
            "default": forms.TextInput(attrs={"size": 10}),
            "pattern": forms.TextInput(attrs={"size": 10}),
            "enum_values": forms.TextInput(attrs={"size": 16}),
            "min_value": forms.NumberInput(attrs={"style": "width: 6em"}),
            "max_value": forms.NumberInput(attrs={"style": "width: 6em"}),
            "min_length": forms.NumberInput(attrs={"style": "width: 5em"}),
            "max_length": forms.NumberInput(attrs={"style": "width: 5em"}),
            "decimal_places": forms.NumberInput(attrs={"style": "width: 4em"}),
        }

    def clean_enum_values(self) -> list:
        return self.cleaned_data["enum_values"] or []  # an empty input means no options



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
        changed = {f: form.cleaned_data[f] for f in form.changed_data if f in PROPERTY_FIELDS}
        changes.alter_property(form.instance, **changed)

    def add_row(self, form: PropertyForm) -> Property:
        settings = {f: form.cleaned_data[f] for f in PROPERTY_FIELDS}
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
