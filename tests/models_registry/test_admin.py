"""The builders' admin through Django's test client: schema changes and the record browser."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from models_registry import changes
from models_registry.kinds import KINDS
from models_registry.models import Application, DataModel, Property, Relation
from tests.conftest import record_values

PNG_BYTES = b"\x89PNG\r\n\x1a\n..."  # a PNG's signature: the admin reads the type from it

# -- helpers --------------------------------------------------------------------------------


def admin_url(name: str, *args) -> str:
    return reverse(f"admin:models_registry_{name}", args=args)


def page_text(response) -> str:
    return response.content.decode()


def shows(response, message: str) -> bool:
    """Whether the page shows `message` (as the template escapes it)."""
    return escape(message) in page_text(response)


def table_exists(table: str) -> bool:
    return table in connection.introspection.table_names()


def table_columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return {col.name for col in connection.introspection.get_table_description(cursor, table)}


def form_value(value) -> str | None:
    """A value as a browser posts it; None for an unticked checkbox (not sent at all)."""
    if value is True:
        return "on"
    if value is False or value is None:
        return None
    return str(value)


def inline_formset(prefix: str, rows: list[dict]) -> dict:
    """POST data of an admin inline: its management form and one form per row. Rows with an
    `id` are existing objects and must come first."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(sum(1 for row in rows if "id" in row)),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            if form_value(value) is not None:
                data[f"{prefix}-{index}-{key}"] = form_value(value)
    return data


def property_row(prop: Property | None = None, **values) -> dict:
    """A row of the properties inline (the settings every kind has): a new one, or `prop` as
    shown, with `values` changed."""
    row = {"name": "", "kind": "text", "required": False, "unique": False, "default": ""}
    if prop is not None:
        row.update(
            id=prop.pk,
            data_model=prop.data_model_id,
            name=prop.name,
            kind=prop.kind,
            required=prop.required,
            unique=prop.unique,
            default=KINDS[prop.kind].default_as_text(prop.default),
        )
    row.update(values)
    return row


def relation_row(relation: Relation | None = None, **values) -> dict:
    """A row of the relations inline: a new one, or `relation` as shown, with `values` changed."""
    row = {
        "source_field": "",
        "kind": "belongs_to",
        "target": "",
        "target_field": "",
        "on_delete": "nullify",
    }
    if relation is not None:
        row.update(
            id=relation.pk,
            source=relation.source_id,
            source_field=relation.source_field,
            kind=relation.kind,
            target=relation.target_id,
            target_field=relation.target_field,
            on_delete=relation.on_delete,
        )
    row.update(values)
    return row


def save_model_page(client, data_model, *, name=None, properties=(), relations=(), follow=True):
    """Post the data model's admin page with these inline rows (existing rows left out of
    `properties`/`relations` are simply not part of the save)."""
    data = {
        "name": name or data_model.name,
        **inline_formset("properties", list(properties)),
        **inline_formset("relations_out", list(relations)),
    }
    return client.post(admin_url("datamodel_change", data_model.pk), data, follow=follow)


def result_rows(response) -> int:
    """How many records the record list shows."""
    body = page_text(response).split("<tbody>")[1].split("</tbody>")[0]
    return body.count("<tr>")


def prop_of(data_model: DataModel, name: str) -> Property:
    return data_model.properties.get(name=name)


# -- applications ---------------------------------------------------------------------------


def test_application_list_shows_model_count(admin_client, make_app, make_model):
    app = make_app("shop", "Shop")
    make_model(app, "Task")
    make_model(app, "Project")

    response = admin_client.get(admin_url("application_changelist"))

    assert response.status_code == 200
    assert '<td class="field-model_count">2</td>' in page_text(response)


# What the application form posts for its data API settings when left as they are.
API_SETTINGS = {
    "introspection_enabled": "on", "cors_allowed_origins": "", "default_page_size": 50,
    "max_page_size": 200, "max_top_level_fields": 10, "max_depth": 4,
    "statement_timeout_ms": 5000, "max_body_bytes": 1048576, "max_mutation_items": 1000,
    "rate_limit_minute": 200, "rate_limit_hour": 2600, "rate_limit_day": 1150,
    "trash_hours": 72,
}


def test_create_application_and_see_its_models(admin_client, make_app, make_model):
    response = admin_client.post(
        admin_url("application_add"),
        {"slug": "crm", "name": "CRM", "environment": "sandbox", **API_SETTINGS},
        follow=True,
    )
    assert response.status_code == 200
    app = Application.objects.get(slug="crm")
    assert app.environment == "sandbox"

    other = make_app("shop")
    task = make_model(other, "Task", title="text")
    page = admin_client.get(admin_url("application_change", other.pk))
    assert admin_url("datamodel_change", task.pk) in page_text(page)
    assert admin_url("datamodel_record_list", task.pk) in page_text(page)


