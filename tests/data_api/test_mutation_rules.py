"""What mutations refuse, and that a refusal changes nothing."""

import json

import pytest
from django.contrib.auth.hashers import check_password

from apps.data_api.freshness import Freshness
from apps.data_api.request.executor import run_query
from apps.identity.principals import SERVER
from models_registry import changes
from models_registry.models import DataModel
from models_registry.runtime import runtime_models

from ..conftest import everyone_may

CREATE = "mutation($input: TaskInput!) { createTask(input: $input) { id } }"
CREATE_MANY = "mutation($input: [TaskInput!]!) { createManyTask(input: $input) { id } }"
UPDATE = "mutation($id: Int!, $input: TaskInput!) { updateTask(id: $id, input: $input) { id } }"


def count(api, model="Task") -> int:
    return api.data(f"{{ all{model} {{ totalCount }} }}")[f"all{model}"]["totalCount"]


@pytest.fixture
def rules(demo):
    """Task gets validations: a name of 3-10 characters starting with a capital, an estimate
    between 1 and 40, a price with 2 places."""
    task = DataModel.objects.get(application=demo, name="Task")
    changes.alter_property(task.properties.get(name="name"), min_length=3, max_length=10,
                           pattern="^[A-Z]")
    changes.add_property(task, "estimate", "integer", min_value=1, max_value=40)
    changes.add_property(task, "cost", "price")
    return task


def test_each_rule_is_named_with_its_field(api, rules):
    error = api.error(CREATE, {"input": {"name": "ab", "estimate": 41, "priority": "urgent",
                                         "cost": "1.234"}})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    fields = error["extensions"]["fields"]
    assert set(fields) == {"name", "estimate", "priority", "cost"}
    assert any("at least 3" in m for m in fields["name"])
    assert "Does not match the pattern ^[A-Z]." in fields["name"]
    assert any("less than or equal to 40" in m for m in fields["estimate"])
    assert any("not a valid choice" in m for m in fields["priority"])
    assert any("2 decimal places" in m for m in fields["cost"])
    assert count(api) == 20


def test_required_on_create_and_null_refused_for_required(api):
    error = api.error("mutation($input: ProjectInput!) { createProject(input: $input) { id } }",
                      {"input": {}})
    assert error["extensions"]["fields"] == {"name": ["This field is required."]}
    error = api.error("mutation { updateProject(id: 1, input: { name: null }) { id } }")
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert "name" in error["extensions"]["fields"]


def test_explicit_null_clears_and_absent_keeps(api):
    api.data(UPDATE, {"id": 1, "input": {"endDate": None}})
    record = api.data("{ oneTask(where: { id: { eq: 1 } }) { endDate name } }")["oneTask"]
    assert record == {"endDate": None, "name": "Design homepage"}


def test_formats_and_unique(api):
    error = api.error("mutation($input: WebUserInput!) { createWebUser(input: $input) { id } }",
                      {"input": {"email": "betty@example.com"}})  # taken by WebUser 1
    assert error["extensions"]["fields"]["email"] == ["A WebUser with this email already exists."]
    error = api.error("mutation($input: WebUserInput!) { createWebUser(input: $input) { id } }",
                      {"input": {"email": "not-an-email"}})
    assert "email" in error["extensions"]["fields"]


def test_many_items_name_their_index_and_nothing_is_written(api):
    items = [{"task": f"t{i}"} for i in range(1000)]
    items[567] = {"task": "bad", "externalId": "ext-001"}  # taken by Task 1
    items[890] = {"task": "bad", "project": {"id": 999}}
    error = api.error(CREATE_MANY, {"input": items})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert set(error["extensions"]["fields"]) == {"[567].externalId", "[890].project"}
    assert error["extensions"]["fields"]["[890].project"] == ["No Project with id 999."]
    assert count(api) == 20


def test_items_of_one_request_may_not_share_a_unique_value(api):
    error = api.error(CREATE_MANY, {"input": [{"externalId": "x"}, {"externalId": "x"}]})
    assert error["extensions"]["fields"] == {
        "[1].externalId": ["Another item of this request has this externalId."]}


