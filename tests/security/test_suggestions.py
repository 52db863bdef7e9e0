"""With introspection off an application keeps its schema to itself, error messages included:
graphql-core's "Did you mean 'allTask'?" would name the fields, arguments, types and enum
values an attacker is guessing at. A new production application starts with introspection
off, a sandbox one with it on."""

import pytest

from models_registry import changes
from models_registry.definitions import DefinitionError, export_definition, load_definition
from models_registry.models import Application

from ..conftest import everyone_may
from ..data_api.conftest import Api
from ..models_registry.test_admin import API_SETTINGS, admin_url


@pytest.fixture
def shop(make_app, make_model) -> Application:
    """A new production application (introspection as it starts) with a public Task model."""
    app = make_app("shop")
    task = make_model(app, "Task", name="text", done="boolean")
    changes.add_property(task, "priority", "enum", enum_values=["low", "high"])
    everyone_may(task)
    return app


def set_introspection(app: Application, enabled: bool) -> None:
    Application.objects.filter(pk=app.pk).update(introspection_enabled=enabled)


def answer(query: str, variables=None) -> list[tuple[str, str]]:
    response = Api("shop").post(query, variables)
    assert response.status_code == 200, response.content
    return [(e["message"], e["extensions"]["code"]) for e in response.json()["errors"]]


SORT = "query($s: [TaskSortInput!]) { allTask(sort: $s) { totalCount } }"
CREATE = "mutation($i: TaskInput!) { createTask(input: $i) { id } }"


# (query, variables, the answer with introspection off, what introspection on adds to it)
@pytest.mark.parametrize("query, variables, message, suggestion", [
    ("{ allTasks { totalCount } }", None,  # FieldsOnCorrectTypeRule
     "Cannot query field 'allTasks' on type 'Query'.", "Did you mean 'allTask' or 'oneTask'?"),
    ("{ allTask { results { nam } } }", None,
     "Cannot query field 'nam' on type 'Task'.", "Did you mean 'name'?"),
    ("{ allTask(wher: {}) { totalCount } }", None,  # KnownArgumentNamesRule
     "Unknown argument 'wher' on field 'Query.allTask'.", "Did you mean 'where'?"),
    ("query($w: TaskFiltr) { allTask(where: $w) { totalCount } }", None,  # KnownTypeNamesRule
     "Unknown type 'TaskFiltr'.", "Did you mean 'TaskField'?"),
    ('{ allTask(where: { nam: { eq: "x" } }) { totalCount } }', None,  # ValuesOfCorrectType
     "where.nam: Field 'nam' is not defined by type 'TaskFilterInput'.", "Did you mean 'name'?"),
    ("{ allTask(sort: { field: nam, order: DESC }) { totalCount } }", None,
     "sort.field: Value 'nam' does not exist in 'TaskSortField' enum.",
     "Did you mean the enum value 'name'?"),
    (SORT, {"s": [{"fild": "id"}]},  # variables' coercion
     "Variable '$s' got invalid value {'fild': 'id'} at 's[0]'; Field 'fild' is not defined by "
     "type 'TaskSortInput'.", "Did you mean 'field'?"),
    (SORT, {"s": [{"field": "nme"}]},
     "Variable '$s' got invalid value 'nme' at 's[0].field'; Value 'nme' does not exist in "
     "'TaskSortField' enum.", "Did you mean the enum value 'name'?"),
    (CREATE, {"i": {"nam": "x"}},
     "Variable '$i' got invalid value {'nam': 'x'}; Field 'nam' is not defined by type "
     "'TaskInput'.", "Did you mean 'name'?"),
])
def test_suggestions_come_only_with_introspection(shop, query, variables, message, suggestion):
    assert answer(query, variables) == [(message, "BAD_USER_INPUT")]  # as the app starts
    set_introspection(shop, True)
    assert answer(query, variables) == [(f"{message} {suggestion}", "BAD_USER_INPUT")]
    set_introspection(shop, False)  # the same text again: not the answer cached while on
    assert answer(query, variables) == [(message, "BAD_USER_INPUT")]


def test_a_new_production_application_refuses_introspection(shop):
    assert answer("{ __schema { queryType { name } } }") == [
        ("GraphQL introspection has been disabled, but the requested query contained the field "
         "'__schema'.", "BAD_USER_INPUT"),
        ("GraphQL introspection has been disabled, but the requested query contained the field "
         "'queryType'.", "BAD_USER_INPUT")]


@pytest.mark.parametrize("environment, introspection", [("production", False), ("sandbox", True)])
def test_a_new_application_starts_with_introspection_by_its_environment(
        transactional_db, admin_client, environment, introspection):
    made = Application.objects.create(slug="made", name="Made", environment=environment)
    assert made.introspection_enabled is introspection
    assert Application.objects.create(slug="chosen", name="Chosen", environment=environment,
                                      introspection_enabled=not introspection
                                      ).introspection_enabled is not introspection

    # the admin's add form leaves it to the environment; the change form edits it
    add_page = admin_client.get(admin_url("application_add")).content.decode()
    assert 'name="introspection_enabled"' not in add_page
    settings = {k: v for k, v in API_SETTINGS.items() if k != "introspection_enabled"}
    response = admin_client.post(admin_url("application_add"), {
        **settings, "slug": "added", "name": "Added", "environment": environment})
    assert response.status_code == 302, response.content[:2000]
    added = Application.objects.get(slug="added")
    assert added.introspection_enabled is introspection
    change_page = admin_client.get(admin_url("application_change", added.pk)).content.decode()
    assert 'name="introspection_enabled"' in change_page

    # a definition file that leaves it out
    document = {"mortar": 1, "application": {"slug": "loaded", "environment": environment},
                "models": []}
    loaded = load_definition(document).application
    assert loaded.introspection_enabled is introspection
    assert export_definition(loaded)["application"]["introspection"] is introspection


def test_definition_files_set_introspection_and_reloads_keep_it(transactional_db):
    document = {"mortar": 1, "application": {"slug": "crm", "introspection": True},
                "models": []}
    assert load_definition(document).application.introspection_enabled is True
    del document["application"]["introspection"]  # left out: the application keeps its own
    assert load_definition(document).application.introspection_enabled is True
    document["application"]["introspection"] = False
    assert load_definition(document).application.introspection_enabled is False

    document["application"]["introspection"] = "yes"
    with pytest.raises(DefinitionError) as refused:
        load_definition(document)
    assert refused.value.problems == [
        "application.introspection: expected true or false (left out: on for a new sandbox "
        "application, off for a new production one)."]