def test_delete_application_drops_its_tables(admin_client, make_app, make_model, classes):
    app = make_app("shop")
    task = make_model(app, "Task", title="text")
    project = make_model(app, "Project", name="text")
    changes.add_relation(task, "project", project, "tasks")
    tags = changes.add_relation(
        task, "tags", project, "taggedTasks", kind="has_and_belongs_to_many"
    )
    classes(app)["Task"].objects.create()
    tables = [task.table_name, project.table_name, f"mortar_j{tags.pk}"]

    assert all(table_exists(table) for table in tables)

    confirm = admin_client.get(admin_url("application_delete", app.pk))
    assert f"Task: its table {task.table_name} and its 1 record\n" in page_text(confirm)
    response = admin_client.post(admin_url("application_delete", app.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Application.objects.filter(pk=app.pk).exists()
    assert not any(table_exists(table) for table in tables)


def test_bulk_delete_applications(admin_client, make_app, make_model):
    tables = [make_model(make_app(slug), "Task").table_name for slug in ("one", "two")]

    response = admin_client.post(
        admin_url("application_changelist"),
        {
            "action": "delete_selected",
            "post": "yes",
            "_selected_action": list(Application.objects.values_list("pk", flat=True)),
        },
    )

    assert response.status_code == 302
    assert not Application.objects.exists()
    assert not any(table_exists(table) for table in tables)


# -- models and properties ------------------------------------------------------------------


def test_create_model_through_the_add_form(admin_client, make_app):
    app = make_app("shop")

    response = admin_client.post(
        admin_url("datamodel_add"), {"application": app.pk, "name": "Task"}
    )

    task = DataModel.objects.get(application=app, name="Task")
    assert response.status_code == 302
    assert response.url == admin_url("datamodel_change", task.pk)  # on to add its properties
    assert table_exists(task.table_name)
    app.refresh_from_db()
    assert app.schema_version == 2


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("task", "'task' is not a valid model name: start with a capital letter"),
        ("Query", "'Query' is reserved by the API; choose another model name."),
        ("StringFilter", "'StringFilter' is reserved by the API; choose another model name."),
        ("ManyTask", "'ManyTask' and the model 'Task' would both generate 'createManyTask'; "
                     "choose another model name."),
        ("Task", "There is already a model named 'Task' in this application."),
        ("TASK", "There is already a model named 'Task' in this application."),
    ],
)
def test_bad_model_names_are_refused_on_the_form(admin_client, make_app, make_model, name, message):
    app = make_app("shop")
    make_model(app, "Task")

    response = admin_client.post(admin_url("datamodel_add"), {"application": app.pk, "name": name})

    assert response.status_code == 200
    assert shows(response, message)
    assert DataModel.objects.filter(application=app).count() == 1


def test_rename_model_changes_metadata_only(admin_client, make_app, make_model):
    app = make_app("shop")
    task = make_model(app, "Task", title="text")

    save_model_page(admin_client, task, name="Job")

    task.refresh_from_db()
    assert task.name == "Job"
    assert table_exists(task.table_name)


def test_add_properties_through_the_inline(admin_client, make_app, make_model):
    app = make_app("shop")
    task = make_model(app, "Task")

    response = save_model_page(
        admin_client,
        task,
        properties=[
            property_row(name="title", required=True),
            property_row(name="estimate", kind="integer", default="3"),
            property_row(name="done", kind="boolean", default="false"),
        ],
    )

    assert response.status_code == 200, page_text(response)
    props = {p.name: p for p in task.properties.all()}
    assert set(props) == {"title", "estimate", "done"}
    assert props["title"].required
    assert props["estimate"].default == 3 and props["done"].default is False
    assert {p.attname for p in props.values()} <= table_columns(task.table_name)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("EndDate", "'EndDate' is not a valid field name: start with a lowercase letter"),
        ("id", "'id' is a system or reserved field of every model; choose another name."),
        ("title", "Task already has a field named 'title'."),
    ],
)
def test_bad_property_names_are_refused_on_the_form(
    admin_client, make_app, make_model, name, message
):
    app = make_app("shop")
    task = make_model(app, "Task", title="text")
    columns = table_columns(task.table_name)

    response = save_model_page(admin_client, task, properties=[property_row(name=name)])

    assert response.status_code == 200
    assert shows(response, message)
    assert list(task.properties.values_list("name", flat=True)) == ["title"]
    assert table_columns(task.table_name) == columns


def test_bad_property_settings_are_refused_on_the_form(admin_client, make_app, make_model):
    app = make_app("shop")
    task = make_model(app, "Task")

    response = save_model_page(
        admin_client,
        task,
        properties=[
            property_row(name="level", kind="enum"),
            property_row(name="estimate", kind="integer", default="many"),
        ],
    )

    assert shows(response, "An enum's options are entered on the property's own page: add it "
                           "with “Add a property with its options” at the top.")
    assert shows(response, "The default is no integer: 'many' is not a whole number. Correct "
                           "it, or leave it empty for none.")
    assert not task.properties.exists()


def test_rename_property_is_metadata_only(admin_client, make_app, make_model, classes):
    app = make_app("shop")
    task = make_model(app, "Task", title="text")
    classes(app)["Task"].objects.create(**{prop_of(task, "title").attname: "Write"})
    columns = table_columns(task.table_name)

    save_model_page(
        admin_client, task, properties=[property_row(prop_of(task, "title"), name="heading")]
    )

    assert list(task.properties.values_list("name", flat=True)) == ["heading"]
    assert table_columns(task.table_name) == columns
    assert record_values(classes(app)["Task"], "heading") == [("Write",)]


def test_change_kind_converts_the_values(admin_client, make_app, make_model, classes):
    app = make_app("shop")
    task = make_model(app, "Task", points="text")
    attname = prop_of(task, "points").attname
    classes(app)["Task"].objects.bulk_create(
        [classes(app)["Task"](**{attname: text}) for text in ("12", " 7 ", None)]
    )

    save_model_page(
        admin_client, task, properties=[property_row(prop_of(task, "points"), kind="integer")]
    )

    assert prop_of(task, "points").kind == "integer"
    assert record_values(classes(app)["Task"], "points") == [(12,), (7,), (None,)]


def test_change_kind_that_cannot_convert_is_refused(admin_client, make_app, make_model, classes):
    app = make_app("shop")
    task = make_model(app, "Task", points="text")
    attname = prop_of(task, "points").attname
    classes(app)["Task"].objects.bulk_create(
        [classes(app)["Task"](**{attname: text}) for text in ("12", "lots")]
    )
    version = Application.objects.get(pk=app.pk).schema_version

    response = save_model_page(
        admin_client,
        task,
        properties=[
            property_row(prop_of(task, "points"), kind="integer"),
            property_row(name="done", kind="boolean"),  # refused with it: nothing is half-applied
        ],
    )

    assert response.status_code == 200
    assert shows(
        response,
        "1 records have a points that cannot be converted to integer "
        "(e.g. 'lots'); fix or clear those values first.",
    )
    assert list(task.properties.values_list("name", "kind")) == [("points", "text")]
    assert record_values(classes(app)["Task"], "points") == [("12",), ("lots",)]
    assert Application.objects.get(pk=app.pk).schema_version == version


