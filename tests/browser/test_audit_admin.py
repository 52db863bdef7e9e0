"""An ops person sees, in the admin, a failed login of the demo in the audit log with where it
came from, narrows the log to failed logins, and reads the demo's record changes: read only,
with no button to change or delete anything."""

from playwright.sync_api import expect

from ..data_api.conftest import demo  # noqa: F401  (the fixture)
from .conftest import log_in_as_builder

FAILED_LOGIN = """async () => {
  const answer = await fetch("/api/demo/graphql", {method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({query: 'mutation { login(authProfileUuid: ' +
      '"5f0c8c3e-6a1d-4a8e-9d7b-2b1f3c4d5e6f", username: "betty@example.com", ' +
      'password: "wrong") { isValid } }'})});
  return answer.json();
}"""


def test_the_audit_log_and_record_changes_in_the_admin(page, demo):  # noqa: F811
    log_in_as_builder(page)
    page.goto("/admin/")
    assert page.evaluate(FAILED_LOGIN) == {"data": {"login": {"isValid": False}}}

    page.get_by_role("link", name="Audit entries").click()
    row = page.locator("#result_list tbody tr").first
    expect(row).to_contain_text("login failed")
    expect(row).to_contain_text("127.0.0.1")
    page.get_by_role("link", name="login failed").click()  # the action filter
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name="Add audit entry")).to_have_count(0)

    page.goto("/admin/models_registry/changeevent/?model=Project")
    rows = page.locator("#result_list tbody tr")
    expect(rows.first).to_contain_text("loader")
    expect(rows.first).to_contain_text("Project")
    expect(page.get_by_role("button", name="Delete")).to_have_count(0)
