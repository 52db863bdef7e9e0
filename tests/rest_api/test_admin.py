"""REST endpoints in the admin, through Django's test client: a valid document is saved and
answers at once; a refusal shows on the field it is about and saves nothing; the list and the
application's page show each endpoint's URL, methods and status (broken after a schema change
that removed what its document uses)."""

import json

import pytest
from django.contrib.auth.models import Permission as AdminPermission
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from apps.identity import server_keys
from apps.rest_api.models import RestEndpoint
from models_registry import changes
from models_registry.models import Property
from tests.data_api.conftest import demo  # noqa: F401  (the fixture)

TASK_COUNT = "query taskCount { allTask { totalCount } }"
ONE_TASK = "query oneTask($id: Int!) { oneTask(where: { id: { eq: $id } }) { id name } }"
UPDATE_TASK = ("mutation updateTask($id: Int!, $input: TaskInput!) { "
               "updateTask(id: $id, input: $input) { id done } }")

ADD = reverse("admin:rest_api_restendpoint_add")
CHANGELIST = reverse("admin:rest_api_restendpoint_changelist")


@pytest.fixture
def app(demo):  # noqa: F811
    """The demo application without the endpoints it ships with: these tests add their own."""
    RestEndpoint.objects.filter(application=demo).delete()
    demo.refresh_from_db()
    return demo


def post_endpoint(client, application, url: str = "/tasks/:id/", query: str = ONE_TASK,
                  methods: tuple = (), name: str = "oneTask", endpoint=None):
    """Submit the add form (or the change form of `endpoint`) as a browser does."""
    data = {"application": application.pk, "name": name, "url": url, "query": query,
            "comment": "", "_save": "Save"}
    if methods:
        data["methods"] = list(methods)
    address = ADD if endpoint is None else reverse("admin:rest_api_restendpoint_change",
                                                   args=[endpoint.pk])
    return client.post(address, data)


def form_errors(response) -> dict:
    assert response.status_code == 200, "the form was accepted"
    return {field: list(errors) for field, errors in
            response.context["adminform"].form.errors.items()}


def application_page(client, application) -> str:
    response = client.get(reverse("admin:models_registry_application_change",
                                  args=[application.pk]))
    assert response.status_code == 200
    return response.content.decode()


def rest_get(path: str):
    return Client().get(f"/api/demo/rest/{path}")


def test_a_valid_endpoint_is_saved_and_answers_at_once(admin_client, app):
    response = post_endpoint(admin_client, app)
    assert response.status_code == 302, form_errors(response)
    assert response.url == CHANGELIST
    endpoint = RestEndpoint.objects.get()
    assert (endpoint.application, endpoint.name, endpoint.url, endpoint.methods,
            endpoint.query) == (app, "oneTask", "tasks/:id", [], ONE_TASK)
    answer = rest_get("tasks/1")
    assert answer.status_code == 200
    assert answer.json() == {"data": {"oneTask": {"id": 1, "name": "Design homepage"}}}


TWO_OPERATIONS = "query a { allTask { totalCount } } query b { allProject { totalCount } }"
NO_ID = "query oneTask { oneTask(where: { id: { eq: 1 } }) { id } }"
CREATE_FROM_URL = ("mutation createTask($input: TaskInput!) { createTask(input: $input) "
                   "{ id } }")
SORTED = ("query sortedTasks($order: SortOrder!) { allTask(sort: { field: id, order: $order }) "
          "{ totalCount } }")
SEGMENT = ("may hold only letters, digits and . _ ~ - (an empty segment is a doubled /).")

REFUSALS = {
    "unknown field": (
        "tasks/:id", (), "query oneTask($id: Int!) { oneTask(where: { id: { eq: $id } }) "
                         "{ id nope } }",
        "query", "Cannot query field 'nope' on type 'Task'. Did you mean 'done' or 'name'?"),
    "two operations": (
        "tasks", (), TWO_OPERATIONS,
        "query", "The document has 2 operations; an endpoint runs exactly one query or "
                 "mutation (fragments beside it are fine)."),
    "empty segment": ("tasks//x", (), ONE_TASK, "url", "Segment 2 ('') " + SEGMENT),
    "variable name starting with a digit": (
        "tasks/:1d", (), ONE_TASK,
        "url", "Segment 2 (':1d') is no variable name: after the colon, letters, digits and _ "
               "(not first a digit), as GraphQL names its variables."),
    "query string": (
        "a?b", (), ONE_TASK,
        "url", "A URL template is a path only: query-string variables need no place in it "
               "(?done=true reaches $done by itself)."),
    "undeclared route variable": (
        "tasks/:id", (), NO_ID,
        "url", "The URL passes :id, but the document declares no $id; add it to the "
               "operation's variables (query Name($id: Int!) ...)."),
    "input object from the URL": (
        "tasks/new/:input", (), CREATE_FROM_URL,
        "url", ":input passes text, which $input of type TaskInput! cannot take; only Boolean, "
               "String, ID, UUID, Int, Float and Decimal variables come from a URL."),
    "enum from the URL": (
        "tasks/sorted/:order", (), SORTED,
        "url", ":order passes text, which $order of type SortOrder! cannot take; only Boolean, "
               "String, ID, UUID, Int, Float and Decimal variables come from a URL."),
    "GET on a mutation": (
        "tasks/:id", ("GET", "POST"), UPDATE_TASK,
        "methods", "A mutation is not served with GET: browsers, proxies and crawlers repeat "
                   "GET requests freely. Use POST, PUT, PATCH or DELETE."),
}


