"""A builder ticks "Trash" on the demo's Task model page and finds a Trash link, to an empty
trash, on its records. The builder then deletes a task in the record browser: the confirm page
says it goes to the trash for 72 hours, the list no longer links it, and the list's Trash link
shows it there. Restore puts it back in the list; another task, deleted the same way, is
deleted for good from the trash. Either way the trash is then empty."""

from playwright.sync_api import expect

from models_registry.admin_records import record_url
from models_registry.admin_trash import trash_url

from ..data_api.conftest import demo  # noqa: F401  (the fixture)
from .conftest import log_in_as_builder


def delete_in_the_browser(page, task_id: int, record_id: int, name: str) -> None:
    page.goto(record_url("list", task_id))
    page.locator("#result_list").get_by_role("link", name=str(record_id), exact=True).click()
    expect(page.get_by_label("name:", exact=True)).to_have_value(name)
    page.locator(".submit-row").get_by_role("link", name="Delete").click()
    expect(page.locator("#content-main")).to_contain_text(
        "It goes to the trash: it can be restored from there until it is purged "
        "(72 hours from now).")
    page.get_by_role("button", name="Yes, I’m sure").click()
    expect(page.locator(".messagelist")).to_have_text(
        f"Task “{name}” (#{record_id}) was moved to the trash.")
    link = page.locator(f'#result_list a[href="{record_url("change", task_id, record_id)}"]')
    expect(link).to_have_count(0)
    page.locator(".object-tools").get_by_role("link", name="Trash").click()
    expect(page).to_have_url(trash_url(task_id))


def test_a_builder_gives_task_a_trash_restores_from_it_and_deletes_for_good(
        page, demo):  # noqa: F811
    log_in_as_builder(page)
    task = demo.data_models.get(name="Task").pk
    page.goto(f"/admin/models_registry/datamodel/{task}/change/")
    page.get_by_label("Trash", exact=True).check()  # a page with an enum row saves too
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(page.get_by_label("Trash", exact=True)).to_be_checked()
    page.locator(".object-tools").get_by_role("link", name="Records").click()
    page.locator(".object-tools").get_by_role("link", name="Trash").click()
    expect(page.locator("#result_list tbody")).to_have_text("The trash is empty.")

    delete_in_the_browser(page, task, 1, "Design homepage")
    trashed = page.locator("#result_list tr.trashed")
    expect(trashed).to_have_count(1)
    expect(trashed).to_have_attribute("data-id", "1")
    expect(trashed).to_contain_text("Design homepage")
    trashed.get_by_role("button", name="Restore").click()
    expect(page.locator(".messagelist")).to_have_text("Task “Design homepage” (#1) was restored.")
    expect(trashed).to_have_count(0)
    expect(page.locator("#result_list tbody")).to_have_text("The trash is empty.")
    page.goto(record_url("list", task))
    expect(page.locator(f'#result_list a[href="{record_url("change", task, 1)}"]')).to_have_count(1)

    delete_in_the_browser(page, task, 2, "Write copy")
    expect(trashed).to_have_count(1)
    expect(trashed).to_have_attribute("data-id", "2")
    trashed.get_by_role("button", name="Delete for good").click()
    expect(page.locator(".messagelist")).to_have_text(
        "Task “Write copy” (#2) was deleted for good.")
    expect(trashed).to_have_count(0)
    expect(page.locator("#result_list tbody")).to_have_text("The trash is empty.")
