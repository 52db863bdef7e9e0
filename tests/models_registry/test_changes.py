"""Schema changes on tables with rows: data is kept, conversions are exact, failures change
nothing (no DDL, no metadata, no new schema version)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from models_registry import changes
from models_registry.models import Application, DataModel, Property, Relation

from ..conftest import record_values


def table_columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return {c.name for c in connection.introspection.get_table_description(cursor, table)}


def tables() -> set[str]:
    return set(connection.introspection.table_names())


def column_constraints(table: str, column: str) -> list[dict]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return [c for c in found.values() if c["columns"] == [column]]


def version(app: Application) -> int:
    return Application.objects.get(pk=app.pk).schema_version


@pytest.fixture
def tasks(make_app, make_model, classes):
    """An application with a Task model holding three records."""
    app = make_app()
    task = make_model(app, "Task", name="text", code="text")
    Task = classes(app)["Task"]
    attname = Task._mortar.attname
    for name, code in [("one", "42"), ("two", "7"), ("three", None)]:
        Task.objects.create(**{attname("name"): name, attname("code"): code})
    return app, task


def test_model_table_is_named_by_id_and_survives_rename(tasks, classes):
    app, task = tasks
    assert f"mortar_t{task.pk}" in tables()
    before = version(app)

    changes.rename_model(task, "Job")

    assert version(app) == before + 1
    assert f"mortar_t{task.pk}" in tables()
    assert record_values(classes(app)["Job"], "name") == [("one",), ("two",), ("three",)]


def test_delete_model_drops_its_table(tasks):
    app, task = tasks
    changes.delete_model(task)
    assert f"mortar_t{task.pk}" not in tables()
    assert not DataModel.objects.filter(pk=task.pk).exists()


def test_add_nullable_property_keeps_rows(tasks, classes):
    app, task = tasks
    changes.add_property(task, "endDate", "date")
    assert record_values(classes(app)["Task"], "name", "endDate") == [
        ("one", None), ("two", None), ("three", None)]


def test_add_required_property_fills_existing_rows_with_its_default(tasks, classes):
    app, task = tasks
    changes.add_property(task, "done", "boolean", required=True, default=False)
    changes.add_property(task, "status", "enum", required=True, default="open",
                         enum_values=["open", "closed"])
    Task = classes(app)["Task"]
    assert record_values(Task, "done", "status") == [(False, "open")] * 3
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(**{Task._mortar.attname("done"): None})


def test_add_required_property_without_default_is_refused_on_a_table_with_rows(tasks):
    app, task = tasks
    before = version(app)
    with pytest.raises(changes.SchemaChangeError, match="has 3 records.*needs a default"):
        changes.add_property(task, "endDate", "date", required=True)
    assert version(app) == before
    assert not Property.objects.filter(data_model=task, name="endDate").exists()


def test_rename_property_changes_metadata_only(tasks, classes):
    app, task = tasks
    code = task.properties.get(name="code")
    changes.alter_property(code, name="externalCode")
    assert f"p{code.pk}" in table_columns(task.table_name)
    assert record_values(classes(app)["Task"], "externalCode") == [("42",), ("7",), (None,)]


def test_text_to_integer_converts_values(tasks, classes):
    app, task = tasks
    changes.alter_property(task.properties.get(name="code"), kind="integer")
    Task = classes(app)["Task"]
    assert record_values(Task, "code") == [(42,), (7,), (None,)]
    assert Task.objects.filter(**{Task._mortar.attname("code") + "__gt": 10}).count() == 1


def test_integer_to_decimal_and_text_to_date(make_app, make_model, classes):
    app = make_app()
    item = make_model(app, "Item", amount="integer", due="text")
    Item = classes(app)["Item"]
    attname = Item._mortar.attname
    Item.objects.create(**{attname("amount"): 12, attname("due"): "2024-02-29"})
    Item.objects.create(**{attname("amount"): -3, attname("due"): None})

    changes.alter_property(item.properties.get(name="amount"), kind="decimal", decimal_places=3)
    changes.alter_property(item.properties.get(name="due"), kind="date")

    assert record_values(classes(app)["Item"], "amount", "due") == [
        (Decimal("12.000"), dt.date(2024, 2, 29)), (Decimal("-3.000"), None)]


def test_failed_conversion_says_how_many_rows_and_changes_nothing(tasks, classes):
    app, task = tasks
    name = task.properties.get(name="name")
    before = version(app)
    with pytest.raises(changes.SchemaChangeError) as refused:
        changes.alter_property(name, kind="integer")
    assert "3 records have a name that cannot be converted to integer" in refused.value.message
    assert "'one'" in refused.value.message
    assert Property.objects.get(pk=name.pk).kind == "text"
    assert version(app) == before
    assert record_values(classes(app)["Task"], "name") == [("one",), ("two",), ("three",)]


def test_kind_change_that_no_value_survives_is_refused_outright(tasks):
    app, task = tasks
    with pytest.raises(changes.SchemaChangeError, match="cannot become a file"):
        changes.alter_property(task.properties.get(name="code"), kind="file")


def test_conversion_failing_inside_the_transaction_rolls_back(tasks, classes, monkeypatch):
    """A value that appears between the check and the change (a race) fails the change inside
    its transaction: metadata already saved there and the DDL are rolled back too."""
    app, task = tasks
    code = task.properties.get(name="code")
    Task = classes(app)["Task"]
    calls = []
    original = changes._convert_rows

    def convert_after_a_racing_write(cls, previous, prop):
        calls.append(connection.in_atomic_block)
        if connection.in_atomic_block:  # the second pass, inside the schema change
            Task.objects.create(**{Task._mortar.attname("code"): "not a number"})
        return original(cls, previous, prop)

    monkeypatch.setattr(changes, "_convert_rows", convert_after_a_racing_write)
    with pytest.raises(changes.SchemaChangeError, match="1 records have a code"):
        changes.alter_property(code, kind="integer")

    assert calls == [False, True]
    assert Property.objects.get(pk=code.pk).kind == "text"
    assert version(app) == app.schema_version
    assert record_values(classes(app)["Task"], "code") == [("42",), ("7",), (None,)]


def test_required_needs_a_default_when_values_are_missing(tasks, classes):
    app, task = tasks
    code = task.properties.get(name="code")
    with pytest.raises(changes.SchemaChangeError, match="1 of 3 Task records have no code"):
        changes.alter_property(code, required=True)
    changes.alter_property(code, required=True, default="none")
    assert record_values(classes(app)["Task"], "code") == [("42",), ("7",), ("none",)]


def test_unique_refused_with_duplicates_then_enforced_by_an_index(tasks, classes):
    app, task = tasks
    Task = classes(app)["Task"]
    Task.objects.create(**{Task._mortar.attname("code"): "42"})
    code = task.properties.get(name="code")
    with pytest.raises(changes.SchemaChangeError, match="1 values of code occur more than once"):
        changes.alter_property(code, unique=True)

    Task.objects.filter(**{Task._mortar.attname("code"): "42"}).last().delete()
    changes.alter_property(code, unique=True)

    assert any(c["unique"] for c in column_constraints(task.table_name, f"p{code.pk}"))
    Task = classes(app)["Task"]
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(**{Task._mortar.attname("code"): "7"})


def test_delete_property_keeps_the_others(tasks, classes):
    app, task = tasks
    code = task.properties.get(name="code")
    changes.delete_property(code)
    assert f"p{code.pk}" not in table_columns(task.table_name)
    assert record_values(classes(app)["Task"], "name") == [("one",), ("two",), ("three",)]


def test_relations_get_indexed_columns_and_link_tables(tasks, make_model, classes):
    app, task = tasks
    project = make_model(app, "Project", name="text")
    tag = make_model(app, "Tag", name="text")
    belongs = changes.add_relation(task, "project", project, "tasks")
    many = changes.add_relation(task, "tags", tag, "tasks", kind="has_and_belongs_to_many")

    assert any(c["index"] or c["foreign_key"]
               for c in column_constraints(task.table_name, f"r{belongs.pk}"))
    assert f"mortar_j{many.pk}" in tables()
    built = classes(app)
    Task, Project, Tag = built["Task"], built["Project"], built["Tag"]
    website = Project.objects.create()
    first = Task.objects.order_by("id").first()
    setattr(first, f"r{belongs.pk}", website)
    first.save()
    getattr(first, f"m{many.pk}").add(Tag.objects.create(), Tag.objects.create())
    assert getattr(website, f"r{belongs.pk}_set").count() == 1
    assert getattr(first, f"m{many.pk}").count() == 2

    changes.delete_relation(many)
    assert f"mortar_j{many.pk}" not in tables()


def test_deleting_a_related_model_is_refused(tasks, make_model):
    app, task = tasks
    project = make_model(app, "Project", name="text")
    changes.add_relation(task, "project", project, "tasks")
    with pytest.raises(changes.SchemaChangeError, match="delete those relations first"):
        changes.delete_model(project)
    assert DataModel.objects.filter(pk=project.pk).exists()


def test_has_many_is_stored_as_the_inverse_belongs_to(tasks, make_model):
    app, task = tasks
    artist = make_model(app, "Artist", name="text")
    relation = changes.add_relation(artist, "tasks", task, "artist", kind="has_many")
    assert (relation.kind, relation.source, relation.source_field) == ("belongs_to", task, "artist")


def test_relation_to_another_applications_model_is_refused(tasks, make_app, make_model):
    app, task = tasks
    other = make_model(make_app("other"), "Project", name="text")
    with pytest.raises(changes.SchemaChangeError, match="belongs to another application"):
        changes.add_relation(task, "project", other, "tasks")
    assert not Relation.objects.exists()


@pytest.mark.parametrize("on_delete,expected", [("nullify", [None]), ("cascade", [])])
def test_deleting_a_record_follows_the_relation_setting(make_app, make_model, classes,
                                                        on_delete, expected):
    app = make_app()
    task, project = make_model(app, "Task"), make_model(app, "Project")
    relation = changes.add_relation(task, "project", project, "tasks", on_delete=on_delete)
    built = classes(app)
    website = built["Project"].objects.create()
    built["Task"].objects.create(**{f"r{relation.pk}": website})
    website.delete()
    assert list(built["Task"].objects.values_list(f"r{relation.pk}", flat=True)) == expected


@pytest.mark.parametrize(
    "name,message",
    [
        ("task", "not a valid model name"),
        ("Web User", "not a valid model name"),
        ("Query", "reserved"),
        ("TaskInput", "clashes with the type 'TaskInput' generated for model 'Task'"),
        ("TaskSortFieldsInput", "clashes with the type 'TaskSortFieldsInput' generated for"),
        ("TaskSort", "'TaskSort' and the model 'Task' would both generate 'TaskSortInput'"),
        ("ManyTask", "'ManyTask' and the model 'Task' would both generate 'createManyTask'"),
        ("StringFilter", "'StringFilter' is reserved by the API"),
        ("GenerateJwtResult", "'GenerateJwtResult' is reserved by the API"),
        ("ManyRelation", "would generate the type 'ManyRelationInput', which the API has"),
        ("TASK", "already a model named 'Task'"),
    ],
)
def test_bad_model_names_are_refused(tasks, name, message):
    app, _ = tasks
    with pytest.raises(changes.SchemaChangeError, match=message):
        changes.create_model(app, name)


@pytest.mark.parametrize(
    "name,message",
    [
        ("id", "system or reserved field"),
        ("createdAt", "system or reserved field"),
        ("EndDate", "not a valid field name"),
        ("end_date", "not a valid field name"),
        ("2nd", "not a valid field name"),
        ("name", "already has a field named 'name'"),
    ],
)
def test_bad_property_names_are_refused(tasks, name, message):
    app, task = tasks
    with pytest.raises(changes.SchemaChangeError, match=message):
        changes.add_property(task, name, "text")


def test_relation_field_may_not_clash_with_a_property(tasks, make_model):
    app, task = tasks
    project = make_model(app, "Project", name="text")
    with pytest.raises(changes.SchemaChangeError, match="Task already has a field named 'name'"):
        changes.add_relation(task, "name", project, "tasks")
    with pytest.raises(changes.SchemaChangeError, match="Project already has a field named"):
        changes.add_relation(task, "project", project, "name")


def test_an_enum_needs_options_and_defaults_must_fit_the_kind(tasks):
    app, task = tasks
    with pytest.raises(changes.SchemaChangeError, match="enum needs its options"):
        changes.add_property(task, "level", "enum")
    with pytest.raises(changes.SchemaChangeError, match="not a valid integer"):
        changes.add_property(task, "size", "integer", default="big")


def test_kind_change_keeps_required_and_unique(make_app, make_model, classes):
    app = make_app()
    item = make_model(app, "Item")
    code = changes.add_property(item, "code", "text", required=True, unique=True)
    Item = classes(app)["Item"]
    for value in ("1", "2"):
        Item.objects.create(**{f"p{code.pk}": value})

    changes.alter_property(code, kind="integer")

    Item = classes(app)["Item"]
    assert record_values(Item, "code") == [(1,), (2,)]
    assert any(c["unique"] for c in column_constraints(item.table_name, f"p{code.pk}"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.create(**{f"p{code.pk}": 1})
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.create(**{f"p{code.pk}": None})


def test_number_ranges_apply_including_zero(make_app, make_model, classes):
    app = make_app()
    person = make_model(app, "Person")
    age = changes.add_property(person, "age", "integer", min_value=0, max_value=150)
    Person = classes(app)["Person"]
    from django.core.exceptions import ValidationError

    Person(**{f"p{age.pk}": 0}).full_clean()
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        Person(**{f"p{age.pk}": -1}).full_clean()
    with pytest.raises(ValidationError, match="less than or equal to 150"):
        Person(**{f"p{age.pk}": 151}).full_clean()
