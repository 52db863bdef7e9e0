"""A builder saves a REST endpoint for the demo application in the admin, sees it listed as
working, and the browser gets its JSON at once; a document that does not fit the schema is
refused with the error beside the document."""

import re

from playwright.sync_api import expect

from apps.rest_api.models import RestEndpoint

from ..data_api.conftest import demo  # noqa: F401  (the fixture)
from .conftest import SCREENSHOTS, log_in_as_builder

ONE_TASK = "query oneTask($id: Int!) {\n  oneTask(where: { id: { eq: $id } }) { id name }\n}"

GET_TASK_1 = """async () => {
  const answer = await fetch("/api/demo/rest/tasks/1");
  return {status: answer.status, body: await answer.json()};
}"""


def shot(page, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"rest_endpoints_{step}.png", full_page=True)




def add_endpoint_page(page, application) -> None:
    """From the application's page, its link to add an endpoint (the application filled in)."""
    page.goto(f"/admin/models_registry/application/{application.pk}/change/")
    page.locator("fieldset.rest-endpoints").get_by_role("link", name="Add a REST endpoint").click()
    expect(page.locator("#id_application")).to_have_value(str(application.pk))


def test_a_builder_saves_an_endpoint_and_calls_it(page, demo):  # noqa: F811
    RestEndpoint.objects.filter(application=demo).delete()  # the shipped ones: he adds his own
    log_in_as_builder(page)
    page.goto(f"/admin/models_registry/application/{demo.pk}/change/")
    expect(page.locator("fieldset.rest-endpoints")).to_contain_text("No REST endpoint yet")
    add_endpoint_page(page, demo)

    query = page.locator("#id_query")
    assert "monospace" in query.evaluate("box => getComputedStyle(box).fontFamily")
    assert query.bounding_box()["width"] > 700  # wider than the admin's 610px text boxes
    page.locator("#id_name").fill("oneTask")
    page.locator("#id_url").fill("tasks/:id")
    query.fill(ONE_TASK)
    shot(page, "01_filled_in")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    row = page.locator("#result_list tbody tr", has_text="oneTask")
    expect(row.locator("td.field-address")).to_have_text("/api/demo/rest/tasks/:id")
    expect(row.locator("td.field-answers")).to_have_text("GET, POST")
    expect(row.locator("td.field-status")).to_have_text("ok")
    shot(page, "02_saved")
    assert page.evaluate(GET_TASK_1) == {
        "status": 200, "body": {"data": {"oneTask": {"id": 1, "name": "Design homepage"}}}}

    page.goto(f"/admin/models_registry/application/{demo.pk}/change/")
    listed = page.locator("fieldset.rest-endpoints tr.rest-endpoint")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(re.compile(r"oneTask\s*/api/demo/rest/tasks/:id\s*GET, POST"
                                              r"\s*ok"))


def test_a_document_that_does_not_fit_shows_the_error_on_it(page, demo):  # noqa: F811
    RestEndpoint.objects.filter(application=demo).delete()
    log_in_as_builder(page)
    add_endpoint_page(page, demo)
    page.locator("#id_name").fill("oneTask")
    page.locator("#id_url").fill("tasks/:id")
    page.locator("#id_query").fill(ONE_TASK.replace("id name", "id title"))
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".form-row.field-query .errorlist")).to_have_text(
        "Cannot query field 'title' on type 'Task'.")
    expect(page.locator(".errorlist")).to_have_count(1)  # only the document's
    expect(page.locator("#id_query")).to_have_value(ONE_TASK.replace("id name", "id title"))
    assert not RestEndpoint.objects.exists()
