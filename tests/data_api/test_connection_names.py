"""The names cursor connections take (`PageInfo`, `<Model>Edge`) are refused to new models,
and applications that took them before keep their API, without connections where they clash."""

import pytest

from models_registry import changes, names

from ..conftest import everyone_may
from .conftest import Api


def test_a_model_named_page_info_or_an_edge_of_another_is_refused(make_app, make_model):
    app = make_app("names")
    with pytest.raises(changes.SchemaChangeError, match="'PageInfo' is reserved by the API"):
        changes.create_model(app, "PageInfo")
    make_model(app, "Task", title="text")
    with pytest.raises(changes.SchemaChangeError, match="TaskEdge"):
        changes.create_model(app, "TaskEdge")
    changes.create_model(app, "Edge")  # an edge of no model: free


def test_names_taken_before_they_were_reserved_keep_their_api(make_app, make_model,
                                                              monkeypatch):
    """A model named PageInfo keeps its type (the application goes without cursor
    connections); a model TaskEdge beside a Task keeps its type (Task goes without them)."""
    with monkeypatch.context() as unreserved:
        unreserved.setattr(names, "_generated", names.GeneratedNames())
        legacy = make_app("legacy")
        everyone_may(make_model(legacy, "PageInfo", title="text"))
        shop = make_app("shop")
        everyone_may(make_model(shop, "Task", title="text"))
        everyone_may(make_model(shop, "TaskEdge", title="text"))
    api = Api("legacy")
    api.data('mutation { createPageInfo(input: { title: "p" }) { id } }')
    assert api.data("{ allPageInfo { results { title } } }") == {
        "allPageInfo": {"results": [{"title": "p"}]}}
    refused = api.post("{ allPageInfo(first: 1) { totalCount } }").json()["errors"][0]
    assert refused["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Unknown argument 'first'" in refused["message"]
    api = Api("shop")
    api.data('mutation { createTask(input: { title: "t" }) { id } '
             'createTaskEdge(input: { title: "e" }) { id } }')
    assert api.data("{ allTaskEdge(first: 1) { edges { node { title } } } }") == {
        "allTaskEdge": {"edges": [{"node": {"title": "e"}}]}}
    refused = api.post("{ allTask { edges { node { title } } } }").json()["errors"][0]
    assert "Cannot query field 'edges'" in refused["message"]
