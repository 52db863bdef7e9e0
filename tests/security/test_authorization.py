"""Authorization probes, as an attacker sends them: each is (principal, request, the exact
answer). The rule they hold: every answer (data, counts, errors, their wording and code) is
the same whether or not records the caller may not read exist, and a write changes only
records the caller may change, at both ends of a relation (a habtm link changes both records;
an unlinked has-many child is a change to the child).

The demo is granted for them:

| model   | read                     | create        | update                              |
| ------- | ------------------------ | ------------- | ----------------------------------- |
| WebUser | logged in, only himself  | –             | logged in, only himself             |
| Role    | anyone                   | –             | –                                   |
| Project | anyone                   | –             | logged in                           |
| Task    | anyone                   | –             | logged in, only tasks not done      |
| Company | –                        | logged in     | –                                   |

The member is Eve (WebUser 5: no roles, company 2).
"""

import pytest

from apps.identity import server_keys
from apps.identity.models import Permission
from models_registry.models import DataModel

from ..data_api.conftest import demo  # noqa: F401  (the fixture)
from ..identity.conftest import caller, profile  # noqa: F401  (the fixtures)

SELF = {"id": {"eq": "$currentUser"}}
GRANTS = [
    ("WebUser", "read", "authenticated", SELF),
    ("WebUser", "update", "authenticated", SELF),
    ("Role", "read", "public", None),
    ("Project", "read", "public", None),
    ("Project", "update", "authenticated", None),
    ("Task", "read", "public", None),
    ("Task", "update", "authenticated", {"done": {"eq": False}}),
    ("Company", "create", "authenticated", None),
]


@pytest.fixture
def tokens(profile, demo, caller):  # noqa: F811
    Permission.objects.filter(data_model__application=demo).delete()
    for model, operation, access, condition in GRANTS:
        Permission.objects.create(data_model=DataModel.objects.get(application=demo, name=model),
                                  operation=operation, access=access, condition=condition)
    _, key = server_keys.create(demo, "probes")
    return {"anonymous": None, "server": key,
            "member": caller.login(profile, "eve@example.com", "eve-demo-5")["jwtToken"]}


def answer(caller, token, query: str) -> tuple:  # noqa: F811
    """(data, [(code, message, extensions.fields)]) of a request."""
    body = caller.post(query, token=token).json()
    return body.get("data"), [(e["extensions"]["code"], e["message"],
                               e["extensions"].get("fields")) for e in body.get("errors", [])]


def refused(field: str, code: str, message: str, fields=None) -> tuple:
    return {field: None}, [(code, message, fields)]


UPSERT_COMPANY = ('mutation { upsertCompany(input: { name: "%s" }, uniqueBy: [name]) '
                  "{ id } }")
UPSERT_USER = ('mutation { upsertWebUser(input: { email: "%s", lastName: "X" }, '
               "uniqueBy: [email]) { id } }")
USER_COMPANY = "mutation { updateWebUser(id: 5, input: { company: { id: %d } }) { id } }"
NOT_YOURS = "some of the {} records this would change are not yours to change; nothing was changed."
ANONYMOUS_UPDATE_COMPANY = (
    "Anonymous callers may not update Company records: send a server key (Authorization: "
    "Bearer mk_…) from server-side code, or grant update in the admin under Permissions.")
MEMBER_CREATE_WEBUSER = (
    "This user may not create WebUser records: grant create to any logged-in user or to one of "
    "his roles in the admin under Permissions, or send a server key (Authorization: Bearer "
    "mk_…) from server-side code.")

