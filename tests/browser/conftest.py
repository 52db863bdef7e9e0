"""What a person sees: Debian's Chromium, headless, driven by Playwright against a live server.

The page may reach only the live server: any request elsewhere (a CDN, a font) is aborted and
fails the test, so a page that passes works on a machine that reaches only its own loopback.
Each test leaves a screenshot in var/screenshots/ (CI keeps them as artifacts).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from playwright.sync_api import expect

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
# Without the background-networking flags Chromium keeps calling Google's hosts, which a closed
# network refuses; --no-sandbox because the tests run as root.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="package")
def browser():
    """Chromium for the browser tests, closed after them: Playwright's event loop then leaves
    this thread, where the async tests after them (tests/watch) start loops of their own."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium).")
    # Playwright's sync API keeps an event loop in this thread; the live server and the ORM
    # calls of the tests are plain synchronous code all the same.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=executable, args=FLAGS)
            yield launched
            launched.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser tab at a laptop's size, its base URL the live server's."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366,
                                                                        "height": 768})
    tab = context.new_page()
    elsewhere: list[str] = []

    def only_loopback(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    tab.route("**/*", only_loopback)
    yield tab
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    tab.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
    context.close()
    assert not elsewhere, f"the page asked for files outside this server: {elsewhere}"


def run_in_graphiql(page, query: str):
    """Type `query` into the GraphiQL page open in `page`, run it, and return the result pane."""
    from playwright.sync_api import expect

    editor = page.locator(".graphiql-query-editor .CodeMirror")
    expect(editor).to_be_visible()
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(query)  # as pasted: no auto-closed brackets to fight
    expect(editor).to_contain_text(query)
    page.locator(".graphiql-execute-button").click()
    return page.locator(".graphiql-response")


def log_in_as_builder(page) -> None:
    """A superuser, logged into the admin through its login form."""
    User.objects.create_superuser("builder", "builder@example.com", "builder-pw-1")
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("builder")
    page.get_by_label("Password").fill("builder-pw-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_be_visible()
