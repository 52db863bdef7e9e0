"""Global ids (Relay): every record's `nodeId` is the base64 of gid://<app>/<Model>/<id>, and
`node`/`nodes` find records of any model by it — in the order asked, null where a record does
not exist or may not be read (the two cannot be told apart), one statement per model."""

import base64

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.data_api.sql.global_ids import GlobalId, MalformedGlobalId, parse_global_id
from apps.identity import tokens
from apps.identity.models import AuthProfile, Permission
from models_registry import changes, names
from models_registry.models import Application, DataModel

from ..conftest import everyone_may
from .conftest import Api

NODE = "query($id: ID!) { node(id: $id) { nodeId __typename ...Fields } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { nodeId __typename ...Fields } }"
FIELDS = """
fragment Fields on Node {
  ... on Project { name }
  ... on Task { taskName: name done project { name } }
  ... on Company { name }
  ... on Role { name }
  ... on WebUser { email company { name } }
  ... on Artist { name songs(limit: 1) { title } }
  ... on Song { title artist { name } }
}"""


def gid(model: str, record_id, app: str = "demo") -> str:
    """A global id, written here as the docs describe it (not by the code under test)."""
    return base64.b64encode(f"gid://{app}/{model}/{record_id}".encode()).decode()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def node(api: Api, model: str, record_id, **environ) -> dict:
    """The whole response body to a `node` request."""
    response = api.post(NODE + FIELDS, {"id": gid(model, record_id)}, **environ)
    assert response.status_code == 200, response.content
    return response.json()


def nodes(api: Api, refs: list, **environ) -> dict:
    ids = [ref if isinstance(ref, str) else gid(*ref) for ref in refs]
    response = api.post(NODES + FIELDS, {"ids": ids}, **environ)
    assert response.status_code == 200, response.content
    return response.json()


def bearer(demo, user_id: int) -> dict:
    profile = AuthProfile.objects.get(application=demo, name="Web users")
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens.start_session(profile, user_id).jwt}"}


# -- the id --------------------------------------------------------------------------------


def test_the_format_is_the_seeds():
    assert str(GlobalId("GitStore", "Product", 123)) == "Z2lkOi8vR2l0U3RvcmUvUHJvZHVjdC8xMjM="
    assert parse_global_id("Z2lkOi8vR2l0U3RvcmUvUHJvZHVjdC8xMjM=") == GlobalId(
        "GitStore", "Product", 123)


def test_every_record_type_has_its_node_id(api):
    data = api.data("{ allProject { results { id nodeId } } allTask(limit: 3) { results "
                    "{ id nodeId } } allSong(limit: 2) { results { id nodeId } } }")
    for field, model in (("allProject", "Project"), ("allTask", "Task"), ("allSong", "Song")):
        for record in data[field]["results"]:
            assert record["nodeId"] == gid(model, record["id"])
            assert base64.b64decode(record["nodeId"]).decode() == (
                f"gid://demo/{model}/{record['id']}")


def test_node_ids_in_nested_relations_one_x_and_mutation_results(api):
    data = api.data("{ oneTask(where: { id: { eq: 3 } }) { nodeId project { nodeId "
                    "tasks(limit: 2) { id nodeId } } } allWebUser(limit: 1) { results "
                    "{ company { nodeId } roles { id nodeId } } } }")
    assert data["oneTask"] == {"nodeId": gid("Task", 3), "project": {
        "nodeId": gid("Project", 1), "tasks": [{"id": 3, "nodeId": gid("Task", 3)},
                                              {"id": 6, "nodeId": gid("Task", 6)}]}}
    assert data["allWebUser"]["results"] == [{"company": {"nodeId": gid("Company", 1)}, "roles": [
        {"id": 1, "nodeId": gid("Role", 1)}, {"id": 2, "nodeId": gid("Role", 2)}]}]
    created = api.data('mutation { createTask(input: { name: "New" }) { id nodeId } }')
    assert created["createTask"]["nodeId"] == gid("Task", created["createTask"]["id"])