def test_more_items_than_allowed_is_bad_user_input(api, demo):
    demo.max_mutation_items = 5
    demo.save()
    error = api.error(CREATE_MANY, {"input": [{"task": "x"}] * 6})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "at most 5 items" in error["message"]


def test_unknown_relation_ids_change_nothing(api):
    error = api.error("mutation($input: WebUserInput!) { updateWebUser(id: 1, input: $input) "
                      "{ id } }", {"input": {"firstName": "X", "roles": {"_add": [{"id": 2},
                                                                                 {"id": 77}]}}})
    assert error["extensions"]["fields"] == {"roles": ["No Role with id 77."]}
    user = api.data("{ oneWebUser(where: { id: { eq: 1 } }) { firstName roles { id } } }")
    assert user["oneWebUser"] == {"firstName": "Betty", "roles": [{"id": 1}, {"id": 2}]}


def test_not_found(api):
    for mutation in ('mutation { updateTask(id: 999, input: { task: "x" }) { id } }',
                     "mutation { deleteTask(id: 999) { id } }"):
        body = api(mutation)
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert body["data"] == {mutation.split()[2].split("(")[0]: None}
    error = api.error("mutation { deleteManyTask(input: { ids: [1, 999] }) { id } }")
    assert error["extensions"]["code"] == "NOT_FOUND" and "999" in error["message"]
    assert count(api) == 20


@pytest.mark.parametrize("mutation, message", [
    ('mutation { createTask(input: { id: 5, task: "x" }) { id } }', "id is not set"),
    ('mutation { updateTask(id: 1, input: { id: 5 }) { id } }', "id is not set"),
    ('mutation { createTask(input: { createdAt: "2024-01-01T00:00:00Z" }) { id } }',
     "createdAt"),
    ('mutation { upsertTask(input: { task: "x" }, uniqueBy: [externalId]) { id } }',
     "externalId"),
    ('mutation { upsertTask(input: { task: "x" }) { id } }', "needs uniqueBy"),
    ('mutation { createTask(input: { project: { id: 1 }, task: "x" }, validationSets: ["x"])'
     " { id } }", "Unknown validation set"),
])
def test_bad_user_input(api, mutation, message):
    error = api.error(mutation)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in error["message"]
    assert count(api) == 20


def test_at_most_guards_update_many_and_delete_many(api):
    body = api('mutation { updateManyTask(where: { done: { eq: false } }, input: { task: "x" }, '
               "atMost: 3) { id } }")
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "atMost",
                                                "matched": 14}
    assert api.data('{ allTask(where: { task: { eq: "x" } }) { totalCount } }')[
        "allTask"]["totalCount"] == 0
    error = api.error("mutation { deleteManyTask(input: { ids: [1, 2, 3] }, atMost: 2) { id } }")
    assert "3 records are listed" in error["message"]
    assert count(api) == 20


def test_mutation_fields_run_in_order_each_atomic(api):
    body = api('mutation { a: createTask(input: { task: "first" }) { id } '
               'b: updateTask(id: 999, input: { task: "x" }) { id } '
               'c: createTask(input: { task: "third" }) { id } }')
    assert body["data"] == {"a": {"id": 21}, "b": None, "c": {"id": 22}}
    assert body["errors"][0]["path"] == ["b"]


def test_a_failing_list_mutation_stops_the_ones_after_it(api):
    body = api('mutation { a: createTask(input: { task: "kept" }) { id } '
               'b: createManyTask(input: [{ project: { id: 999 } }]) { id } '
               'c: createTask(input: { task: "never" }) { id } }')
    assert body["data"] is None
    assert [e["path"] for e in body["errors"]] == [["b"]]
    assert count(api) == 21  # a stays written; c never ran


