"""Auth profiles in application definition files."""

import copy
import json

import pytest

from apps.identity.models import AuthProfile
from models_registry.definitions import DefinitionError, export_definition, load_definition

from ..data_api.conftest import DEMO


def test_the_demo_profile_is_loaded_with_its_uuid(profile):
    assert str(profile.uuid) == "5f0c8c3e-6a1d-4a8e-9d7b-2b1f3c4d5e6f"
    assert (profile.user_model.name, profile.username_property.name,
            profile.password_property.name) == ("WebUser", "email", "password")
    assert (profile.roles_relation.source_field, profile.role_name_property.name) == (
        "roles", "name")


def test_export_then_load_changes_nothing(profile, demo):
    document = export_definition(demo)
    assert document["authProfiles"] == json.loads(DEMO.read_text())["authProfiles"]
    assert load_definition(document).unchanged


def test_a_changed_lifetime_is_applied(profile, demo):
    document = export_definition(demo)
    document["authProfiles"][0]["accessTokenLifetime"] = 600
    report = load_definition(document)
    assert report.changed == ["auth profile Web users"]
    profile.refresh_from_db()
    assert profile.access_token_lifetime == 600


@pytest.mark.parametrize("change, problem", [
    ({"userModel": "Nope"}, "authProfiles[0].userModel: no model 'Nope'"),
    ({"usernameProperty": "password"}, "authProfiles[0].usernameProperty: expected a email or "
                                       "text property"),
    ({"passwordProperty": "email"}, "authProfiles[0].passwordProperty: expected a password"),
    ({"accessTokenLifetime": 59}, "authProfiles[0].accessTokenLifetime: Ensure this value is "
                                  "greater than or equal to 60."),
    ({"refreshTokenLifetime": 1_209_601}, "authProfiles[0].refreshTokenLifetime: Ensure this "
                                          "value is less than or equal to 1209600."),
    ({"uuid": "x"}, "authProfiles[0].uuid: not a UUID."),
    ({"rolesField": "company2"}, "authProfiles[0].rolesField: no relation 'company2'"),
    ({"roleNameProperty": "title"}, "authProfiles[0].roleNameProperty: no property 'title'"),
])
def test_bad_profiles_are_refused_with_their_place(profile, demo, change, problem):
    document = copy.deepcopy(export_definition(demo))
    document["authProfiles"][0].update(change)
    with pytest.raises(DefinitionError) as refused:
        load_definition(document)
    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems
    assert AuthProfile.objects.get().access_token_lifetime == 7200
