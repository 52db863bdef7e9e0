"""The demo's permissions as shipped in fixtures/demo.json: anyone reads, writes need a server
key or one of the demo's roles, and users are private. Each row is one request sent by every
principal; each request is rolled back, so every principal meets the same records.

| model                         | read                              | create, update, delete    |
| ----------------------------- | --------------------------------- | ------------------------- |
| Project, Task, Company,       | anyone                            | admin, editor             |
| Artist, Song                  |                                   |                           |
| Role                          | anyone                            | admin                     |
| WebUser                       | logged in: himself, and an admin  | admin, users of his       |
|                               | the users of his company          | company                   |

The principals: anonymous; Eve (WebUser 5, no roles, Acme); Bob (2, editor, Betty Blocks);
Betty (1, admin and editor, Betty Blocks); a server key.
"""

import pytest
from django.db import transaction

from apps.identity import server_keys, tokens
from apps.identity.models import AuthProfile

from .conftest import LOGIN, Caller

PRINCIPALS = ("anonymous", "eve", "bob", "betty", "server")
USERS = {"eve": 5, "bob": 2, "betty": 1}
OK = "ok"


@pytest.fixture
def demo_tokens(demo) -> dict:
    """A bearer token per principal: the users' are JWTs as login issues them."""
    profile = AuthProfile.objects.get(application=demo, name="Web users")
    _, key = server_keys.create(demo, "table")
    return {"anonymous": None, "server": key,
            **{who: tokens.start_session(profile, user_id).jwt
               for who, user_id in USERS.items()}}


class Refused:
    """A refusal: its code, and words its message must contain (the wording of permission
    refusals is the error module's; here only what the caller must learn from it)."""

    def __init__(self, code: str, *words: str):
        self.code, self.words = code, words

    def __eq__(self, outcome) -> bool:
        return (isinstance(outcome, tuple) and outcome[0] == self.code
                and all(word in outcome[1] for word in self.words))

    def __repr__(self) -> str:
        return f"Refused({self.code!r}, {', '.join(map(repr, self.words))})"


def writes(allowed: tuple[str, ...], operation: str, model: str, **others) -> dict:
    """The outcome per principal of a write that `allowed` may make; the others are told what
    to send instead (a server key, or a login with a role)."""
    refused = Refused("FORBIDDEN", f"{operation} {model} records", "server key")
    return {**{who: OK if who in allowed else refused for who in PRINCIPALS}, **others}


def reads(**counts) -> dict:
    return {who: counts.get(who, counts.get("everyone")) for who in PRINCIPALS}


EDITORS = ("bob", "betty", "server")
ADMINS = ("betty", "server")
OUTSIDE_CONDITION = ("FORBIDDEN", "You may create only WebUser records that meet your "
                     "permission's condition, also once changed; nothing was written.")