def test_passwords_are_hashed_and_never_readable(api, demo):
    api.data('mutation { updateWebUser(id: 1, input: { password: "s3cret-pass" }) { id } }')
    user = runtime_models(demo)["WebUser"].objects.get(pk=1)
    stored = getattr(user, user._mortar.attname("password"))
    assert stored != "s3cret-pass" and check_password("s3cret-pass", stored)
    error = api.error("{ oneWebUser(where: { id: { eq: 1 } }) { password } }")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_delete_nullifies_references_and_removes_links(api):
    api.data("mutation { deleteCompany(id: 1) { id } }")
    users = api.data("{ allWebUser { results { id company { id } } } }")["allWebUser"]["results"]
    assert all(u["company"] is None or u["company"]["id"] != 1 for u in users)
    assert count(api, "WebUser") == 5  # nullify: the users stay
    api.data("mutation { deleteRole(id: 1) { id } }")
    user = api.data("{ oneWebUser(where: { id: { eq: 1 } }) { roles { id } } }")
    assert user["oneWebUser"]["roles"] == [{"id": 2}]


def test_delete_follows_cascade(api):
    songs = api.data("{ oneArtist(where: { id: { eq: 1 } }) { songs { id } } }")
    assert songs["oneArtist"]["songs"]
    api.data("mutation { deleteArtist(id: 1) { id } }")
    assert api.data("{ allSong(where: { artist: { id: { eq: 1 } } }) { totalCount } }")[
        "allSong"]["totalCount"] == 0


def test_empty_validation_set_is_for_action_scripts_only(api, demo, rules):
    mutation = ('mutation { createTask(input: { name: "x" }, validationSets: ["empty"]) '
                "{ id name } }")
    error = api.error(mutation)
    assert error["extensions"]["code"] == "FORBIDDEN"
    application, freshness = Freshness.reread(demo.slug)
    body = json.loads(run_query(application, freshness, mutation, None, None,
                                principal=SERVER))
    assert body["data"]["createTask"]["name"] == "x"  # the length and pattern rules skipped


def test_values_their_kind_refuses_are_validation_errors(api):
    error = api.error(CREATE_MANY, {"input": [{"task": "ok"},
                                              {"endDate": "2024-02-30"}, {"endDate": "soon"}]})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert set(error["extensions"]["fields"]) == {"[1].endDate", "[2].endDate"}
    error = api.error(CREATE, {"input": {"endDate": "31/01/2024"}})
    assert list(error["extensions"]["fields"]) == ["endDate"]
    assert count(api) == 20


@pytest.mark.parametrize("value", ["a\x00b", "\ud800"])
def test_text_no_database_can_hold_is_refused(api, value):
    error = api.error(CREATE, {"input": {"name": value}})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert list(error["extensions"]["fields"]) == ["name"]
    assert count(api) == 20


def test_a_lone_surrogate_in_a_filter_is_bad_user_input(api):
    error = api.error("query($n: String) { allTask(where: { name: { eq: $n } }) { totalCount } }",
                      {"n": "\ud800"})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("field, value", [("url", "not a url"), ("phone", "call me")])
def test_url_and_phone_formats(make_app, make_model, field, value):
    from django.test import Client

    app = make_app("formats")
    everyone_may(make_model(app, "Contact", url="url", phone="phone"))
    client = Client(HTTP_HOST="localhost")
    body = client.post("/api/formats/graphql", json.dumps({
        "query": "mutation($input: ContactInput!) { createContact(input: $input) { id } }",
        "variables": {"input": {field: value}}}), content_type="application/json").json()
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert list(body["errors"][0]["extensions"]["fields"]) == [field]


def test_a_partly_bad_upsert_many_changes_nothing(api):
    before = api.data("{ allTask(limit: 200) { results { id task } } }")
    error = api.error("mutation($input: [TaskInput!]!) { upsertManyTask(input: $input) { id } }",
                      {"input": [{"id": 1, "task": "changed"}, {"task": "new"},
                                 {"id": 2, "project": {"id": 999}}]})
    assert error["extensions"]["fields"] == {"[2].project": ["No Project with id 999."]}
    assert api.data("{ allTask(limit: 200) { results { id task } } }") == before


def test_a_partly_bad_update_many_changes_nothing(api):
    before = api.data("{ allWebUser { results { id firstName roles { id } } } }")
    error = api.error('mutation { updateManyWebUser(where: { id: { lteq: 3 } }, input: { '
                      'firstName: "Same", roles: { _add: [{ id: 1 }, { id: 99 }] } }) { id } }')
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert api.data("{ allWebUser { results { id firstName roles { id } } } }") == before
