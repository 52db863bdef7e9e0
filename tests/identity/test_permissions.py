"""Permissions, as a matrix: each principal against queries, nested relations, relation
filters and each mutation. The demo is re-granted for it:

| model   | read                               | create  | update                   | delete  |
| ------- | ---------------------------------- | ------- | ------------------------ | ------- |
| Project | anyone                             | admin   | logged in                | admin   |
| WebUser | logged in, only himself            | –       | logged in, only himself  | –       |
| Company | admin                              | –       | –                        | –       |
| Role    | – (server keys only)               | –       | –                        | –       |
"""

import pytest

from apps.identity import server_keys
from apps.identity.models import Permission
from models_registry.models import DataModel

from .conftest import Caller

SELF = {"id": {"eq": "$currentUser"}}
GRANTS = [
    ("Project", "read", "public", [], None),
    ("Project", "create", "roles", ["admin"], None),
    ("Project", "update", "authenticated", [], None),
    ("Project", "delete", "roles", ["admin"], None),
    ("WebUser", "read", "authenticated", [], SELF),
    ("WebUser", "update", "authenticated", [], SELF),
    ("Company", "read", "roles", ["admin"], None),
]


@pytest.fixture
def tokens(profile, demo, caller):
    Permission.objects.filter(data_model__application=demo).delete()
    for model, operation, access, roles, condition in GRANTS:
        Permission.objects.create(data_model=DataModel.objects.get(application=demo, name=model),
                                  operation=operation, access=access, roles=roles,
                                  condition=condition)
    _, key = server_keys.create(demo, "matrix")
    return {"anonymous": None, "server": key,
            "admin": caller.login(profile)["jwtToken"],  # Betty (1): admin, editor
            "member": caller.login(profile, "eve@example.com", "eve-demo-5")["jwtToken"]}  # 5


def answer(caller: Caller, token, query: str) -> tuple:
    """(data, the error codes and paths) of a request."""
    body = caller.post(query, token=token).json()
    return body.get("data"), [(e["extensions"]["code"], e.get("path"))
                              for e in body.get("errors", [])]


ALL_PRINCIPALS = ("anonymous", "member", "admin", "server")
FORBIDDEN = "FORBIDDEN"

READS = [
    # (query, {principal: expected data, or FORBIDDEN for a refused top-level field})
    ("{ allProject { totalCount } }", dict.fromkeys(ALL_PRINCIPALS, {"allProject": {
        "totalCount": 3}})),
    ("{ allWebUser { totalCount } }", {
        "anonymous": FORBIDDEN, "member": {"allWebUser": {"totalCount": 1}},
        "admin": {"allWebUser": {"totalCount": 1}}, "server": {"allWebUser": {"totalCount": 5}}}),
    ("{ oneWebUser(where: { id: { eq: 2 } }) { id } }", {  # somebody else
        "anonymous": FORBIDDEN, "member": {"oneWebUser": None}, "admin": {"oneWebUser": None},
        "server": {"oneWebUser": {"id": 2}}}),
    ("{ allRole { totalCount } }", {
        "anonymous": FORBIDDEN, "member": FORBIDDEN, "admin": FORBIDDEN,
        "server": {"allRole": {"totalCount": 4}}}),
    # filtering through a relation sees only readable related records
    ('{ allWebUser(where: { company: { name: { eq: "Acme" } } }) { totalCount } }', {
        "anonymous": FORBIDDEN, "member": {"allWebUser": {"totalCount": 0}},
        "admin": {"allWebUser": {"totalCount": 0}}, "server": {"allWebUser": {"totalCount": 2}}}),
]


@pytest.mark.parametrize("who", ALL_PRINCIPALS)
@pytest.mark.parametrize("query, expected", READS, ids=[q for q, _ in READS])
def test_reads(caller, tokens, who, query, expected):
    data, errors = answer(caller, tokens[who], query)
    if expected[who] is FORBIDDEN:
        assert data == {next(iter(query.strip("{ ").split("(")[0].split())): None}
        assert [code for code, _ in errors] == [FORBIDDEN]
    else:
        assert (data, errors) == (expected[who], [])


NESTED = "{ allWebUser { results { id company { name } roles { name } } } }"


@pytest.mark.parametrize("who, company, errors", [
    ("member", None, [(FORBIDDEN, ["allWebUser", "results", "company"]),
                      (FORBIDDEN, ["allWebUser", "results", "roles"])]),
    ("admin", {"name": "Betty Blocks"}, [(FORBIDDEN, ["allWebUser", "results", "roles"])]),
])
def test_nested_relations_the_caller_may_not_read_are_empty(caller, tokens, who, company,
                                                            errors):
    data, found = answer(caller, tokens[who], NESTED)
    [record] = data["allWebUser"]["results"]  # only himself
    assert record["company"] == company and record["roles"] == []
    assert found == errors


