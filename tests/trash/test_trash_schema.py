"""The schema of a model with a trash: its unique rules hold among the records outside the
trash through every later change of its properties (added unique, made unique or not,
renamed, of another kind, removed), the trash turned off and on again, on both databases."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from models_registry import changes


def unique_holds(cls, attname: str) -> bool:
    """Whether a second record outside the trash with a value is refused, while one in the
    trash with it is not in the way."""
    cls._base_manager.create(**{attname: "taken"}, deleted_at=timezone.now())
    cls.objects.create(**{attname: "taken"})  # beside one in the trash: allowed
    try:
        with transaction.atomic():
            cls.objects.create(**{attname: "taken"})
    except IntegrityError:
        return True
    finally:
        cls._base_manager.all().delete()
    return False


@pytest.mark.django_db(transaction=True)
def test_unique_rules_follow_every_change_of_a_model_with_a_trash(make_app, classes):
    app = make_app()
    lead = changes.create_model(app, "Lead", trash=True)
    email = changes.add_property(lead, "email", "text", unique=True)
    cls = classes(app).by_name["Lead"]
    assert unique_holds(cls, email.attname)

    changes.alter_property(email, unique=False)
    assert not unique_holds(classes(app).by_name["Lead"], email.attname)
    changes.alter_property(email, unique=True, name="mail")
    assert unique_holds(classes(app).by_name["Lead"], email.attname)
    number = changes.add_property(lead, "number", "integer", unique=True)
    changes.alter_property(number, kind="text")  # a column of another type, written anew
    assert unique_holds(classes(app).by_name["Lead"], number.attname)

    changes.set_trash(lead, False)
    plain = classes(app).by_name["Lead"]
    assert not hasattr(plain, "deleted_at") and plain._meta.get_field(email.attname).unique
    changes.set_trash(lead, True)
    assert unique_holds(classes(app).by_name["Lead"], email.attname)

    changes.delete_property(email)
    changes.add_property(lead, "code", "text", unique=True)
    code = classes(app).by_name["Lead"]._mortar.properties["code"].attname
    assert unique_holds(classes(app).by_name["Lead"], code)
    owner = changes.add_relation(lead, "owner", changes.create_model(app, "Agent"), "leads")
    assert unique_holds(classes(app).by_name["Lead"], code)  # SQLite made the table anew
    changes.delete_relation(owner)
    assert unique_holds(classes(app).by_name["Lead"], code)


@pytest.mark.django_db(transaction=True)
def test_the_trash_takes_its_field_name(make_app):
    app = make_app()
    lead = changes.create_model(app, "Lead")
    changes.add_property(lead, "deletedAt", "datetime")
    with pytest.raises(changes.SchemaChangeError, match="has a field named deletedAt"):
        changes.set_trash(lead, True)
    other = changes.create_model(app, "Note", trash=True)
    with pytest.raises(changes.SchemaChangeError, match="deletedAt"):
        changes.add_property(other, "deletedAt", "datetime")
