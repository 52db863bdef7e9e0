"""A builder renames a demo task in the record browser and reads, under the form, its history
newest first: the rename as before → after, the loader's create below it with a button to
restore it. Restoring puts the old values back as a change of its own, newest in the history,
and the form shows the old name again."""

from playwright.sync_api import expect

from models_registry.admin_records import record_url

from ..data_api.conftest import demo  # noqa: F401  (the fixture)
from .conftest import log_in_as_builder


def test_a_builder_restores_an_earlier_version_of_a_record(page, demo):  # noqa: F811
    log_in_as_builder(page)
    page.goto(record_url("change", demo.data_models.get(name="Task").pk, 1))
    name = page.get_by_label("name:", exact=True)
    expect(name).to_have_value("Design homepage")
    name.fill("Renamed")
    page.get_by_label("done:", exact=True).uncheck()
    page.get_by_role("button", name="Save and continue editing").click()

    versions = page.locator("#record-history tr.version")
    expect(versions).to_have_count(2)
    expect(versions.first).to_contain_text("update")
    expect(versions.first.locator("li", has_text="name")).to_contain_text(
        "Design homepage → Renamed")
    expect(versions.first.get_by_role("button", name="Restore this version")).to_have_count(0)
    created = versions.nth(1)
    expect(created).to_contain_text("create")
    seq = created.get_attribute("data-seq")
    created.get_by_role("button", name="Restore this version").click()

    expect(page.locator(".messagelist")).to_have_text(f"Version {seq} restored: name, done.")
    expect(versions).to_have_count(3)
    expect(versions.first.locator("li", has_text="name").locator("del")).to_have_text("Renamed")
    expect(versions.first.locator("li", has_text="name").locator("ins")).to_have_text(
        "Design homepage")
    expect(versions.first.get_by_role("button", name="Restore this version")).to_have_count(0)
    expect(name).to_have_value("Design homepage")
    expect(page.get_by_label("done:", exact=True)).to_be_checked()
