"""What a refusal says: what is missing and where a builder grants it, read from the
permissions alone (never from which records exist). "Log in" and a login's JWT are offered only
when the application has an auth profile and a permission that logging in can meet.

The demo (it has an auth profile) is re-granted for these probes:

| model   | read                 | create | update    | delete |
| ------- | -------------------- | ------ | --------- | ------ |
| Project | anyone               | admin  | logged in | admin  |
| Task    | –                    | –      | –         | –      |
| WebUser | logged in            | –      | –         | –      |
| Company | admin                | –      | –         | –      |
| Role    | –                    | –      | –         | –      |
"""

import pytest

from apps.identity import server_keys
from apps.identity.models import Permission
from models_registry import changes
from models_registry.models import DataModel

from .conftest import Caller

GRANTS = [
    ("Project", "read", "public", []),
    ("Project", "create", "roles", ["admin"]),
    ("Project", "update", "authenticated", []),
    ("Project", "delete", "roles", ["admin"]),
    ("WebUser", "read", "authenticated", []),
    ("Company", "read", "roles", ["admin"]),
]

GRANT_READ = "grant read in the admin under Permissions"
SERVER_KEY = "send a server key (Authorization: Bearer mk_…) from server-side code"


def grant(application, model: str, operation: str, access: str, roles=()) -> None:
    Permission.objects.create(data_model=DataModel.objects.get(application=application,
                                                               name=model),
                              operation=operation, access=access, roles=list(roles))


@pytest.fixture
def tokens(profile, demo, caller):
    Permission.objects.filter(data_model__application=demo).delete()
    for model, operation, access, roles in GRANTS:
        grant(demo, model, operation, access, roles)
    return {"anonymous": None,
            "member": caller.login(profile, "eve@example.com", "eve-demo-5")["jwtToken"]}


def errors_of(caller: Caller, token, query: str) -> tuple[dict, list]:
    body = caller.post(query, token=token).json()
    return body["data"], [(e["extensions"]["code"], e.get("path"), e["message"])
                          for e in body.get("errors", [])]


DEMO_REFUSALS = [
    # reads: "or log in" only where a login can meet the permission
    ("anonymous", "{ allWebUser { totalCount } }",
     f"WebUser is not readable by anonymous callers; {GRANT_READ} (or log in: any logged-in "
     "user may read it)."),
    ("anonymous", "{ allCompany { totalCount } }",
     f"Company is not readable by anonymous callers; {GRANT_READ} (or log in as a user with a "
     "role that may read it)."),
    ("anonymous", "{ allRole { totalCount } }",  # nobody but server keys: logging in won't do
     f"Role is not readable by anonymous callers; {GRANT_READ}."),
    ("member", "{ allCompany { totalCount } }",
     "Company is not readable by this user; grant read to any logged-in user or to one of his "
     "roles in the admin under Permissions."),
    # mutations: what to send
    ("anonymous", 'mutation { createProject(input: { name: "New" }) { id } }',
     f"Anonymous callers may not create Project records: {SERVER_KEY} or the JWT of a login "
     "with a role that may (Authorization: Bearer <jwtToken>), or grant create in the admin "
     "under Permissions."),
    ("anonymous", 'mutation { updateProject(id: 1, input: { name: "X" }) { id } }',
     f"Anonymous callers may not update Project records: {SERVER_KEY} or the JWT of a login "
     "(Authorization: Bearer <jwtToken>), or grant update in the admin under Permissions."),
    ("anonymous", 'mutation { createRole(input: { name: "new" }) { id } }',
     f"Anonymous callers may not create Role records: {SERVER_KEY}, or grant create in the "
     "admin under Permissions."),
    ("member", "mutation { deleteProject(id: 3) { id } }",
     "This user may not delete Project records: grant delete to any logged-in user or to one "
     "of his roles in the admin under Permissions, or send a server key (Authorization: Bearer "
     "mk_…) from server-side code."),
]


@pytest.mark.parametrize("who, request_, message", DEMO_REFUSALS,
                         ids=[f"{w}-{r[:30]}" for w, r, _ in DEMO_REFUSALS])
def test_refusals_say_what_is_missing(caller, tokens, who, request_, message):
    data, errors = errors_of(caller, tokens[who], request_)
    [field] = data
    assert data == {field: None}
    assert errors == [("FORBIDDEN", [field], message)]


def test_a_relation_left_empty_names_its_model_and_the_permission(caller, tokens):
    data, errors = errors_of(caller, None, "{ allProject(take: 1) { results { name tasks "
                                           "{ name } } } }")
    assert data == {"allProject": {"results": [{"name": "Website", "tasks": []}]}}
    assert errors == [("FORBIDDEN", ["allProject", "results", "tasks"],
                       f"tasks is left empty: Task is not readable by anonymous callers; "
                       f"{GRANT_READ}.")]


@pytest.fixture
def shop(make_app, make_model):
    """An application with no auth profile: Product (anyone reads) belongs to Category (closed),
    and a record of each."""
    app = make_app("shop")
    category = make_model(app, "Category", name="text")
    product = make_model(app, "Product", name="text")
    changes.add_relation(product, "category", category, "products")
    grant(app, "Product", "read", "public")
    _, key = server_keys.create(app, "setup")
    Caller("shop").data('mutation { c: createCategory(input: { name: "Lights" }) { id } '
                        'p: createProduct(input: { name: "Lamp", category: { id: 1 } }) { id } }',
                        token=key)
    return app


def test_without_an_auth_profile_nobody_is_told_to_log_in(shop):
    caller = Caller("shop")
    assert errors_of(caller, None, "{ allCategory { totalCount } }") == (
        {"allCategory": None},
        [("FORBIDDEN", ["allCategory"],
          f"Category is not readable by anonymous callers; {GRANT_READ}.")])
    # a permission for logged-in users does not help where nobody can log in
    grant(shop, "Category", "read", "authenticated")
    assert errors_of(caller, None, "{ allCategory { totalCount } }")[1][0][2] == (
        f"Category is not readable by anonymous callers; {GRANT_READ}.")
    assert errors_of(caller, None, 'mutation { createProduct(input: { name: "X" }) { id } }')[
        1] == [("FORBIDDEN", ["createProduct"],
                f"Anonymous callers may not create Product records: {SERVER_KEY}, or grant "
                "create in the admin under Permissions.")]


def test_category_left_empty_names_category_and_read(shop):
    data, errors = errors_of(Caller("shop"), None,
                             "{ allProduct { results { name category { name } } } }")
    assert data == {"allProduct": {"results": [{"name": "Lamp", "category": None}]}}
    assert errors == [("FORBIDDEN", ["allProduct", "results", "category"],
                       "category is left empty: Category is not readable by anonymous callers; "
                       f"{GRANT_READ}.")]