def test_a_server_key_reads_everything_nested(caller, tokens):
    data, errors = answer(caller, tokens["server"], NESTED)
    assert errors == [] and data["allWebUser"]["results"][0]["roles"] == [
        {"name": "admin"}, {"name": "editor"}]


CREATE_PROJECT = 'mutation { createProject(input: { name: "New" }) { id } }'
UPDATE_PROJECT = 'mutation { updateProject(id: 1, input: { name: "Renamed" }) { id } }'
DELETE_PROJECT = "mutation { deleteProject(id: 3) { id } }"
UPDATE_BETTY = 'mutation { updateWebUser(id: 1, input: { lastName: "Changed" }) { id } }'
UPDATE_ALL_USERS = ('mutation { updateManyWebUser(where: {}, input: { lastName: "Same" }) '
                    "{ id } }")
CREATE_ROLE = 'mutation { createRole(input: { name: "new" }) { id } }'
CREATE_PROJECTS = ('mutation { createManyProject(input: [{ name: "A" }, { name: "B" }]) '
                   "{ id } }")
UPSERT_PROJECT = ('mutation { upsertProject(input: { name: "Website" }, uniqueBy: [name]) '
                  "{ id } }")
DELETE_PROJECTS = "mutation { deleteManyProject(input: { ids: [2, 3] }) { id } }"
MOVE_TASK = "mutation { updateProject(id: 1, input: { tasks: { _add: [{ id: 4 }] } }) { id } }"

WRITES = [
    # (mutation, {principal: expected outcome: "ok", an error code, or the ids changed})
    (CREATE_PROJECT, {"anonymous": FORBIDDEN, "member": FORBIDDEN, "admin": "ok",
                      "server": "ok"}),
    (UPDATE_PROJECT, {"anonymous": FORBIDDEN, "member": "ok", "admin": "ok", "server": "ok"}),
    (DELETE_PROJECT, {"anonymous": FORBIDDEN, "member": FORBIDDEN, "admin": "ok",
                      "server": "ok"}),
    (UPDATE_BETTY, {"anonymous": FORBIDDEN, "member": "NOT_FOUND", "admin": "ok",
                    "server": "ok"}),
    (UPDATE_ALL_USERS, {"anonymous": FORBIDDEN, "member": [5], "admin": [1],
                        "server": [1, 2, 3, 4, 5]}),
    (CREATE_ROLE, {"anonymous": FORBIDDEN, "member": FORBIDDEN, "admin": FORBIDDEN,
                   "server": "ok"}),
    (CREATE_PROJECTS, {"anonymous": FORBIDDEN, "member": FORBIDDEN, "admin": [4, 5],
                       "server": [4, 5]}),
    (UPSERT_PROJECT, {"anonymous": FORBIDDEN, "member": "ok", "admin": "ok", "server": "ok"}),
    (DELETE_PROJECTS, {"anonymous": FORBIDDEN, "member": FORBIDDEN, "admin": [2, 3],
                       "server": [2, 3]}),
    # moving a task changes the task: Task grants nothing, so only server keys may
    (MOVE_TASK, {"anonymous": FORBIDDEN, "member": FORBIDDEN, "admin": FORBIDDEN,
                 "server": "ok"}),
]


STATE = ("{ allProject { results { id name } } allWebUser { results { id lastName } } "
         "allRole { totalCount } allTask(where: { id: { eq: 4 } }) { results { project { id } } "
         "} }")


@pytest.mark.parametrize("who", ALL_PRINCIPALS)
@pytest.mark.parametrize("mutation, expected", WRITES, ids=[m[11:40] for m, _ in WRITES])
def test_writes(caller, tokens, who, mutation, expected):
    server = tokens["server"]
    before, _ = answer(caller, server, STATE)
    data, errors = answer(caller, tokens[who], mutation)
    outcome = expected[who]
    if isinstance(outcome, list):
        assert errors == [] and [r["id"] for r in next(iter(data.values()))] == outcome
    elif outcome == "ok":
        assert errors == [] and next(iter(data.values())) is not None
    else:
        assert [code for code, _ in errors] == [outcome]
        after, _ = answer(caller, server, STATE)
        assert after == before  # a refusal changes nothing


def test_a_permission_change_applies_to_the_next_request(caller, tokens, demo):
    assert answer(caller, None, "{ allRole { totalCount } }")[1] == [(FORBIDDEN, ["allRole"])]
    Permission.objects.create(data_model=DataModel.objects.get(application=demo, name="Role"),
                              operation="read", access="public")
    assert answer(caller, None, "{ allRole { totalCount } }") == (
        {"allRole": {"totalCount": 4}}, [])