@pytest.mark.parametrize(("url", "methods", "query", "field", "message"),
                         REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refusal_shows_on_its_field_and_saves_nothing(admin_client, app, url,
                                                        methods, query, field, message):
    app.refresh_from_db()
    before = app.updated_at
    response = post_endpoint(admin_client, app, url=url, query=query, methods=methods)
    assert form_errors(response) == {field: [message]}
    html = response.content.decode()
    assert f'<ul class="errorlist" id="id_{field}_error"><li>{escape(message)}</li></ul>' in html
    assert not RestEndpoint.objects.exists()
    app.refresh_from_db()
    assert app.updated_at == before


def test_an_overlapping_template_is_refused_naming_the_other(admin_client, app):
    assert post_endpoint(admin_client, app).status_code == 302
    by_external = ("query taskByExternalId($ref: String!) { "
                   "oneTask(where: { externalId: { eq: $ref } }) { id } }")
    response = post_endpoint(admin_client, app, name="taskByExternalId", url="tasks/:ref",
                             query=by_external, methods=("GET",))
    assert form_errors(response) == {"url": [
        "Endpoint 'oneTask' (tasks/:id) would answer the same URLs for GET: make a literal "
        "segment differ, or give the two different methods."]}
    assert list(RestEndpoint.objects.values_list("name", flat=True)) == ["oneTask"]
    assert post_endpoint(admin_client, app, name="taskByExternalId", url="tasks/external/:ref",
                         query=by_external).status_code == 302


def test_the_same_template_with_other_methods_is_accepted(admin_client, app):
    assert post_endpoint(admin_client, app, methods=("GET",)).status_code == 302
    response = post_endpoint(admin_client, app, name="updateTask", url="tasks/:id",
                             query=UPDATE_TASK, methods=("PATCH",))
    assert response.status_code == 302
    assert dict(RestEndpoint.objects.values_list("name", "methods")) == {
        "oneTask": ["GET"], "updateTask": ["PATCH"]}

    _, key = server_keys.create(app, "admin test")
    patched = Client().patch("/api/demo/rest/tasks/2", json.dumps({"input": {"done": False}}),
                             content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert patched.status_code == 200
    assert patched.json() == {"data": {"updateTask": {"id": 2, "done": False}}}
    assert rest_get("tasks/2").json() == {"data": {"oneTask": {"id": 2, "name": "Write copy"}}}


def test_editing_an_endpoint_keeps_its_url_free_for_itself(admin_client, app):
    post_endpoint(admin_client, app)
    endpoint = RestEndpoint.objects.get()
    query = ONE_TASK.replace("id name", "id name done")
    response = post_endpoint(admin_client, app, query=query, methods=("GET",),
                             endpoint=endpoint)
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.query, endpoint.methods) == (query, ["GET"])
    assert rest_get("tasks/1").json() == {
        "data": {"oneTask": {"id": 1, "name": "Design homepage", "done": True}}}


def test_a_name_is_used_once_per_application(admin_client, app):
    post_endpoint(admin_client, app)
    response = post_endpoint(admin_client, app, url="tasks/first/:id")
    assert form_errors(response) == {"__all__": [
        "REST endpoint with this Application and Name already exists."]}
    assert RestEndpoint.objects.count() == 1


def save_endpoints(app) -> None:  # noqa: F811
    """Three endpoints saved past the form (as a definition file does): a GET query with no
    segment variable, a query and a mutation."""
    RestEndpoint.objects.create(application=app, name="taskCount", url="task-count",
                                methods=["GET"], query=TASK_COUNT)
    RestEndpoint.objects.create(application=app, name="oneTask", url="tasks/:id",
                                query=ONE_TASK)
    RestEndpoint.objects.create(application=app, name="updateTask", url="tasks/:id/update",
                                query=UPDATE_TASK)


def test_the_list_shows_url_methods_and_status(admin_client, app):
    save_endpoints(app)
    html = admin_client.get(CHANGELIST).content.decode()
    for name, url, methods in (("taskCount", "task-count", "GET"),
                               ("oneTask", "tasks/:id", "GET, POST"),
                               ("updateTask", "tasks/:id/update", "POST")):
        change = reverse("admin:rest_api_restendpoint_change",
                         args=[RestEndpoint.objects.get(name=name).pk])
        assert (f'<th class="field-name"><a href="{change}">{name}</a></th>'
                f'<td class="field-application nowrap">demo</td>'
                f'<td class="field-address"><code>/api/demo/rest/{url}</code></td>'
                f'<td class="field-answers">{methods}</td>'
                f'<td class="field-status"><span class="rest-ok">ok</span></td>') in html


def test_a_schema_change_marks_the_endpoints_it_breaks(admin_client, app):
    save_endpoints(app)
    changes.delete_property(Property.objects.get(data_model__application=app,
                                                 data_model__name="Task", name="name"))
    broken = escape("broken: Cannot query field 'name' on type 'Task'.")
    listed = admin_client.get(CHANGELIST).content.decode()
    assert f'<td class="field-status"><span class="rest-broken">{broken}</span></td>' in listed
    assert listed.count('<span class="rest-ok">ok</span>') == 2
    page = application_page(admin_client, app)
    assert f'<td><span class="rest-broken">{broken}</span></td>' in page
    assert page.count('<span class="rest-ok">ok</span>') == 2
    assert rest_get("tasks/1").status_code == 500


def test_the_application_page_lists_its_endpoints(admin_client, app):
    save_endpoints(app)
    html = application_page(admin_client, app)
    rows = [(RestEndpoint.objects.get(name=name).pk, name, url, methods) for name, url, methods
            in (("taskCount", '<a href="/api/demo/rest/task-count"><code>/api/demo/rest/'
                              "task-count</code></a>", "GET"),
                ("oneTask", "<code>/api/demo/rest/tasks/:id</code>", "GET, POST"),
                ("updateTask", "<code>/api/demo/rest/tasks/:id/update</code>", "POST"))]
    expected = "".join(
        f'<tr class="rest-endpoint"><td><a href="/admin/rest_api/restendpoint/{pk}/change/">'
        f'{name}</a></td><td>{url}</td><td>{methods}</td><td><span class="rest-ok">ok</span>'
        "</td></tr>" for pk, name, url, methods in rows)
    assert f"<tbody>{expected}</tbody>" in html
    assert (f'<a class="addlink" href="{ADD}?application={app.pk}">Add a REST endpoint</a>'
            ) in html
    assert ('<a href="/api/demo/rest/openapi.json">OpenAPI document</a> (anyone may read it '
            "while introspection is on)") in html
    assert (f'<a href="{CHANGELIST}?application__id__exact={app.pk}">All REST endpoints of '
            "demo</a>") in html
    over_graphql = Client().post("/api/demo/graphql", {"query": TASK_COUNT},
                                 content_type="application/json")
    assert over_graphql.json()["data"]["allTask"]["totalCount"] > 0
    assert rest_get("task-count").json() == over_graphql.json()


def test_an_application_without_endpoints_says_so(admin_client, app):
    html = application_page(admin_client, app)
    assert "No REST endpoint yet" in html
    assert f'href="{ADD}?application={app.pk}">Add a REST endpoint</a>' in html


def test_the_add_link_fills_in_the_application(admin_client, app):
    html = admin_client.get(f"{ADD}?application={app.pk}").content.decode()
    assert f'<option value="{app.pk}" selected>demo</option>' in html
    assert ('class="vLargeTextField rest-query" spellcheck="false"') in html
    assert 'href="/static/rest_api/admin.css"' in html
    assert "After /api/&lt;app&gt;/rest/: literal segments match as written" in html


def test_no_add_link_for_who_may_not_add(app):
    user = User.objects.create_user("viewer", password="viewer-pw-1", is_staff=True)
    user.user_permissions.add(AdminPermission.objects.get(
        content_type__app_label="models_registry", codename="view_application"))
    client = Client()
    client.force_login(user)
    html = application_page(client, app)
    assert "<h2" in html and ">REST endpoints</h2>" in html
    assert "Add a REST endpoint" not in html


def test_the_pages_cost_no_statement_per_endpoint(admin_client, app):
    """The application page and the list read the endpoints once, however many there are."""
    RestEndpoint.objects.create(application=app, name="oneTask", url="tasks/:id",
                                query=ONE_TASK)

    def statements(url: str) -> int:
        admin_client.get(url)  # warm: the schema, the endpoints as of the application row
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        return len(queries)

    page = reverse("admin:models_registry_application_change", args=[app.pk])
    one = statements(page), statements(CHANGELIST)
    RestEndpoint.objects.create(application=app, name="taskCount", url="task-count",
                                query=TASK_COUNT)
    RestEndpoint.objects.create(application=app, name="updateTask", url="tasks/:id/update",
                                query=UPDATE_TASK)
    assert (statements(page), statements(CHANGELIST)) == one
