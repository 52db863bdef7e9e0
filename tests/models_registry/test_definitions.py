"""Application definition files: exportapp/loadapp, the demo application, refused files."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from models_registry.definitions import DefinitionError, export_definition, load_definition
from models_registry.models import Application, DataModel, Property, Relation
from models_registry.runtime import runtime_models

from ..conftest import record_values

DEMO = Path(settings.BASE_DIR) / "fixtures" / "demo.json"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def load(path, *args) -> str:
    out = StringIO()
    call_command("loadapp", str(path), *args, stdout=out)
    return out.getvalue()


def test_demo_loads_with_its_sample_data(loaded_apps, media):
    output = load(DEMO, "--with-data")
    assert "created model Task" in output

    demo = runtime_models(Application.objects.get(slug="demo"))
    Task, WebUser, Song = demo["Task"], demo["WebUser"], demo["Song"]
    assert list(Task.objects.order_by("id").values_list("id", flat=True)) == list(range(1, 21))
    project_of = Task._mortar.attname("project")
    assert Task.objects.values(project_of).distinct().count() == 3
    assert WebUser.objects.values(WebUser._mortar.attname("company")).distinct().count() == 2
    assert demo["Role"].objects.count() == 4
    betty = WebUser.objects.get(pk=1)
    assert sorted(getattr(betty, WebUser._mortar.attname("roles")).values_list("id", flat=True)) \
        == [1, 2]
    assert getattr(betty, WebUser._mortar.attname("password")).startswith("md5$")
    art = getattr(Song.objects.get(pk=1), Song._mortar.attname("art"))
    assert art["name"] == "blue-monday.png" and art["contentType"] == "image/png"
    assert default_storage.open(art["key"]).read().startswith(b"\x89PNG")
    new_task = Task.objects.create()
    assert new_task.pk == 21  # id sequences moved past the loaded ids


def test_loading_again_changes_nothing(loaded_apps, media):
    load(DEMO, "--with-data")
    version = Application.objects.get(slug="demo").schema_version
    art_before = record_values(runtime_models(Application.objects.get(slug="demo"))["Song"], "art")

    assert load(DEMO, "--with-data").strip() == "demo: already up to date."

    demo = Application.objects.get(slug="demo")
    assert demo.schema_version == version
    assert record_values(runtime_models(demo)["Song"], "art") == art_before


def test_export_then_load_into_an_empty_database_gives_an_equal_definition(
        loaded_apps, media, tmp_path):
    load(DEMO)
    exported = export_definition(Application.objects.get(slug="demo"))
    path = tmp_path / "demo-export.json"
    call_command("exportapp", "demo", "-o", str(path), stderr=StringIO())
    from models_registry import changes

    changes.delete_application(Application.objects.get(slug="demo"))
    assert not DataModel.objects.exists()

    load(path)

    assert export_definition(Application.objects.get(slug="demo")) == exported


def test_exportapp_writes_data_that_loads_back(loaded_apps, media, tmp_path):
    load(DEMO, "--with-data")
    path = tmp_path / "with-data.json"
    call_command("exportapp", "demo", "--with-data", "-o", str(path), stderr=StringIO())
    document = json.loads(path.read_text())
    assert len(document["data"]["Task"]) == 20
    assert document["data"]["WebUser"][0]["roles"] == [1, 2]

    from models_registry import changes

    changes.delete_application(Application.objects.get(slug="demo"))
    load(path, "--with-data")
    demo = runtime_models(Application.objects.get(slug="demo"))
    assert demo["Task"].objects.count() == 20
    assert json.loads(json.dumps(export_definition(Application.objects.get(slug="demo"), True))) \
        == document


def test_a_changed_file_updates_the_application(loaded_apps, tmp_path):
    document = json.loads(DEMO.read_text())
    load(DEMO)
    task = next(m for m in document["models"] if m["name"] == "Task")
    task["properties"].append({"name": "estimate", "kind": "decimal", "decimalPlaces": 1})
    next(p for p in task["properties"] if p["name"] == "externalId")["unique"] = False
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(document))

    output = load(path)

    assert "created property Task.estimate" in output
    assert "changed property Task.externalId (unique)" in output
    assert not Property.objects.get(name="externalId").unique


def broken(document_change) -> dict:
    document = json.loads(DEMO.read_text())
    document_change(document)
    return document


def _models(document, name):
    return next(m for m in document["models"] if m["name"] == name)


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda d: d.pop("models"), "models: expected a list of models"),
        (lambda d: d.update(mortar=7), "mortar: expected 1"),
        (lambda d: _models(d, "Task").update(name="task"), "not a valid model name"),
        # names the data API generates (its own types; the root fields of another model)
        (lambda d: _models(d, "Task").update(name="StringFilter"),
         "'StringFilter' is reserved by the API"),
        (lambda d: _models(d, "Task").update(name="GenerateJwtResult"),
         "'GenerateJwtResult' is reserved by the API"),
        (lambda d: _models(d, "Task").update(name="ProjectSortFieldsInput"),
         "clashes with the type 'ProjectSortFieldsInput' generated for model 'Project'"),
        (lambda d: _models(d, "Task").update(name="ManyProject"),
         "would both generate 'createManyProject'"),
        (lambda d: _models(d, "Task")["properties"].append({"name": "id", "kind": "text"}),
         "'id' is a system or reserved field"),
        (lambda d: _models(d, "Task")["properties"].append({"name": "name"}),
         "Task already has a field named 'name'"),
        (lambda d: _models(d, "Task")["properties"].append({"name": "x", "kind": "colour"}),
         "unknown kind 'colour'"),
        (lambda d: _models(d, "Task")["properties"].append(
            {"name": "x", "kind": "integer", "default": "many"}), "not a valid integer"),
        (lambda d: d["relations"].append(
            {"kind": "belongs_to", "from": "Task", "field": "owner", "to": "Ghost",
             "inverse": "tasks"}), "there is no model 'Ghost' in this file"),
        (lambda d: d["data"]["Task"].append({"id": 99, "endDate": "31/12/2024"}),
         "data.Task[20].endDate: not a valid date"),
        (lambda d: d["data"]["Song"][0].update(art={"file": "files/missing.png"}),
         "does not exist"),
        (lambda d: d["data"]["WebUser"][0].update(email="not-an-email"), "valid email"),
    ],
)
def test_bad_files_are_refused_whole(loaded_apps, tmp_path, media, change, message):
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken(change)))
    # files referenced by the definition are looked up beside it
    (tmp_path / "files").symlink_to(DEMO.parent / "files")

    with pytest.raises(CommandError) as refused:
        load(path, "--with-data")

    assert message in str(refused.value)
    assert "nothing was changed" in str(refused.value)
    assert not Application.objects.exists()
    assert not Relation.objects.exists()


def test_not_json_says_where(loaded_apps, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"mortar": 1,\n "models": [}')
    with pytest.raises(CommandError, match=r"not valid JSON \(line 2, column 13"):
        load(path)


def test_definition_files_switch_the_playground_and_reloads_keep_it(loaded_apps):
    document = {"mortar": 1, "application": {"slug": "crm"}, "models": []}
    assert load_definition(document).application.playground_enabled is False  # new: off
    document["application"]["playground"] = True
    application = load_definition(document).application
    assert application.playground_enabled is True
    assert export_definition(application)["application"]["playground"] is True
    del document["application"]["playground"]  # left out: the application keeps its own
    assert load_definition(document).application.playground_enabled is True

    document["application"]["playground"] = "on"
    with pytest.raises(DefinitionError) as refused:
        load_definition(document)
    assert refused.value.problems == [
        "application.playground: expected true or false (GraphiQL for browsers at the API URL; "
        "left out: off for a new application)."]