TABLE = [
    # (what, request, {principal: totalCount, OK, or (code, message)})
    ("read Project", "{ allProject { totalCount } }", reads(everyone=3)),
    ("read Task", "{ allTask { totalCount } }", reads(everyone=20)),
    ("read Company", "{ allCompany { totalCount } }", reads(everyone=2)),
    ("read Role", "{ allRole { totalCount } }", reads(everyone=4)),
    ("read Artist", "{ allArtist { totalCount } }", reads(everyone=2)),
    ("read Song", "{ allSong { totalCount } }", reads(everyone=5)),
    # himself; Betty the users of her company (Betty, Bob, Carla); not Acme's
    ("read WebUser", "{ allWebUser { totalCount } }",
     reads(anonymous=Refused("FORBIDDEN", "WebUser", "log in"), eve=1, bob=1, betty=3, server=5)),

    ("create Project", 'mutation { createProject(input: { name: "Garden" }) { id } }',
     writes(EDITORS, "create", "Project")),
    ("update Project", 'mutation { updateProject(id: 1, input: { name: "Site" }) { id } }',
     writes(EDITORS, "update", "Project")),
    ("delete Project", "mutation { deleteProject(id: 3) { id } }",
     writes(EDITORS, "delete", "Project")),
    ("create Task", 'mutation { createTask(input: { task: "Mow lawn" }) { id } }',
     writes(EDITORS, "create", "Task")),
    ("createMany Task", 'mutation { createManyTask(input: [{ task: "A" }, { task: "B" }]) '
     "{ id } }", writes(EDITORS, "create", "Task")),
    ("update Task", "mutation { updateTask(id: 1, input: { done: false }) { id } }",
     writes(EDITORS, "update", "Task")),
    ("updateMany Task", "mutation { updateManyTask(where: {}, input: { done: true }) { id } }",
     writes(EDITORS, "update", "Task")),
    ("upsert Task", 'mutation { upsertTask(input: { externalId: "ext-001", task: "X" }, '
     "uniqueBy: [externalId]) { id } }", writes(EDITORS, "update", "Task")),
    ("delete Task", "mutation { deleteTask(id: 20) { id } }", writes(EDITORS, "delete", "Task")),
    ("deleteMany Task", "mutation { deleteManyTask(input: { ids: [19, 20] }) { id } }",
     writes(EDITORS, "delete", "Task")),
    ("create Company", 'mutation { createCompany(input: { name: "Initech" }) { id } }',
     writes(EDITORS, "create", "Company")),
    ("update Company", 'mutation { updateCompany(id: 2, input: { name: "Acme Ltd" }) { id } }',
     writes(EDITORS, "update", "Company")),
    ("delete Company", "mutation { deleteCompany(id: 2) { id } }",
     writes(EDITORS, "delete", "Company")),
    ("create Artist", 'mutation { createArtist(input: { name: "Kraftwerk" }) { id } }',
     writes(EDITORS, "create", "Artist")),
    ("update Artist", 'mutation { updateArtist(id: 1, input: { name: "Joy Division" }) '
     "{ id } }", writes(EDITORS, "update", "Artist")),
    ("delete Artist", "mutation { deleteArtist(id: 1) { id } }",
     writes(EDITORS, "delete", "Artist")),
    ("create Song", 'mutation { createSong(input: { title: "Ashes", artist: { id: 2 } }) '
     "{ id } }", writes(EDITORS, "create", "Song")),
    ("update Song", 'mutation { updateSong(id: 1, input: { title: "Blue" }) { id } }',
     writes(EDITORS, "update", "Song")),
    ("delete Song", "mutation { deleteSong(id: 5) { id } }", writes(EDITORS, "delete", "Song")),

    # roles are what grant writes: only admins change them
    ("create Role", 'mutation { createRole(input: { name: "auditor" }) { id } }',
     writes(ADMINS, "create", "Role")),
    ("update Role", 'mutation { updateRole(id: 4, input: { name: "finance" }) { id } }',
     writes(ADMINS, "update", "Role")),
    ("delete Role", "mutation { deleteRole(id: 4) { id } }", writes(ADMINS, "delete", "Role")),

    # users: an admin manages the users of his company, nobody else may
    ("create WebUser in Betty's company", 'mutation { createWebUser(input: { email: '
     '"new@example.com", company: { id: 1 } }) { id } }', writes(ADMINS, "create", "WebUser")),
    ("create WebUser in Acme", 'mutation { createWebUser(input: { email: "new@example.com", '
     "company: { id: 2 } }) { id } }",
     writes(ADMINS, "create", "WebUser", betty=OUTSIDE_CONDITION)),
    ("reset Betty's password", 'mutation { updateWebUser(id: 1, input: { password: '
     '"taken-over-1" }) { id } }', writes(ADMINS, "update", "WebUser")),
    ("an editor makes himself admin", "mutation { updateWebUser(id: 2, input: { roles: "
     "{ _add: [{ id: 1 }] } }) { id } }", writes(ADMINS, "update", "WebUser")),
    ("update Carla (Betty's company)", 'mutation { updateWebUser(id: 3, input: { lastName: '
     '"Smith" }) { id } }', writes(ADMINS, "update", "WebUser")),
    ("update Eve (Acme)", 'mutation { updateWebUser(id: 5, input: { lastName: "Smith" }) '
     "{ id } }",
     writes(ADMINS, "update", "WebUser", betty=(
         "NOT_FOUND", "There is no WebUser with id 5 that you may change."))),
    ("delete Carla (Betty's company)", "mutation { deleteWebUser(id: 3) { id } }",
     writes(ADMINS, "delete", "WebUser")),
    ("delete Eve (Acme)", "mutation { deleteWebUser(id: 5) { id } }",
     writes(ADMINS, "delete", "WebUser", betty=(
         "NOT_FOUND", "There is no WebUser with id 5 that you may delete."))),
]


def outcome(caller: Caller, token: str | None, query: str):
    """totalCount or OK when answered, else (code, message) of the one error; the request's
    writes are rolled back."""
    with transaction.atomic():
        body = caller.post(query, token=token).json()
        transaction.set_rollback(True)
    if "errors" in body:
        [error] = body["errors"]
        assert not any((body.get("data") or {}).values()), body
        return error["extensions"]["code"], error["message"]
    [value] = body["data"].values()
    return value["totalCount"] if "totalCount" in (value or {}) else OK


@pytest.mark.parametrize("query, expected", [row[1:] for row in TABLE],
                         ids=[row[0] for row in TABLE])
def test_the_shipped_demo(caller, demo_tokens, query, expected):
    assert {who: outcome(caller, demo_tokens[who], query) for who in PRINCIPALS} == expected


def test_a_logged_in_editor_writes_as_the_readme_shows(caller, demo):
    profile = AuthProfile.objects.get(application=demo, name="Web users")
    answer = caller.post(LOGIN, {"uuid": str(profile.uuid), "username": "bob@example.com",
                                 "password": "bob-demo-2"}).json()
    jwt = answer["data"]["login"]["jwtToken"]
    created = caller.data('mutation { createTask(input: { task: "Mow lawn" }) { id task } }',
                          token=jwt)
    assert created == {"createTask": {"id": 21, "task": "Mow lawn"}}
    assert caller.data("{ oneTask(where: { id: { eq: 21 } }) { task } }") == {
        "oneTask": {"task": "Mow lawn"}}  # and anyone reads it
