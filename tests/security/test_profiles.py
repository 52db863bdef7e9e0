"""Probes of point 5: "$currentUser" is a record of the user model of the auth profile that
issued the token. A Staff member and a WebUser may share an id (both are #1); the Staff
member's token must not read, change or filter as if he were the WebUser."""

import pytest
from django.core.exceptions import ValidationError

from apps.identity import server_keys
from apps.identity.models import AuthProfile, Permission
from models_registry import changes
from models_registry.models import DataModel, Property

from ..data_api.conftest import demo  # noqa: F401  (the fixture)
from ..identity.conftest import caller, profile  # noqa: F401  (the fixtures)

SELF = {"id": {"eq": "$currentUser"}}
OWNED = {"owner": {"id": {"eq": "$currentUser"}}}


@pytest.fixture
def staff(demo, profile, caller):  # noqa: F811
    """A second profile, on a model Staff whose #1 shares its id with WebUser #1 (Betty), and
    owner-conditioned grants: WebUser and Staff read only themselves; Project (owned by a
    WebUser) only its owner may read and update."""
    model = changes.create_model(demo, "Staff")
    changes.add_property(model, "email", "email")
    changes.add_property(model, "password", "password")
    project = DataModel.objects.get(application=demo, name="Project")
    changes.add_relation(project, "owner",
                         DataModel.objects.get(application=demo, name="WebUser"), "projects")
    staff_profile = AuthProfile.objects.create(
        application=demo, name="Staff", user_model=model,
        username_property=Property.objects.get(data_model=model, name="email"),
        password_property=Property.objects.get(data_model=model, name="password"))
    Permission.objects.filter(data_model__application=demo).delete()
    for name, operation, condition in [("WebUser", "read", SELF), ("Staff", "read", SELF),
                                       ("Project", "read", OWNED),
                                       ("Project", "update", OWNED)]:
        Permission.objects.create(data_model=DataModel.objects.get(application=demo, name=name),
                                  operation=operation, access="authenticated",
                                  condition=condition)
    _, key = server_keys.create(demo, "setup")
    caller.data('mutation { createStaff(input: { email: "sam@example.com", '
                'password: "sam-staff-1" }) { id } }', token=key)
    caller.data("mutation { updateProject(id: 1, input: { owner: { id: 1 } }) { id } }",
                token=key)
    return {"staff": caller.login(staff_profile, "sam@example.com", "sam-staff-1")["jwtToken"],
            "betty": caller.login(profile)["jwtToken"], "server": key}


PROBES = [
    # Staff #1 is not WebUser #1: no e-mail, no owned project, nothing through a relation
    ("staff reads WebUser #1", "staff", "{ allWebUser { totalCount results { email } } }",
     {"allWebUser": {"totalCount": 0, "results": []}}),
    ("staff reads WebUser #1's project", "staff", "{ oneProject(where: { id: { eq: 1 } }) { id } }",
     {"oneProject": None}),
    ("staff filters through the owner", "staff",
     '{ allProject(where: { owner: { email: { eq: "betty@example.com" } } }) { totalCount } }',
     {"allProject": {"totalCount": 0}}),
    # the same requests by those they are meant for
    ("staff reads himself", "staff", "{ allStaff { results { id email } } }",
     {"allStaff": {"results": [{"id": 1, "email": "sam@example.com"}]}}),
    ("betty reads herself", "betty", "{ allWebUser { totalCount results { email } } }",
     {"allWebUser": {"totalCount": 1, "results": [{"email": "betty@example.com"}]}}),
    ("betty reads her project", "betty", "{ oneProject(where: { id: { eq: 1 } }) { id } }",
     {"oneProject": {"id": 1}}),
]


@pytest.mark.parametrize("probe, who, query, expected", PROBES, ids=[p[0] for p in PROBES])
def test_probe(caller, staff, probe, who, query, expected):  # noqa: F811
    assert caller.post(query, token=staff[who]).json() == {"data": expected}


def test_staff_may_not_update_webuser_ones_project(caller, staff):  # noqa: F811
    update = 'mutation { updateProject(id: 1, input: { name: "Mine now" }) { id } }'
    body = caller.post(update, token=staff["staff"]).json()
    assert body["data"] == {"updateProject": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]
    state = "{ oneProject(where: { id: { eq: 1 } }) { name } }"
    assert caller.data(state, token=staff["server"])["oneProject"]["name"] != "Mine now"
    assert caller.data(update.replace("{ id }", "{ name }"), token=staff["betty"]) == {
        "updateProject": {"name": "Mine now"}}


@pytest.mark.parametrize("condition", [
    {"name": {"eq": "$currentUser"}}, {"owner": "$currentUser"},
    {"_or": [{"createdBy": {"in": ["$currentUser"]}}]}, {"id": "$currentUser"},
])
def test_current_user_is_compared_with_ids_only(demo, condition):  # noqa: F811
    permission = Permission(data_model=DataModel.objects.get(application=demo, name="Task"),
                            operation="read", access="authenticated", condition=condition)
    with pytest.raises(ValidationError) as refused:
        permission.clean()
    assert "compare it with an id" in str(refused.value)


@pytest.mark.parametrize("condition", [
    SELF, OWNED, {"_or": [SELF, {"owner": {"id": {"in": ["$currentUser", 3]}}}]}])
def test_current_user_compared_with_ids_is_accepted(demo, condition):  # noqa: F811
    Permission(data_model=DataModel.objects.get(application=demo, name="Task"),
               operation="read", access="authenticated", condition=condition).clean()