def test_a_long_id_is_one_line(make_app, make_model):
    """PostgreSQL's base64 breaks lines every 76 characters; an id never has a line break."""
    slug = "a-rather-long-application-slug-for-global-ids"
    model = "AModelWithAVeryLongNameIndeedForTheseIds"
    everyone_may(make_model(make_app(slug), model, title="text"))
    api = Api(slug)
    created = api.data(f'mutation {{ create{model}(input: {{ title: "x" }}) {{ id nodeId }} }}')
    expected = gid(model, created[f"create{model}"]["id"], app=slug)
    assert len(expected) > 76
    assert created[f"create{model}"]["nodeId"] == expected
    assert api.data(f"{{ all{model} {{ results {{ nodeId }} }} }}")[f"all{model}"] == {
        "results": [{"nodeId": expected}]}


# -- node and nodes ------------------------------------------------------------------------


@pytest.mark.parametrize("model, record_id, fields", [
    ("Project", 2, {"name": "Office move"}),
    ("Task", 1, {"taskName": "Design homepage", "done": True, "project": {"name": "Office move"}}),
    ("Company", 2, {"name": "Acme"}),
    ("Role", 3, {"name": "viewer"}),
    ("WebUser", 4, {"email": "dave@example.com", "company": {"name": "Acme"}}),
    ("Artist", 2, {"name": "David Bowie", "songs": [{"title": "Heroes"}]}),
    ("Song", 1, {"title": "Blue Monday", "artist": {"name": "New Order"}}),
])
def test_node_of_each_model(api, django_assert_num_queries, model, record_id, fields):
    node(api, "Task", 2)  # warm
    with django_assert_num_queries(1):
        body = node(api, model, record_id)
    assert body == {"data": {"node": {"nodeId": gid(model, record_id), "__typename": model,
                                      **fields}}}


def test_fragments_on_node_named_fragments_and_aliases(api):
    query = """query($id: ID!) { found: node(id: $id) { ... on Node { globalId: nodeId }
      kind: __typename ...TaskName ... on Project { name } } }
      fragment TaskName on Task { title: name id }"""
    assert api.data(query, {"id": gid("Task", 4)}) == {"found": {
        "globalId": gid("Task", 4), "kind": "Task", "title": "Configure DNS", "id": 4}}
    assert api.data(query, {"id": gid("Project", 3)}) == {"found": {
        "globalId": gid("Project", 3), "kind": "Project", "name": "Marketing"}}


def test_ids_written_in_the_document(api):
    """Literals instead of variables: the second document reuses the first one's template."""
    for model, record_id, name in (("Role", 1, "admin"), ("Company", 1, "Betty Blocks")):
        query = (f'{{ node(id: "{gid(model, record_id)}") {{ ... on {model} {{ name }} }} '
                 f'nodes(ids: ["{gid(model, record_id)}", "{gid("Task", 99)}"]) {{ nodeId }} }}')
        assert api.data(query) == {"node": {"name": name},
                                   "nodes": [{"nodeId": gid(model, record_id)}, None]}


def test_nodes_answer_in_the_order_asked_with_nulls_for_missing(api):
    body = nodes(api, [("Task", 3), ("Project", 1), ("Task", 999), ("Role", 2), ("Task", 1),
                       ("Project", 1), ("Invoice", 1)])
    assert body == {"data": {"nodes": [
        {"nodeId": gid("Task", 3), "__typename": "Task", "taskName": "Set up hosting", "done": True,
         "project": {"name": "Website"}},
        {"nodeId": gid("Project", 1), "__typename": "Project", "name": "Website"},
        None,
        {"nodeId": gid("Role", 2), "__typename": "Role", "name": "editor"},
        {"nodeId": gid("Task", 1), "__typename": "Task", "taskName": "Design homepage",
         "done": True, "project": {"name": "Office move"}},
        {"nodeId": gid("Project", 1), "__typename": "Project", "name": "Website"},
        None]}}
    assert nodes(api, []) == {"data": {"nodes": []}}


