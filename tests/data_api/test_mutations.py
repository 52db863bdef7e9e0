"""The mutation examples of the primary contract ("Mutating data", "Changing relationships"),
run against the demo application with their variables declared."""

import pytest

from .conftest import Api


def ids(records: list[dict]) -> list[int]:
    return [record["id"] for record in records]


def task(api: Api, task_id: int) -> dict | None:
    return api.data("query($id: Int!) { oneTask(where: { id: { eq: $id } }) { id name task "
                    "done priority externalId project { id } } }", {"id": task_id})["oneTask"]


def test_create_a_task(api):
    data = api.data("mutation($input: TaskInput!) { createTask(input: $input) { id } }",
                    {"input": {"task": "New Task"}})
    created = task(api, data["createTask"]["id"])
    assert created["task"] == "New Task"
    assert created["done"] is False and created["priority"] == "medium"  # the defaults
    assert data["createTask"]["id"] == 21


def test_create_many_tasks(api):
    data = api.data("mutation($input: [TaskInput!]!) { createManyTask(input: $input) { id task } }",
                    {"input": [{"task": "Mow lawn"}, {"task": "Wash dishes"},
                               {"task": "Build todo application"}]})
    assert [t["task"] for t in data["createManyTask"]] == [
        "Mow lawn", "Wash dishes", "Build todo application"]
    assert api.data("{ allTask { totalCount } }")["allTask"]["totalCount"] == 23


def test_delete_a_task_keeps_its_relations(api):
    project = task(api, 1)["project"]["id"]
    data = api.data("mutation($id: Int!) { deleteTask(id: $id) { id name } }", {"id": 1})
    assert data["deleteTask"] == {"id": 1, "name": "Design homepage"}  # as it was
    assert task(api, 1) is None
    assert api.data(f"{{ oneProject(where: {{ id: {{ eq: {project} }} }}) {{ id }} }}")[
        "oneProject"] == {"id": project}


def test_delete_many_tasks(api):
    data = api.data("mutation($input: DeleteManyInput!) { deleteManyTask(input: $input) { id } }",
                    {"input": {"ids": [1, 2, 3]}})
    assert ids(data["deleteManyTask"]) == [1, 2, 3]
    assert api.data("{ allTask { totalCount } }")["allTask"]["totalCount"] == 17


def test_update_a_task(api):
    before = task(api, 1)
    data = api.data("mutation($id: Int!, $input: TaskInput!) { updateTask(id: $id, input: $input)"
                    " { id task updatedAt createdAt } }",
                    {"id": 1, "input": {"task": "Updated Task"}})
    assert data["updateTask"]["task"] == "Updated Task"
    assert data["updateTask"]["updatedAt"] > data["updateTask"]["createdAt"]
    after = task(api, 1)
    assert {**before, "task": "Updated Task"} == after  # nothing else changed


def test_update_many_tasks(api):
    api.data('mutation { createManyTask(input: [{task: "Existing Task"}, {task: "Existing Task"}])'
             " { id } }")
    data = api.data("mutation($where: TaskFilterInput!, $input: TaskInput!) { "
                    "updateManyTask(where: $where, input: $input) { id task } }",
                    {"where": {"task": {"eq": "Existing Task"}}, "input": {"task": "Updated Task"}})
    assert data["updateManyTask"] == [{"id": 21, "task": "Updated Task"},
                                      {"id": 22, "task": "Updated Task"}]


def test_upsert_a_task(api):
    mutation = ("mutation($input: TaskInput!, $uniqueBy: [TaskField!]) { "
                "upsertTask(input: $input, uniqueBy: $uniqueBy) { id task externalId } }")
    variables = {"input": {"externalId": "unique:123", "task": "Updated Task"},
                 "uniqueBy": ["externalId"]}
    created = api.data(mutation, variables)["upsertTask"]
    assert created == {"id": 21, "task": "Updated Task", "externalId": "unique:123"}
    variables["input"]["task"] = "Updated again"
    updated = api.data(mutation, variables)["upsertTask"]
    assert updated == {"id": 21, "task": "Updated again", "externalId": "unique:123"}
    assert api.data("{ allTask { totalCount } }")["allTask"]["totalCount"] == 21


def test_upsert_many_tasks_matches_on_id(api):
    data = api.data("mutation($input: [TaskInput!]!) { upsertManyTask(input: $input) { id task } }",
                    {"input": [{"id": 1, "task": "Mow lawn"}, {"id": 2, "task": "Wash dishes"},
                               {"id": 3, "task": "Build todo application"}]})
    assert data["upsertManyTask"] == [{"id": 1, "task": "Mow lawn"},
                                      {"id": 2, "task": "Wash dishes"},
                                      {"id": 3, "task": "Build todo application"}]
    assert api.data("{ allTask { totalCount } }")["allTask"]["totalCount"] == 20


def test_belongs_to_on_create(api):
    data = api.data("mutation($input: WebUserInput!) { createWebUser(input: $input) "
                    "{ id firstName company { id name } } }",
                    {"input": {"firstName": "Betty", "company": {"id": 1}}})
    assert data["createWebUser"]["company"] == {"id": 1, "name": "Betty Blocks"}