def test_kind_change_to_an_unrelated_kind_is_refused(admin_client, make_app, make_model):
    app = make_app("shop")
    task = make_model(app, "Task", due="date")

    response = save_model_page(
        admin_client, task, properties=[property_row(prop_of(task, "due"), kind="boolean")]
    )

    assert shows(response, "A date property cannot become a boolean property")
    assert prop_of(task, "due").kind == "date"


def test_delete_property_through_the_inline(admin_client, make_app, make_model):
    app = make_app("shop")
    task = make_model(app, "Task", title="text", notes="text")
    notes = prop_of(task, "notes")

    save_model_page(admin_client, task, properties=[property_row(notes, DELETE=True)])

    assert list(task.properties.values_list("name", flat=True)) == ["title"]
    assert notes.attname not in table_columns(task.table_name)


def test_refusal_at_save_time_rolls_back_the_whole_save(
    admin_client, make_app, make_model, monkeypatch
):
    """A change refused after the form's checks passed (say, a concurrent edit took the name)
    shows its message, and what the same save did before it is undone."""
    app = make_app("shop")
    task = make_model(app, "Task")
    project = make_model(app, "Project")
    columns = table_columns(task.table_name)

    def refused(*args, **kwargs):
        raise changes.SchemaChangeError("Task already has a field named 'project'.", "source_field")

    monkeypatch.setattr(changes, "add_relation", refused)
    response = save_model_page(
        admin_client,
        task,
        properties=[property_row(name="title")],
        relations=[relation_row(source_field="project", target=project.pk, target_field="tasks")],
    )

    assert response.status_code == 200
    assert shows(response, "Nothing was changed: Task already has a field named 'project'.")
    assert not task.properties.exists()
    assert table_columns(task.table_name) == columns


# -- relations ------------------------------------------------------------------------------


def test_add_relation_through_the_inline(admin_client, make_app, make_model):
    app = make_app("shop")
    task = make_model(app, "Task")
    project = make_model(app, "Project")

    save_model_page(
        admin_client,
        task,
        relations=[
            relation_row(
                source_field="project", target=project.pk, target_field="tasks", on_delete="cascade"
            ),
        ],
    )

    relation = Relation.objects.get(source=task)
    assert (relation.target, relation.target_field, relation.on_delete) == (
        project,
        "tasks",
        "cascade",
    )
    assert relation.attname in table_columns(task.table_name)
    project_page = admin_client.get(admin_url("datamodel_change", project.pk))
    assert "Task.project</a> → Project.tasks" in page_text(project_page)  # shown as incoming


def test_relation_targets_offered_are_of_the_same_application(admin_client, make_app, make_model):
    app, other = make_app("shop"), make_app("crm")
    task = make_model(app, "Task")
    make_model(app, "Project")
    make_model(other, "Customer")

    page = page_text(admin_client.get(admin_url("datamodel_change", task.pk)))

    assert "shop.Project</option>" in page
    assert "crm.Customer" not in page


def test_cross_application_relation_is_refused(admin_client, make_app, make_model):
    app, other = make_app("shop"), make_app("crm")
    task = make_model(app, "Task")
    customer = make_model(other, "Customer")

    response = save_model_page(
        admin_client,
        task,
        relations=[
            relation_row(source_field="customer", target=customer.pk, target_field="tasks"),
        ],
    )

    assert shows(
        response,
        "crm.Customer belongs to another application; relations stay within one application.",
    )
    assert not Relation.objects.exists()


def test_relation_field_clashing_with_a_property_is_refused(admin_client, make_app, make_model):
    app = make_app("shop")
    task = make_model(app, "Task")
    project = make_model(app, "Project", tasks="text")

    response = save_model_page(
        admin_client,
        task,
        relations=[
            relation_row(source_field="project", target=project.pk, target_field="tasks"),
        ],
    )

    assert shows(response, "Project already has a field named 'tasks'.")
    assert not Relation.objects.exists()


def test_rename_relation_fields(admin_client, make_app, make_model):
    app = make_app("shop")
    task = make_model(app, "Task")
    project = make_model(app, "Project")
    relation = changes.add_relation(task, "project", project, "tasks")

    save_model_page(
        admin_client,
        task,
        relations=[
            relation_row(relation, source_field="owner", target_field="ownedTasks"),
        ],
    )

    relation.refresh_from_db()
    assert (relation.source_field, relation.target_field) == ("owner", "ownedTasks")


def test_delete_relation_through_the_inline(admin_client, make_app, make_model):
    app = make_app("shop")
    task = make_model(app, "Task")
    project = make_model(app, "Project")
    relation = changes.add_relation(task, "project", project, "tasks")

    save_model_page(admin_client, task, relations=[relation_row(relation, DELETE=True)])

    assert not Relation.objects.exists()
    assert relation.attname not in table_columns(task.table_name)


def test_deleting_a_model_others_relate_to_is_refused(admin_client, make_app, make_model):
    app = make_app("shop")
    task = make_model(app, "Task")
    project = make_model(app, "Project")
    changes.add_relation(task, "project", project, "tasks")

    response = admin_client.post(
        admin_url("datamodel_delete", project.pk), {"post": "yes"}, follow=True
    )

    assert shows(
        response,
        "Project is related to other models (Task.project → Project.tasks); "
        "delete those relations first.",
    )
    assert DataModel.objects.filter(pk=project.pk).exists()
    assert table_exists(project.table_name)