def test_a_hundred_ids_of_three_models_take_three_statements(api, demo):
    api.data("mutation($input: [TaskInput!]!) { createManyTask(input: $input) { id } }",
             {"input": [{"name": f"More {i}"} for i in range(40)]})  # 60 tasks
    refs = [("Task", i) for i in range(1, 61)] + [("Song", 1 + i % 5) for i in range(30)] + [
        ("Project", 1 + i % 4) for i in range(10)]  # Project 4 does not exist
    nodes(api, [("Task", 1)])  # warm
    with CaptureQueriesContext(connection) as captured:
        body = nodes(api, refs)
    assert len(captured.captured_queries) == 3
    found = body["data"]["nodes"]
    assert len(found) == 100
    assert [n and n["nodeId"] for n in found] == [
        None if model == "Project" and record_id == 4 else gid(model, record_id)
        for model, record_id in refs]


def test_more_ids_than_a_page_are_refused(api, demo):
    most = demo.max_page_size
    with CaptureQueriesContext(connection) as captured:
        body = nodes(api, [("Task", 1)] * (most + 1))
    assert body["data"] is None or body["data"] == {"nodes": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == (f"nodes takes at most {most} ids (got {most + 1}), as many as "
                                "a page of allX; ask for the others in another request.")
    assert not any("mortar_t" in q["sql"] for q in captured.captured_queries)
    assert len(nodes(api, [("Task", 1)] * most)["data"]["nodes"]) == most


def test_introspection_beside_node_runs_through_graphql_core_alike(api):
    query = ('query($id: ID!, $ids: [ID!]!) { __schema { queryType { name } } '
             'node(id: $id) { __typename nodeId ... on Task { name } } '
             'nodes(ids: $ids) { ... on Project { name } ... on Role { id } } }')
    data = api.data(query, {"id": gid("Task", 2), "ids": [gid("Role", 4), gid("Task", 99),
                                                          gid("Project", 2)]})
    assert data == {"__schema": {"queryType": {"name": "Query"}},
                    "node": {"__typename": "Task", "nodeId": gid("Task", 2), "name": "Write copy"},
                    "nodes": [{"id": 4}, None, {"name": "Office move"}]}


# -- permissions: forbidden answers as missing does -------------------------------------------


def test_records_the_caller_may_not_read_are_null_as_missing_ones(demo):
    """The shipped demo: users read themselves (Eve is 5), anonymous callers no user at all
    (allWebUser is FORBIDDEN to them; node is null, as for a user that does not exist)."""
    api = Api()
    assert api.error("{ allWebUser { totalCount } }")["extensions"]["code"] == "FORBIDDEN"
    missing = node(api, "WebUser", 999)
    assert missing == {"data": {"node": None}}
    assert node(api, "WebUser", 1) == missing
    eve = bearer(demo, 5)
    assert node(api, "WebUser", 1, **eve) == node(api, "WebUser", 999, **eve) == missing
    assert node(api, "WebUser", 5, **eve) == {"data": {"node": {
        "nodeId": gid("WebUser", 5), "__typename": "WebUser", "email": "eve@example.com",
        "company": {"name": "Acme"}}}}
    assert nodes(api, [("WebUser", 1), ("Task", 2), ("WebUser", 5), ("WebUser", 999)],
                 **eve)["data"]["nodes"] == [
        None, {"nodeId": gid("Task", 2), "__typename": "Task", "taskName": "Write copy",
               "done": True, "project": {"name": "Marketing"}},
        {"nodeId": gid("WebUser", 5), "__typename": "WebUser", "email": "eve@example.com",
         "company": {"name": "Acme"}}, None]


def test_a_model_nobody_may_read_gives_nulls_and_relations_say_why(demo):
    Permission.objects.filter(data_model__application=demo, data_model__name="Project",
                              operation="read").delete()
    api = Api()
    assert node(api, "Project", 1) == node(api, "Project", 999) == {"data": {"node": None}}
    body = nodes(api, [("Task", 3), ("Task", 999), ("Project", 1)])
    assert body["data"] == {"nodes": [
        {"nodeId": gid("Task", 3), "__typename": "Task", "taskName": "Set up hosting",
         "done": True, "project": None}, None, None]}
    assert [(e["extensions"]["code"], e["path"]) for e in body["errors"]] == [
        ("FORBIDDEN", ["nodes", 0, "project"]), ("FORBIDDEN", ["nodes", 1, "project"])]
    # a missing task is told the same as an existing one
    assert node(api, "Task", 999)["errors"] == node(api, "Task", 3)["errors"]


# -- ids that are no ids of this application -----------------------------------------------


MALFORMED = [
    ("not base64 !!", "not base64"),
    ("", "does not decode to gid://<app>/<Model>/<id>"),
    ("Z2lkOi8vZGVtby9UYXNrLzE", "not base64"),  # padding left out
    ("Z2lkOi8vZGVtby9UYXNrLzE=\n", "not base64"),
    (b64("gid://demo/Task/1")[:-2] + "F=", "not base64 as this API writes it"),  # other bits
    (b64("gid://demo/Task"), "does not decode to gid://<app>/<Model>/<id>"),
    (b64("gid://demo/Task/1/2"), "does not decode to gid://<app>/<Model>/<id>"),
    (b64("https://demo/Task/1"), "does not decode to gid://<app>/<Model>/<id>"),
    (base64.b64encode(b"gid://demo/Task/\xff").decode(), "does not decode to"),
    (b64("gid://demo/task/1"), "'task' is not a model name"),
    (b64("gid://demo/Task/abc"), "'abc' is not a record id"),
    (b64("gid://demo/Task/-1"), "'-1' is not a record id"),
    (b64("gid://demo/Task/01"), "'01' is not a record id"),
    (b64("gid://demo/Task/1.0"), "'1.0' is not a record id"),
    (b64(f"gid://demo/Task/{2**63}"), f"'{2**63}' is not a record id"),
    ("7", "not base64"),
]


@pytest.mark.parametrize("value, why", MALFORMED)
def test_a_malformed_id_is_bad_user_input(api, value, why):
    body = api(NODE + FIELDS, {"id": value})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("id: ") and why in error["message"], error["message"]
    assert error["message"].endswith("Global ids are the values of nodeId.")
    with pytest.raises(MalformedGlobalId):
        parse_global_id(value)


def test_one_malformed_id_refuses_all_of_nodes_and_says_which(api):
    with CaptureQueriesContext(connection) as captured:
        body = nodes(api, [("Task", 1), "bm9wZQ=="])
    assert body["data"] in (None, {"nodes": None})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("ids[1]: 'bm9wZQ==' is not a global id")
    assert not any("mortar_t" in q["sql"] for q in captured.captured_queries)


def test_an_integer_literal_is_not_an_id(api):
    error = api.error("{ node(id: 1) { nodeId } }")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == "id: '1' is not a global id: not base64. Global ids are the " \
                               "values of nodeId."


def test_an_id_of_another_application_is_bad_user_input(api, make_app, make_model):
    everyone_may(make_model(make_app("other"), "Task", name="text"))
    other = Api("other").data('mutation { createTask(input: { name: "x" }) { nodeId } }')
    foreign = other["createTask"]["nodeId"]
    assert foreign == gid("Task", 1, app="other")  # the same model name and id as demo's
    error = api.error(NODE + FIELDS, {"id": foreign})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == (f"id: {foreign!r} is a global id of the application 'other', "
                                "not of 'demo'.")
    assert Api("other").data("query($id: ID!) { node(id: $id) { nodeId } }",
                             {"id": foreign}) == {"node": {"nodeId": foreign}}


def test_ids_of_a_renamed_model_find_nothing(api, demo):
    """Ids name the model by its name: a renamed model's old ids are those of no record
    (null, as for a deleted model), and its records get new ones."""
    old = gid("Project", 1)
    changes.rename_model(DataModel.objects.get(application=demo, name="Project"), "Venture")
    assert api.data("query($id: ID!) { node(id: $id) { nodeId } }", {"id": old}) == {
        "node": None}
    assert api.data("query($id: ID!) { node(id: $id) { nodeId ... on Venture { name } } }",
                    {"id": gid("Venture", 1)}) == {
        "node": {"nodeId": gid("Venture", 1), "name": "Website"}}


# -- the schema ----------------------------------------------------------------------------


def test_introspection_shows_node_and_node_id(api):
    data = api.data("""{ node: __type(name: "Node") { kind fields { name type { kind ofType
      { name } } } possibleTypes { name } } task: __type(name: "Task") { interfaces { name }
      fields { name } } __schema { queryType { fields { name args { name type { kind ofType
      { kind ofType { kind ofType { name } } } } } type { kind name ofType { kind } } } } } }""")
    assert data["node"] == {
        "kind": "INTERFACE",
        "fields": [{"name": "nodeId", "type": {"kind": "NON_NULL", "ofType": {"name": "ID"}}}],
        "possibleTypes": data["node"]["possibleTypes"]}
    assert sorted(t["name"] for t in data["node"]["possibleTypes"]) == [
        "Artist", "Company", "Project", "Role", "Song", "Task", "WebUser"]
    assert data["task"]["interfaces"] == [{"name": "Node"}]
    assert "nodeId" in [f["name"] for f in data["task"]["fields"]]
    fields = {f["name"]: f for f in data["__schema"]["queryType"]["fields"]}
    assert fields["node"]["args"] == [{"name": "id", "type": {
        "kind": "NON_NULL", "ofType": {"kind": "SCALAR", "ofType": None}}}]
    assert fields["node"]["type"] == {"kind": "INTERFACE", "name": "Node", "ofType": None}
    assert fields["nodes"]["args"] == [{"name": "ids", "type": {"kind": "NON_NULL", "ofType": {
        "kind": "LIST", "ofType": {"kind": "NON_NULL", "ofType": {"name": "ID"}}}}}]
    assert fields["nodes"]["type"] == {"kind": "NON_NULL", "name": None,
                                       "ofType": {"kind": "LIST"}}


def test_node_nests_no_deeper_than_the_limit(api, demo):
    deep = ("query($id: ID!) { node(id: $id) { ... on Task { project { tasks { project { "
            "tasks { name } } } } } } }")
    error = api.error(deep, {"id": gid("Task", 1)})
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["message"].startswith(f"node nests records 5 deep; at most {demo.max_depth}")


def test_a_model_named_node_or_a_field_named_node_id_is_refused(make_app, make_model):
    app = make_app("names")
    with pytest.raises(changes.SchemaChangeError, match="'Node' is reserved by the API"):
        changes.create_model(app, "Node")
    task = make_model(app, "Task", title="text")
    with pytest.raises(changes.SchemaChangeError,
                       match="'nodeId' is a field the API gives every model"):
        changes.add_property(task, "nodeId", "text")
    project = make_model(app, "Project")
    with pytest.raises(changes.SchemaChangeError,
                       match="'nodeId' is a field the API gives every model"):
        changes.add_relation(task, "nodeId", project, "tasks")
    changes.create_model(app, "NodeType")  # other names with Node in them are free


def test_names_taken_before_they_were_reserved_keep_their_api(make_app, make_model,
                                                              monkeypatch):
    """An application defined before `Node` and `nodeId` were reserved answers as it did:
    a model named Node keeps its type (and the application goes without global ids); a
    property named nodeId keeps its value (and that model goes without one)."""
    with monkeypatch.context() as unreserved:
        unreserved.setattr(names, "_generated", names.GeneratedNames())
        legacy = make_app("legacy")
        everyone_may(make_model(legacy, "Node", title="text"))
        shop = make_app("shop")
        everyone_may(make_model(shop, "Task", nodeId="text"))
        everyone_may(make_model(shop, "Project", name="text"))
    api = Api("legacy")
    api.data('mutation { createNode(input: { title: "n" }) { id } }')
    assert api.data("{ allNode { results { id title } } }") == {
        "allNode": {"results": [{"id": 1, "title": "n"}]}}
    refused = api.post('{ node(id: "x") { __typename } }').json()["errors"][0]
    assert "Cannot query field 'node'" in refused["message"]
    api = Api("shop")
    api.data('mutation { createTask(input: { nodeId: "mine" }) { id } '
             'createProject(input: { name: "p" }) { id } }')
    assert api.data("{ allTask { results { nodeId } } allProject { results { nodeId } } }") == {
        "allTask": {"results": [{"nodeId": "mine"}]},
        "allProject": {"results": [{"nodeId": gid("Project", 1, app="shop")}]}}
    assert api.data("query($ids: [ID!]!) { nodes(ids: $ids) { nodeId } }",
                    {"ids": [gid("Task", 1, app="shop"), gid("Project", 1, app="shop")]}) == {
        "nodes": [None, {"nodeId": gid("Project", 1, app="shop")}]}
    assert Application.objects.filter(slug__in=["legacy", "shop"]).count() == 2
