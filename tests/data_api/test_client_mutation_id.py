"""clientMutationId: every mutation field takes one and the response echoes it in its top-level
extensions, keyed by the field's response key; the Betty return types stay as they are, and a
response without one is byte for byte what it was."""

import json

import pytest

from apps.data_api.request.schemas import api_schema
from apps.data_api.schema.roles import role_of

UPDATE = ("mutation($id: Int!, $input: TaskInput!, $cmid: String) { "
          "updateTask(id: $id, input: $input, clientMutationId: $cmid) { id name } }")


def test_without_it_the_response_is_as_it_was_with_it_extensions_are_added(api):
    mutation = 'mutation {{ updateTask(id: 7, input: {{ name: "Mine" }}{}) {{ id name }} }}'
    without = api.post(mutation.format("")).content
    assert json.loads(without) == {"data": {"updateTask": {"id": 7, "name": "Mine"}}}
    assert b"extensions" not in without
    echoed = api.post(mutation.format(', clientMutationId: "rename-7"')).content
    assert echoed == without[:-1] + (b',"extensions":{"clientMutationId": '
                                     b'{"updateTask": "rename-7"}}}')


def test_several_fields_are_keyed_by_their_response_keys(api):
    body = api('mutation { a: createTask(input: { name: "New" }, clientMutationId: "one") '
               "{ id } b: deleteTask(id: 1, clientMutationId: \"two\") { id } "
               'c: updateTask(id: 2, input: { name: "Three" }) { id } '
               'd: updateTask(id: 3, input: { name: "Four" }, clientMutationId: "four") { id } }')
    assert body == {"data": {"a": {"id": 21}, "b": {"id": 1}, "c": {"id": 2}, "d": {"id": 3}},
                    "extensions": {"clientMutationId": {"a": "one", "b": "two", "d": "four"}}}


def test_from_a_variable_and_null_as_absent(api):
    assert api(UPDATE, {"id": 7, "input": {"name": "Mine"}, "cmid": "from a variable"}) == {
        "data": {"updateTask": {"id": 7, "name": "Mine"}},
        "extensions": {"clientMutationId": {"updateTask": "from a variable"}}}
    assert api(UPDATE, {"id": 7, "input": {"name": "Mine"}, "cmid": None}) == {
        "data": {"updateTask": {"id": 7, "name": "Mine"}}}
    assert api(UPDATE, {"id": 7, "input": {"name": "Mine"}}) == {
        "data": {"updateTask": {"id": 7, "name": "Mine"}}}


def test_each_request_echoes_its_own_literal(api):
    """Documents differing only in literals share one parsed template: the echo is still
    the literal this request sent."""
    for cmid in ("first", "second", 'with "quotes" and ünïcode'):
        text = json.dumps(cmid)
        body = api(f'mutation {{ updateTask(id: 7, input: {{ name: "Mine" }}, '
                   f"clientMutationId: {text}) {{ id }} }}")
        assert body["extensions"] == {"clientMutationId": {"updateTask": cmid}}


def test_a_failing_mutation_echoes_it_too(api):
    body = api('mutation { updateTask(id: 99, input: { name: "Mine" }, '
               'clientMutationId: "missing") { id } }')
    assert body["data"] == {"updateTask": None}
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert body["extensions"] == {"clientMutationId": {"updateTask": "missing"}}


def test_fields_after_a_failing_non_null_list_do_not_run_and_are_not_echoed(api):
    body = api('mutation { a: updateTask(id: 7, input: { name: "A" }, clientMutationId: "a") '
               "{ id } b: deleteManyTask(input: { ids: [99] }, clientMutationId: \"b\") { id } "
               'c: updateTask(id: 8, input: { name: "C" }, clientMutationId: "c") { id } }')
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]
    assert body["extensions"] == {"clientMutationId": {"a": "a", "b": "b"}}


def test_a_non_string_is_bad_user_input_and_changes_nothing(api):
    before = api.data("{ oneTask(where: { id: { eq: 7 } }) { name updatedAt } }")
    body = api('mutation { updateTask(id: 7, input: { name: "Mine" }, clientMutationId: 5) '
               "{ id } }")
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert "extensions" not in body
    assert api.data("{ oneTask(where: { id: { eq: 7 } }) { name updatedAt } }") == before


@pytest.mark.parametrize("action", ["create", "createMany", "update", "updateMany", "upsert",
                                    "upsertMany", "delete", "deleteMany"])
def test_every_mutation_of_every_model_takes_it(demo, action):
    mutation = api_schema(demo).schema.mutation_type
    fields = [f for f in mutation.fields.values()
              if role_of(f).model is not None and role_of(f).action == action]
    assert len(fields) == 7  # one per model of the demo
    for field in fields:
        argument = field.args["clientMutationId"]
        assert str(argument.type) == "String" and argument.description


def test_introspection_shows_it(api):
    fields = api.data('{ __type(name: "Mutation") { fields { name args { name type { name } } '
                      "} } }")["__type"]["fields"]
    taking = {f["name"] for f in fields
              if {"name": "clientMutationId", "type": {"name": "String"}} in f["args"]}
    assert {"createTask", "updateManyWebUser", "upsertManySong", "deleteManyArtist"} <= taking
    assert len([name for name in taking if not name.startswith(
        ("login", "refreshToken", "revokeRefreshToken", "generateJwt"))]) == 8 * 7
