"""A builder opens the demo application's admin page, sees a model only server keys can reach,
and lets anyone read it with one click: the API answers anonymous reads of it at once."""

from playwright.sync_api import expect

from apps.identity.models import Permission

from ..data_api.conftest import demo  # noqa: F401  (the fixture)
from .conftest import log_in_as_builder

COUNT_COMPANIES = """async () => {
  const answer = await fetch("/api/demo/graphql", {method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({query: "{ allCompany { totalCount } }"})});
  return answer.json();
}"""


def test_allow_anyone_to_read_a_closed_model(page, demo):  # noqa: F811
    Permission.objects.filter(data_model__application=demo, data_model__name="Company").delete()
    log_in_as_builder(page)
    page.goto(f"/admin/models_registry/application/{demo.pk}/change/")

    closed = page.locator("tr.closed-model", has_text="Company")
    expect(closed).to_contain_text("nobody but server keys")
    refused = page.evaluate(COUNT_COMPANIES)  # the API, anonymous (no session there)
    assert refused["data"] == {"allCompany": None}
    assert refused["errors"][0]["message"] == ("Company is not readable by anonymous callers; "
                                               "grant read in the admin under Permissions.")

    closed.get_by_role("button", name="Allow anyone to read").click()
    expect(page.locator(".messagelist")).to_contain_text("Anyone may now read Company records")
    expect(page.locator("tr.closed-model", has_text="Company")).to_have_count(0)
    assert page.evaluate(COUNT_COMPANIES) == {"data": {"allCompany": {"totalCount": 2}}}
