"""The schema an application gets: each root field says what it does, and every name it
generates is one the registry's name rules know (so no model can take it)."""

import gc
import weakref

import pytest

from apps.data_api.request.schemas import api_schema
from apps.data_api.schema.build import MODEL_TYPE_SUFFIXES, fixed_type_names
from apps.data_api.schema.roles import MUTATION_ACTIONS, QUERY_ACTIONS, role_of
from models_registry import changes

from ..conftest import everyone_may
from .conftest import Api


def test_every_root_field_carries_its_action_and_model(demo):
    changes.set_trash(demo.data_models.get(name="Task"), True)  # restoreTask, restoreManyTask
    schema = api_schema(demo).schema
    models = {cls._mortar.name for cls in api_schema(demo).built.by_id.values()}
    for root, actions in ((schema.query_type, QUERY_ACTIONS),
                          (schema.mutation_type, MUTATION_ACTIONS)):
        per_model = {}
        for name, field in root.fields.items():
            role = role_of(field)
            assert role is not None, name
            assert role.field_name() == name
            if role.model is not None:
                per_model.setdefault(role.model, set()).add(role.action)
        assert per_model == {model: {action for action in actions if model == "Task"
                                     or not action.startswith("restore")}
                             for model in models}


def test_every_generated_type_name_is_known_to_the_name_rules(demo):
    """A type the builder makes that the rules do not know could be taken by a model name,
    and then every request to that application would fail."""
    built = api_schema(demo)
    fixed = fixed_type_names()
    per_model = {cls._mortar.name + suffix for cls in built.built.by_id.values()
                 for suffix in MODEL_TYPE_SUFFIXES}
    generated = {name for name in built.schema.type_map if not name.startswith("__")}
    assert generated - fixed - per_model == set()


def test_models_whose_names_differ_by_an_action_prefix_keep_all_their_mutations(
        make_app, make_model):
    """`createTaskMany` and `createManyTask` are different models' fields; each is run by
    the field's role, not by reading the name."""
    app = make_app("names")
    for name in ("Task", "TaskMany"):
        everyone_may(make_model(app, name, title="text"))
    api = Api("names")
    created = api.data('mutation { a: createTask(input: { title: "t" }) { id title } '
                       'b: createTaskMany(input: { title: "m" }) { id title } '
                       'c: createManyTask(input: [{ title: "n" }]) { title } '
                       'd: createManyTaskMany(input: [{ title: "o" }]) { title } }')
    assert created["a"]["title"] == "t" and created["b"]["title"] == "m"
    assert created["c"] == [{"title": "n"}] and created["d"] == [{"title": "o"}]
    counts = api.data("{ allTask { totalCount } allTaskMany { totalCount } }")
    assert counts == {"allTask": {"totalCount": 2}, "allTaskMany": {"totalCount": 2}}


@pytest.mark.parametrize("first, second", [("Task", "ManyTask"), ("ManyTask", "Task")])
def test_a_model_whose_mutations_would_hide_another_models_is_refused(make_app, make_model,
                                                                       first, second):
    app = make_app("hidden")
    make_model(app, first)
    with pytest.raises(changes.SchemaChangeError, match="would both generate 'createManyTask'"):
        changes.create_model(app, second)


def test_schemas_are_kept_for_as_many_applications_as_runtime_builds(
        make_app, make_model, settings):
    """The schema cache is bounded like the runtime models' cache: a schema it dropped no
    longer keeps that application's runtime classes alive."""
    settings.MORTAR_RUNTIME_CACHE_SIZE = 1
    first, second = make_app("first"), make_app("second")
    for app in (first, second):
        make_model(app, "Task", title="text")
        app.refresh_from_db()
    built = weakref.ref(api_schema(first).built)
    api_schema(second)
    gc.collect()
    assert built() is None