def test_has_many_add_moves_the_child(api):
    before = api.data("{ oneWebUser(where: { id: { eq: 5 } }) { company { id } } }")
    assert before["oneWebUser"]["company"]["id"] != 1
    data = api.data("mutation($input: CompanyInput!) { updateCompany(id: 1, input: $input) "
                    "{ id webUsers { id } } }", {"input": {"webUsers": {"_add": [{"id": 5}]}}})
    assert 5 in ids(data["updateCompany"]["webUsers"])
    after = api.data("{ oneWebUser(where: { id: { eq: 5 } }) { company { id } } }")
    assert after["oneWebUser"]["company"] == {"id": 1}


def test_habtm_on_create(api):
    data = api.data("mutation($id: Int, $input: WebUserInput!) { createWebUser(id: $id, "
                    "input: $input) { id firstName roles { id } } }",
                    {"id": 1, "input": {"firstName": "Betty",
                                        "roles": {"_add": [{"id": 1}, {"id": 2}, {"id": 3}]}}})
    assert ids(data["createWebUser"]["roles"]) == [1, 2, 3]
    assert data["createWebUser"]["id"] == 6  # the id argument is not the record's


def test_habtm_add_remove_replace_in_sequence(api):
    mutation = ("mutation($id: Int!, $input: WebUserInput!) { updateWebUser(id: $id, "
                "input: $input) { id roles { id } } }")

    def roles(change: dict) -> list[int]:
        return ids(api.data(mutation, {"id": 1, "input": {"roles": change}})[
            "updateWebUser"]["roles"])

    assert roles({"_replace": []}) == []  # "no roles to start with"
    assert roles({"_add": [{"id": 1}, {"id": 2}, {"id": 3}]}) == [1, 2, 3]
    assert roles({"_remove": [{"id": 2}, {"id": 3}]}) == [1]
    assert roles({"_replace": [{"id": 3}, {"id": 4}]}) == [3, 4]
    # the other side sees the same links
    role3 = api.data("{ oneRole(where: { id: { eq: 3 } }) { webUsers { id } } }")
    assert 1 in ids(role3["oneRole"]["webUsers"])


@pytest.mark.parametrize("mutation", [
    "mutation { createTask(input: { task: \"x\" }) { id } }",
    "mutation { deleteTask(id: 1) { id } }",
])
def test_mutations_are_refused_over_get(api, mutation):
    response = api.client.get(api.url, {"query": mutation})
    assert response.status_code == 405


PROJECT_TASKS = ("mutation($id: Int!, $input: ProjectInput!) { updateProject(id: $id, "
                 "input: $input) { tasks { id } } }")


def project_of(api: Api, task_id: int) -> int | None:
    found = task(api, task_id)["project"]
    return found and found["id"]


def test_has_many_on_create_and_remove_and_replace(api):
    created = api.data("mutation { createProject(input: { name: \"New\", tasks: { _add: "
                       "[{ id: 1 }, { id: 2 }] } }) { id tasks { id } } }")["createProject"]
    new = created["id"]
    assert ids(created["tasks"]) == [1, 2]
    removed = api.data(PROJECT_TASKS, {"id": new, "input": {"tasks": {"_remove": [{"id": 1}]}}})
    assert ids(removed["updateProject"]["tasks"]) == [2]
    assert project_of(api, 1) is None  # unlinked, not deleted
    replaced = api.data(PROJECT_TASKS, {"id": new, "input": {"tasks": {"_replace": [{"id": 3}]}}})
    assert ids(replaced["updateProject"]["tasks"]) == [3]
    assert project_of(api, 2) is None and project_of(api, 3) == new


def test_remove_leaves_children_of_other_parents_alone(api):
    other_child = next(t for t in range(1, 21) if project_of(api, t) not in (None, 1))
    api.data(PROJECT_TASKS, {"id": 1, "input": {"tasks": {"_remove": [{"id": other_child}]}}})
    assert project_of(api, other_child) not in (None, 1)


def test_a_moved_child_gets_a_new_updated_at(api):
    before = api.data("{ oneTask(where: { id: { eq: 4 } }) { updatedAt } }")["oneTask"]
    api.data(PROJECT_TASKS, {"id": 1, "input": {"tasks": {"_add": [{"id": 4}]}}})
    after = api.data("{ oneTask(where: { id: { eq: 4 } }) { updatedAt } }")["oneTask"]
    assert after["updatedAt"] > before["updatedAt"]


def test_habtm_from_the_other_side(api):
    data = api.data("mutation { updateRole(id: 4, input: { webUsers: { _add: [{ id: 1 }] } }) "
                    "{ webUsers { id } } }")
    assert 1 in ids(data["updateRole"]["webUsers"])
    user = api.data("{ oneWebUser(where: { id: { eq: 1 } }) { roles { id } } }")
    assert 4 in ids(user["oneWebUser"]["roles"])


def test_one_child_cannot_go_to_two_parents_in_one_request(api):
    error = api.error("mutation { createManyProject(input: [{ name: \"a\", tasks: { _add: "
                      "[{ id: 1 }] } }, { name: \"b\", tasks: { _add: [{ id: 1 }] } }]) { id } }")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert api.data("{ allProject { totalCount } }")["allProject"]["totalCount"] == 3


def test_restrict_refuses_to_delete_a_referenced_record(api, demo):
    from models_registry import changes
    from models_registry.models import Relation

    relation = Relation.objects.get(source__application=demo, source__name="Task")
    changes.update_relation(relation, on_delete="restrict")
    error = api.error("mutation { deleteProject(id: 1) { id } }")
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert "restrict" in error["message"]
    assert api.data("{ allProject { totalCount } }")["allProject"]["totalCount"] == 3