def test_delete_model(admin_client, make_app, make_model):
    app = make_app("shop")
    task = make_model(app, "Task", title="text")

    response = admin_client.post(admin_url("datamodel_delete", task.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not DataModel.objects.filter(pk=task.pk).exists()
    assert not table_exists(task.table_name)


# -- records --------------------------------------------------------------------------------


@pytest.fixture
def crm(make_app, make_model):
    """Contacts that belong to companies, with validations on several properties."""
    app = make_app("crm")
    company = make_model(app, "Company", name="text")
    contact = make_model(
        app,
        "Contact",
        name="text",
        email="email",
        code="text",
        age="integer",
        secret="password",
        photo="image",
        notes="rich_text",
        level="integer",
    )
    changes.alter_property(prop_of(contact, "name"), required=True)
    changes.alter_property(prop_of(contact, "email"), unique=True)
    changes.alter_property(prop_of(contact, "code"), pattern=r"^[A-Z]{3}$")
    changes.alter_property(prop_of(contact, "age"), min_value=18, max_value=150)
    changes.delete_property(prop_of(contact, "level"))
    changes.add_property(contact, "number", "auto_number")
    changes.add_relation(contact, "company", company, "contacts")
    return app


def record_form(cls, **values) -> dict:
    """Record form POST data from user field names."""
    spec = cls._mortar
    return {spec.attname(name): value for name, value in values.items()}


def test_records_list_is_paginated(admin_client, crm, classes, django_assert_max_num_queries):
    Company, Contact = classes(crm)["Company"], classes(crm)["Contact"]
    acme = Company.objects.create(**record_form(Company, name="Acme"))
    spec = Contact._mortar
    Contact.objects.bulk_create(
        [
            Contact(
                **record_form(Contact, name=f"Person {n}", code="ABC"),
                **{spec.attname("company") + "_id": acme.pk, spec.attname("number"): n},
            )
            for n in range(1, 121)
        ]
    )
    url = admin_url("datamodel_record_list", Contact._mortar.data_model.pk)
    admin_client.get(url)  # builds the runtime classes once

    with django_assert_max_num_queries(6):  # not one query per row, nor per company cell
        response = admin_client.get(url)

    text = page_text(response)
    assert response.status_code == 200
    assert result_rows(response) == 50
    for header in ("name", "email", "secret", "photo", "company", "number"):
        assert f"<span>{header}</span>" in text
    assert "Person 50<" in text and "Person 51<" not in text
    assert ">Acme</a>" in text
    assert "page 1 of 3" in text and "120 records" in text
    last = admin_client.get(url, {"page": 3})
    assert result_rows(last) == 20 and "Person 120<" in page_text(last)


def test_records_list_search(admin_client, crm, classes):
    Contact = classes(crm)["Contact"]
    for name, email in [
        ("Ada", "ada@example.com"),
        ("Grace", "grace@navy.mil"),
        ("Linus", "linus@example.org"),
    ]:
        Contact.objects.create(**record_form(Contact, name=name, email=email))
    url = admin_url("datamodel_record_list", Contact._mortar.data_model.pk)

    by_email = page_text(admin_client.get(url, {"q": "EXAMPLE"}))
    by_name = page_text(admin_client.get(url, {"q": "grace"}))

    assert "Ada<" in by_email and "Linus<" in by_email and "Grace<" not in by_email
    assert "2 results" in by_email
    assert "Grace<" in by_name and "Ada<" not in by_name
    assert "Searches name, email, code, notes." in by_name


def test_password_and_file_values_in_the_list(admin_client, crm, classes, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    Contact = classes(crm)["Contact"]
    Contact.objects.create(
        **record_form(
            Contact,
            name="Ada",
            secret="pbkdf2_sha256$1$salt$hash",
            photo={
                "name": "ada.png",
                "key": "files/x/ada.png",
                "size": 3,
                "contentType": "image/png",
            },
        )
    )

    text = page_text(
        admin_client.get(admin_url("datamodel_record_list", Contact._mortar.data_model.pk))
    )

    assert "pbkdf2" not in text and "<td>set</td>" in text
    # the signed URL the data API serves files at (tests/security/test_files.py)
    assert re.search(r'<a href="/api/crm/files/x/ada\.png\?expires=\d+&amp;signature=[0-9a-f]{64}">'
                     r"ada\.png</a>", text)


def test_create_record_through_the_form(admin_client, crm, classes, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    Company, Contact = classes(crm)["Company"], classes(crm)["Contact"]
    acme = Company.objects.create(**record_form(Company, name="Acme"))
    photo = SimpleUploadedFile("ada.png", PNG_BYTES, content_type="image/png")

    response = admin_client.post(
        admin_url("datamodel_record_add", Contact._mortar.data_model.pk),
        record_form(
            Contact,
            name="Ada",
            email="ada@example.com",
            code="ADA",
            age="36",
            secret="s3cret!",
            photo=photo,
            notes="<p>first</p>",
            company=acme.pk,
        ),
    )

    assert response.status_code == 302, page_text(response)
    ada = Contact.objects.get()
    spec = Contact._mortar
    assert getattr(ada, spec.attname("email")) == "ada@example.com"
    assert getattr(ada, spec.attname("age")) == 36
    assert getattr(ada, spec.attname("company")) == acme
    assert getattr(ada, spec.attname("number")) == 1  # assigned, not entered
    assert check_password("s3cret!", getattr(ada, spec.attname("secret")))
    stored = getattr(ada, spec.attname("photo"))
    assert stored["name"] == "ada.png" and stored["contentType"] == "image/png"
    assert (tmp_path / stored["key"]).read_bytes() == PNG_BYTES


def test_record_form_labels_are_user_names(admin_client, crm, classes):
    Contact = classes(crm)["Contact"]

    text = page_text(
        admin_client.get(admin_url("datamodel_record_add", Contact._mortar.data_model.pk))
    )

    for name in ("name", "email", "secret", "photo", "company"):
        assert f">{name}:</label>" in text
    assert ">number:</label>" not in text  # auto numbers are assigned by the database
    assert 'type="password"' in text


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"name": "", "email": "a@b.co"}, "name", "This field is required."),
        ({"name": "Ada", "email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"name": "Ada", "code": "abc"}, "code", "Does not match the pattern ^[A-Z]{3}$."),
        ({"name": "Ada", "age": "200"}, "age", "Ensure this value is less than or equal to 150."),
        (
            {"name": "Ada", "email": "taken@example.com"},
            "email",
            "Contact with this email already exists.",
        ),
    ],
)
def test_record_form_applies_the_model_validations(
    admin_client, crm, classes, values, field, message
):
    Contact = classes(crm)["Contact"]
    Contact.objects.create(**record_form(Contact, name="Taken", email="taken@example.com"))

    response = admin_client.post(
        admin_url("datamodel_record_add", Contact._mortar.data_model.pk),
        record_form(Contact, **values),
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors == {Contact._mortar.attname(field): [message]}
    assert shows(response, message)
    assert Contact.objects.count() == 1


def test_image_property_refuses_other_files(admin_client, crm, classes, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    Contact = classes(crm)["Contact"]
    # what the browser declares is not trusted: the bytes are read
    notes = SimpleUploadedFile("notes.png", b"<script>", content_type="image/png")

    response = admin_client.post(
        admin_url("datamodel_record_add", Contact._mortar.data_model.pk),
        record_form(Contact, name="Ada", photo=notes),
    )

    assert shows(
        response,
        "notes.png is not a PNG, JPEG, GIF or WebP image (application/octet-stream); "
        "upload one of those.",
    )
    assert not Contact.objects.exists()


def test_edit_record_keeps_password_and_file_when_left_empty(admin_client, crm, classes):
    Contact = classes(crm)["Contact"]
    spec = Contact._mortar
    photo = {"name": "a.png", "key": "files/k/a.png", "size": 1, "contentType": "image/png"}
    ada = Contact.objects.create(
        **record_form(Contact, name="Ada", secret="pbkdf2_sha256$1$salt$hash", photo=photo)
    )
    url = admin_url("datamodel_record_change", spec.data_model.pk, ada.pk)

    page = page_text(admin_client.get(url))
    response = admin_client.post(url, record_form(Contact, name="Ada L.", secret="", age="36"))

    assert "pbkdf2" not in page and ">a.png</a>" in page
    assert response.status_code == 302
    ada.refresh_from_db()
    assert getattr(ada, spec.attname("name")) == "Ada L."
    assert getattr(ada, spec.attname("age")) == 36
    assert getattr(ada, spec.attname("secret")) == "pbkdf2_sha256$1$salt$hash"
    assert getattr(ada, spec.attname("photo")) == photo


def test_edit_record_sets_a_new_password(admin_client, crm, classes):
    Contact = classes(crm)["Contact"]
    spec = Contact._mortar
    ada = Contact.objects.create(**record_form(Contact, name="Ada", secret="old-hash"))

    admin_client.post(
        admin_url("datamodel_record_change", spec.data_model.pk, ada.pk),
        record_form(Contact, name="Ada", secret="new secret"),
    )

    ada.refresh_from_db()
    assert check_password("new secret", getattr(ada, spec.attname("secret")))


def test_record_form_takes_every_kind(admin_client, make_app, make_model, classes):
    app = make_app("shop")
    item = make_model(
        app, "Item", text="text", richText="rich_text", integer="integer", decimal="decimal",
        price="price", boolean="boolean", date="date", datetime="datetime", time="time",
        email="email", url="url", phone="phone", json="json", number="auto_number",
    )  # fmt: skip
    changes.add_property(item, "enum", "enum", enum_values=["low", "high"])
    Item = classes(app)["Item"]
    datetime_field = Item._mortar.attname("datetime")

    response = admin_client.post(
        admin_url("datamodel_record_add", item.pk),
        {
            **record_form(
                Item,
                text="a",
                richText="<p>b</p>",
                integer="3",
                decimal="1.25",
                price="9.99",
                boolean="true",
                date="2024-01-31",
                time="08:30",
                email="a@b.co",
                url="https://example.com",
                phone="+31 20 123 4567",
                json='{"a": [1]}',
                enum="high",
            ),  # fmt: skip
            f"{datetime_field}_0": "2024-01-31",
            f"{datetime_field}_1": "13:45:00",
        },
    )

    assert response.status_code == 302, response.context["form"].errors
    names = ["integer", "decimal", "price", "boolean", "date", "datetime", "time", "json", "enum"]
    assert record_values(Item, *names) == [
        (
            3,
            Decimal("1.25"),
            Decimal("9.99"),
            True,
            dt.date(2024, 1, 31),
            dt.datetime(2024, 1, 31, 13, 45, tzinfo=dt.UTC),
            dt.time(8, 30),
            {"a": [1]},
            "high",
        )
    ]
    assert record_values(Item, "number") == [(1,)]


def test_habtm_links_are_edited_in_the_form(admin_client, make_app, make_model, classes):
    app = make_app("shop")
    user = make_model(app, "WebUser", email="email")
    role = make_model(app, "Role", name="text")
    changes.add_relation(user, "roles", role, "webUsers", kind="has_and_belongs_to_many")
    WebUser, Role = classes(app)["WebUser"], classes(app)["Role"]
    admin, staff = (Role.objects.create(**record_form(Role, name=n)) for n in ("admin", "staff"))

    response = admin_client.post(
        admin_url("datamodel_record_add", user.pk),
        record_form(WebUser, email="ada@example.com", roles=[admin.pk, staff.pk]),
    )

    assert response.status_code == 302
    created = WebUser.objects.get()
    assert set(getattr(created, WebUser._mortar.attname("roles")).all()) == {admin, staff}


def test_delete_record_asks_then_deletes(admin_client, crm, classes):
    Company, Contact = classes(crm)["Company"], classes(crm)["Contact"]
    acme = Company.objects.create(**record_form(Company, name="Acme"))
    ada = Contact.objects.create(**record_form(Contact, name="Ada", company=acme))
    url = admin_url("datamodel_record_delete", Company._mortar.data_model.pk, acme.pk)

    confirm = admin_client.get(url)
    response = admin_client.post(url, follow=True)

    assert "Are you sure you want to delete Company #" in page_text(confirm)
    assert shows(response, f"Company “Acme” (#{acme.pk}) was deleted.")
    assert not Company.objects.exists()
    ada.refresh_from_db()
    assert getattr(ada, Contact._mortar.attname("company")) is None  # nullify by default


def test_delete_record_lists_what_cascades(admin_client, make_app, make_model, classes):
    app = make_app("shop")
    task = make_model(app, "Task", title="text")
    project = make_model(app, "Project", name="text")
    changes.add_relation(task, "project", project, "tasks", on_delete="cascade")
    Task, Project = classes(app)["Task"], classes(app)["Project"]
    apollo = Project.objects.create()
    Task.objects.bulk_create([Task(**record_form(Task, project=apollo)) for _ in range(3)])
    url = admin_url("datamodel_record_delete", project.pk, apollo.pk)

    confirm = admin_client.get(url)
    admin_client.post(url)

    assert "3 Task records" in page_text(confirm)
    assert not Task.objects.exists()


def test_delete_record_refused_by_a_restricting_relation(
    admin_client, make_app, make_model, classes
):
    app = make_app("shop")
    task = make_model(app, "Task", title="text")
    project = make_model(app, "Project", name="text")
    changes.add_relation(task, "project", project, "tasks", on_delete="restrict")
    Task, Project = classes(app)["Task"], classes(app)["Project"]
    apollo = Project.objects.create()
    Task.objects.create(**record_form(Task, project=apollo))

    response = admin_client.post(
        admin_url("datamodel_record_delete", project.pk, apollo.pk), follow=True
    )

    assert response.status_code == 200
    refusal = f"Project #{apollo.pk} cannot be deleted: a relation that refuses deletion links it"
    assert shows(response, f"{refusal} to 1 Task record.")
    assert Project.objects.filter(pk=apollo.pk).exists()


def test_records_need_staff_and_the_data_model_change_permission(
    make_app, make_model, django_user_model
):
    task = make_model(make_app("shop"), "Task", title="text")
    url = admin_url("datamodel_record_list", task.pk)
    client = Client()
    user = django_user_model.objects.create_user("builder", password="pw", is_staff=False)
    client.force_login(user)

    assert client.get(url).status_code == 302  # to the admin login

    user.is_staff = True
    user.save()
    assert client.get(url).status_code == 403

    user.user_permissions.add(Permission.objects.get(codename="change_datamodel"))
    assert client.get(url).status_code == 200


def test_record_pages_link_from_the_model_pages(admin_client, make_app, make_model):
    task = make_model(make_app("shop"), "Task")
    records_url = admin_url("datamodel_record_list", task.pk)

    assert records_url in page_text(admin_client.get(admin_url("datamodel_change", task.pk)))
    assert records_url in page_text(admin_client.get(admin_url("datamodel_changelist")))


def test_application_page_edits_the_data_api_settings(admin_client, make_app):
    app = make_app("settings-app")
    url = f"/admin/models_registry/application/{app.pk}/change/"
    page = admin_client.get(url)
    assert b"cors_allowed_origins" in page.content and b"max_page_size" in page.content
    response = admin_client.post(url, {
        **API_SETTINGS, "slug": "settings-app", "name": "Settings",
        "environment": "production", "playground_enabled": "on",
        "cors_allowed_origins": "https://app.example.com\r\n",
        "default_page_size": 20, "max_page_size": 100,
    })
    assert response.status_code == 302, response.content[:2000]
    app.refresh_from_db()
    assert app.allowed_origins == {"https://app.example.com"}
    assert (app.default_page_size, app.max_page_size, app.playground_enabled) == (20, 100, True)


def test_inconsistent_page_sizes_are_refused(admin_client, make_app):
    app = make_app("pages")
    response = admin_client.post(f"/admin/models_registry/application/{app.pk}/change/", {
        **API_SETTINGS, "slug": "pages", "name": "Pages", "environment": "production",
        "default_page_size": 300, "max_page_size": 200,
    })
    assert response.status_code == 200
    assert b"cannot be larger than the maximum page (200)" in response.content


# -- admin polish (issue 14) ----------------------------------------------------------------


def property_page(client, prop: Property | None = None, **query):
    """The property's own page: its change page, or the add page with `query` (?kind=...)."""
    if prop is not None:
        return client.get(admin_url("property_change", prop.pk))
    return client.get(admin_url("property_add"), query)


def property_page_data(prop: Property, **values) -> dict:
    """The property page as posted: its stored settings shown as values, `values` changed."""
    kind = KINDS[prop.kind]
    data = {"name": prop.name, "kind": prop.kind, "required": form_value(prop.required)}
    shown = {
        "unique": form_value(prop.unique),
        "default": kind.default_as_text(prop.default),
        "enum_values": "\r\n".join(prop.enum_values),
        "pattern": prop.pattern,
        **{name: form_value(getattr(prop, name)) for name in
           ("min_value", "max_value", "min_length", "max_length", "decimal_places")},
    }
    data.update({name: shown[name] for name in kind.options})
    data.update(values)
    return {key: value for key, value in data.items() if value is not None}


def test_slug_help_shows_the_real_api_url(admin_client, make_app):
    app = make_app("shop", playground_enabled=True)
    closed = make_app("vault")

    add_page = page_text(admin_client.get(admin_url("application_add")))
    shop_page = page_text(admin_client.get(admin_url("application_change", app.pk)))
    vault_page = page_text(admin_client.get(admin_url("application_change", closed.pk)))

    assert "Part of the API URL: http://testserver/api/&lt;slug&gt;/graphql." in add_page
    assert ('The API: <a href="http://testserver/api/shop/graphql">'
            "http://testserver/api/shop/graphql</a>") in shop_page
    assert '<a href="http://testserver/api/shop/graphql" target="_blank">open the playground' \
        in shop_page
    assert "The playground is off: tick “Playground enabled” below" in vault_page
    assert "/api//graphql" not in add_page + shop_page + vault_page


def test_number_boxes_are_wide_enough_for_seven_digits(admin_client, make_app):
    from django.contrib.staticfiles import finders

    app = make_app("shop")
    pages = {
        "application": page_text(admin_client.get(admin_url("application_change", app.pk))),
        "auth profile": page_text(admin_client.get(reverse("admin:identity_authprofile_add"))),
    }
    stylesheet = finders.find("models_registry/admin.css")
    width = re.search(r"input\.vIntegerField\s*\{\s*width:\s*(\d+)em", open(stylesheet).read())

    for text in pages.values():
        assert "models_registry/admin.css" in text  # the stylesheet widens vIntegerField
    assert re.search(r'name="max_body_bytes" value="1048576" class="vIntegerField"',
                     pages["application"])
    assert re.search(r'class="vIntegerField"[^>]*name="refresh_token_lifetime" value="1209600"'
                     r'|name="refresh_token_lifetime" value="1209600" class="vIntegerField"',
                     pages["auth profile"])
    # 7 digits, the padding and a number box's arrows; the browser test measures the real box
    assert width and int(width.group(1)) >= 8


def test_properties_inline_shows_only_the_settings_every_kind_has(
    admin_client, make_app, make_model
):
    task = make_model(make_app("shop"), "Task", title="text", due="date")
    changes.alter_property(prop_of(task, "title"), max_length=80, pattern="^[A-Z]")
    level = changes.add_property(task, "level", "enum", enum_values=["low", "high"])

    text = page_text(admin_client.get(admin_url("datamodel_change", task.pk)))

    for setting in ("name", "kind", "required", "unique", "default"):
        assert f'name="properties-0-{setting}"' in text
    for option in ("min_value", "max_value", "min_length", "max_length", "pattern",
                   "enum_values", "decimal_places"):
        assert f"-{option}" not in text
    title = prop_of(task, "title")
    assert f'max length 80; pattern ^[A-Z] <a href="{admin_url("property_change", title.pk)}">' \
           "edit</a>" in text
    assert f'enum values low, high <a href="{admin_url("property_change", level.pk)}">' in text
    add_link = admin_url("property_add") + f"?data_model={task.pk}"
    assert f'<a href="{add_link}">Add a property with its options</a>' in text


@pytest.mark.parametrize(
    ("kind", "shown", "not_shown"),
    [
        ("text", {"unique", "default", "min_length", "max_length", "pattern"},
         {"min_value", "enum_values", "decimal_places"}),
        ("integer", {"unique", "default", "min_value", "max_value"},
         {"min_length", "pattern", "enum_values", "decimal_places"}),
        ("decimal", {"min_value", "max_value", "decimal_places"}, {"min_length", "pattern"}),
        ("price", {"min_value", "max_value"}, {"decimal_places", "pattern"}),
        ("enum", {"unique", "default", "enum_values"}, {"min_length", "pattern", "min_value"}),
        ("boolean", {"default"}, {"unique", "min_value", "pattern", "enum_values"}),
        ("file", set(), {"unique", "default", "pattern", "min_length"}),
        ("password", {"pattern"}, {"unique", "default", "min_length"}),
    ],
)
def test_property_page_shows_only_its_kinds_options(
    admin_client, make_app, make_model, kind, shown, not_shown
):
    task = make_model(make_app("shop"), "Task")
    settings = {"enum_values": ["low", "high"]} if kind == "enum" else {}
    prop = changes.add_property(task, "thing", kind, **settings)

    for response in (property_page(admin_client, prop),
                     property_page(admin_client, data_model=task.pk, kind=kind)):
        text = page_text(response)
        assert response.status_code == 200
        assert {name for name in shown | not_shown if f'name="{name}"' in text} == shown


def test_adding_a_property_starts_with_its_kind(admin_client, make_app, make_model):
    task = make_model(make_app("shop"), "Task")

    picker = page_text(property_page(admin_client, data_model=task.pk))

    assert f'href="?data_model={task.pk}&amp;kind=enum">enum</a>' in picker
    assert "<td>unique, default, enum values</td>" in picker


def test_enum_options_and_default_edit_as_values_and_round_trip(
    admin_client, make_app, make_model
):
    task = make_model(make_app("shop"), "Task")

    added = admin_client.post(
        admin_url("property_add") + "?kind=enum",
        {"data_model": task.pk, "name": "priority", "kind": "enum", "default": "low",
         "enum_values": "low\r\n medium \r\n\r\nhigh\r\n"},
    )

    assert added.status_code == 302, page_text(added)
    assert added.url == admin_url("datamodel_change", task.pk)
    prop = prop_of(task, "priority")
    assert (prop.enum_values, prop.default) == (["low", "medium", "high"], "low")
    text = page_text(property_page(admin_client, prop))
    assert ">\nlow\nmedium\nhigh</textarea>" in text
    assert 'name="default" value="low"' in text
    app = Application.objects.get(pk=task.application_id)
    unchanged = admin_client.post(admin_url("property_change", prop.pk),
                                  property_page_data(prop))
    assert unchanged.status_code == 302
    assert Application.objects.get(pk=app.pk).schema_version == app.schema_version  # no change
    admin_client.post(admin_url("property_change", prop.pk),
                      property_page_data(prop, enum_values="low\r\nhigh"))
    prop.refresh_from_db()
    assert prop.enum_values == ["low", "high"]


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [
        ("text", "open", "open"),
        ("integer", "3", 3),
        ("decimal", "12.50", "12.50"),
        ("boolean", "true", True),
        ("date", "2024-01-31", "2024-01-31"),
        ("datetime", "2024-01-31T08:30:00+00:00", "2024-01-31T08:30:00+00:00"),
        ("json", '{"a": [1, 2]}', {"a": [1, 2]}),
        ("json", '"open"', "open"),
    ],
)
def test_defaults_edit_as_values_and_round_trip(
    admin_client, make_app, make_model, kind, typed, stored
):
    task = make_model(make_app("shop"), "Task")

    save_model_page(admin_client, task,
                    properties=[property_row(name="thing", kind=kind, default=typed)])

    prop = prop_of(task, "thing")
    assert prop.default == stored
    shown = page_text(admin_client.get(admin_url("datamodel_change", task.pk)))
    assert f'name="properties-0-default" value="{escape(typed)}"' in shown
    resaved = save_model_page(admin_client, task, properties=[property_row(prop)])
    assert resaved.status_code == 200
    prop.refresh_from_db()
    assert prop.default == stored


def test_kind_change_on_the_property_page_shows_the_new_kinds_options(
    admin_client, make_app, make_model
):
    task = make_model(make_app("shop"), "Task", level="integer")
    prop = changes.alter_property(prop_of(task, "level"), min_value=1, max_value=3)

    asked = admin_client.post(admin_url("property_change", prop.pk),
                              property_page_data(prop, kind="enum"))

    assert asked.status_code == 200
    assert shows(asked, "Enter the enum's options, one per line.")
    assert 'name="enum_values"' in page_text(asked)
    saved = admin_client.post(admin_url("property_change", prop.pk),
                              property_page_data(prop, kind="enum", enum_values="1\n2\n3"))
    assert saved.status_code == 302, page_text(saved)
    prop.refresh_from_db()
    # the range an enum does not have is reset, not left in force unseen
    assert (prop.kind, prop.enum_values, prop.min_value, prop.max_value) == (
        "enum", ["1", "2", "3"], None, None)


def test_models_list_shows_record_counts_in_one_statement(
    admin_client, make_app, make_model, classes
):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    app = make_app("shop")
    for name in ("Task", "Project", "Tag"):
        make_model(app, name, name="text")
    Task, Tag = classes(app)["Task"], classes(app)["Tag"]
    Task.objects.create(**record_form(Task, name="a"))
    Task.objects.create(**record_form(Task, name="b"))
    Tag.objects.create(**record_form(Tag, name="c"))

    with CaptureQueriesContext(connections["default"]) as queries:
        text = page_text(admin_client.get(admin_url("application_change", app.pk)))

    counting = [q["sql"] for q in queries.captured_queries if "COUNT(*) FROM" in q["sql"]]
    assert len(counting) == 1 and counting[0].count("UNION ALL") == 2
    for name, records in (("Project", 0), ("Tag", 1), ("Task", 2)):
        assert re.search(rf">{name}</a></td><td>1</td><td class=\"record-count\">{records}</td>",
                         text)


def test_record_messages_name_the_record_by_its_first_text_property(
    admin_client, make_app, make_model, classes
):
    app = make_app("shop")
    make_model(app, "Product", price="decimal", name="text", code="text")
    counter = make_model(app, "Counter", value="integer")
    Product = classes(app)["Product"]
    product_model = Product._mortar.data_model

    added = admin_client.post(admin_url("datamodel_record_add", product_model.pk),
                              record_form(Product, name="Chair", code="C-1", price="12.50"),
                              follow=True)
    numbered = admin_client.post(admin_url("datamodel_record_add", counter.pk),
                                 {Product._mortar.attname("name"): ""} | record_form(
                                     classes(app)["Counter"], value="3"), follow=True)

    chair = Product.objects.get()
    assert shows(added, f"Product “Chair” (#{chair.pk}) was added.")
    counted_one = classes(app)["Counter"].objects.get()
    assert shows(numbered, f"Counter #{counted_one.pk} was added.")
    change = admin_client.get(admin_url("datamodel_record_change", product_model.pk, chair.pk))
    assert shows(change, f"Change Product “Chair” (#{chair.pk})")


def test_index_page_lists_applications_models_records_and_api_links(
    client, admin_client, make_app, make_model, classes
):
    shop = make_app("shop", "Shop", playground_enabled=True)
    task = make_model(shop, "Task", name="text")
    make_app("empty", "Empty")
    Task = classes(shop)["Task"]
    Task.objects.create(**record_form(Task, name="a"))

    anonymous = client.get("/")
    text = page_text(admin_client.get("/"))
    admin_index = page_text(admin_client.get(reverse("admin:index")))

    assert anonymous.status_code == 302 and anonymous.url.startswith("/admin/login/")
    assert '<a href="/">View site</a>' in admin_index
    assert "Shop (shop, production)" in text
    assert '<a href="http://testserver/api/shop/graphql">Playground</a>' in text
    assert (f'<a href="{admin_url("datamodel_change", task.pk)}">Task</a></td>'
            f'<td class="record-count">1</td><td><a href="'
            f'{admin_url("datamodel_record_list", task.pk)}">Records</a>') in text
    assert "Empty (empty, production)" in text and "No data models yet" in text
    assert "playground off" in text


def test_schema_picture_draws_a_box_per_model_and_a_line_per_relation(
    admin_client, make_app, make_model
):
    from xml.etree import ElementTree

    app = make_app("shop")
    project = make_model(app, "Project", name="text")
    task = make_model(app, "Task", name="text", due="date")
    tag = make_model(app, "Tag", label="text")
    changes.add_relation(task, "project", project, "tasks")
    changes.add_relation(task, "tags", tag, "tasks", kind=Relation.Kind.HABTM)
    changes.add_relation(project, "parent", project, "children")
    url = admin_url("application_schema", app.pk)

    response = admin_client.get(url)

    assert response["Content-Type"] == "image/svg+xml"
    svg = ElementTree.fromstring(response.content)  # well-formed
    groups = {g.get("class"): [] for g in svg.iter("{http://www.w3.org/2000/svg}g")}
    for g in svg.iter("{http://www.w3.org/2000/svg}g"):
        groups[g.get("class")].append(g.get("data-model") or g.get("data-relation"))
    assert sorted(groups["model"]) == ["Project", "Tag", "Task"]
    assert sorted(groups["relation"]) == ["Project.parent", "Task.project"]
    assert groups["relation habtm"] == ["Task.tags"]
    text = response.content.decode()
    for label in ("project → tasks", "tags → tasks", "parent → children", "due: date"):
        assert label in text
    assert f'<img src="{url}"' in page_text(admin_client.get(admin_url("application_change",
                                                                       app.pk)))