PROBES = [
    # 1. upsert must not tell whether a value exists: the same answer for a taken value and
    #    a free one, before any record is looked at when the caller may neither create nor
    #    update, and among his own records only when he may update
    ("upsert, no permission, a taken value", "anonymous", UPSERT_COMPANY % "Acme",
     refused("upsertCompany", "FORBIDDEN", ANONYMOUS_UPDATE_COMPANY)),
    ("upsert, no permission, a free value", "anonymous", UPSERT_COMPANY % "Nobody Inc",
     refused("upsertCompany", "FORBIDDEN", ANONYMOUS_UPDATE_COMPANY)),
    ("upsert, another user's e-mail", "member", UPSERT_USER % "betty@example.com",
     refused("upsertWebUser", "FORBIDDEN", MEMBER_CREATE_WEBUSER)),
    ("upsert, an unused e-mail", "member", UPSERT_USER % "nobody@example.com",
     refused("upsertWebUser", "FORBIDDEN", MEMBER_CREATE_WEBUSER)),
    # 2. a habtm link changes the role too: no self-granted admin
    ("habtm _add to a role he may not change", "member",
     "mutation { updateWebUser(id: 5, input: { roles: { _add: [{ id: 1 }] } }) { id } }",
     refused("updateWebUser", "FORBIDDEN",
             "roles: you may not change Role records, which this relation operation would.")),
    # 3. _replace unlinks Website's done tasks, which he may not change
    ("has-many _replace unlinking children he may not change", "member",
     "mutation { updateProject(id: 1, input: { tasks: { _replace: [{ id: 18 }] } }) { id } }",
     refused("updateProject", "FORBIDDEN", "tasks: " + NOT_YOURS.format("Task"))),
    # 4. an update may not move a record out of the caller's condition
    ("update out of the condition", "member",
     "mutation { updateTask(id: 18, input: { done: true }) { id } }",
     refused("updateTask", "FORBIDDEN", "You may update only Task records that meet your "
             "permission's condition, also once changed; nothing was written.")),
    ("updateMany out of the condition", "member",
     "mutation { updateManyTask(where: { id: { in: [18, 20] } }, input: { done: true }) "
     "{ id } }",
     (None, [("FORBIDDEN", "You may update only Task records that meet your permission's "
              "condition, also once changed; nothing was written.", None)])),
    # 6. a record he may not read is named like one that does not exist
    ("a relation to a record he may not read", "member", USER_COMPANY % 2,
     refused("updateWebUser", "VALIDATION_ERROR", "updateWebUser was refused: 1 field did not "
             "pass validation; see extensions.fields. Nothing was changed.",
             {"company": ["No Company with id 2."]})),
    ("a relation to a record that does not exist", "member", USER_COMPANY % 99,
     refused("updateWebUser", "VALIDATION_ERROR", "updateWebUser was refused: 1 field did not "
             "pass validation; see extensions.fields. Nothing was changed.",
             {"company": ["No Company with id 99."]})),
    # 6. what a mutation reads back obeys the read permission (he may create, not read)
    ("a created record he may not read", "member",
     'mutation { createCompany(input: { name: "Mine" }) { id name } }',
     ({"createCompany": None}, [])),
    # allowed writes still work
    ("update within the condition", "member",
     'mutation { updateTask(id: 18, input: { name: "Renamed" }) { name } }',
     ({"updateTask": {"name": "Renamed"}}, [])),
    ("habtm _add by a server key", "server",
     "mutation { updateWebUser(id: 5, input: { roles: { _add: [{ id: 1 }] } }) "
     "{ roles { name } } }",
     ({"updateWebUser": {"roles": [{"name": "admin"}]}}, [])),
]

STATE = ("{ allWebUser { results { id lastName company { id } roles { id } } } "
         "allCompany { results { id name } } allTask { results { id name done project { id } } } "
         "allRole { totalCount } }")


@pytest.mark.parametrize("probe, who, request_, expected", PROBES, ids=[p[0] for p in PROBES])
def test_probe(caller, tokens, probe, who, request_, expected):  # noqa: F811
    before, _ = answer(caller, tokens["server"], STATE)
    got = answer(caller, tokens[who], request_)
    assert got == expected
    if got[1]:  # a refusal changes nothing
        assert answer(caller, tokens["server"], STATE)[0] == before
