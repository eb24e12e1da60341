"""Browser tests: Playwright driving the system Chromium, headless, against pytest-django's
live server. Screenshots of each step are kept in ``artifacts/screenshots/``.

Without ``/usr/bin/chromium`` the tests skip, except in CI (``CI`` set), where they fail: CI must
run them (``.ci/run`` installs Debian's chromium).
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.conftest import _fresh_cache, add_key, estate  # noqa: F401 - shared fixtures

CHROMIUM = Path(os.environ.get("NHIGOV_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "pw-for-tests-1"  # tests.factories.UserFactory


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Chromium for one test. The sync Playwright API keeps an event loop running in this
    thread, so Django's async-safety check is lifted for exactly as long as it lives (and not
    for the tests that follow: ``manage.py check --deploy`` rightly refuses the variable)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must run the browser tests.")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield instance
            instance.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def audit_flushable(live_server: Any) -> Iterator[None]:
    """Let the live-server test database be emptied afterwards on SQLite.

    The audit trail refuses DELETE with a trigger; PostgreSQL flushes test databases with
    TRUNCATE (allowed), SQLite with DELETE. Torn down before the flush: drop the trigger, empty
    the table, put the trigger back.
    """
    yield
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    migration = importlib.import_module("nhigov.migrations.0002_audit_trail")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS nhigov_auditevent_no_delete")
        cursor.execute("DELETE FROM nhigov_auditevent")
        for sql in migration.SQLITE_TRIGGERS:
            if "no_delete" in sql:
                cursor.execute(sql)


@pytest.fixture
def page(browser: Any, live_server: Any, audit_flushable: None) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            # HTTP errors the tests provoke on purpose (403, 404) are asserted by the tests.
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    yield page
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture
def shot(request: Any) -> Callable[[Any, str], None]:
    """Save a full-page screenshot named after the test and the step."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^\w-]+", "-", request.node.name).strip("-")

    def take(page: Any, step: str) -> None:
        # caret="initial": hiding the caret injects a <style>, which the CSP rightly refuses.
        page.screenshot(
            path=str(SCREENSHOTS / f"{test}--{step}.png"), full_page=True, caret="initial"
        )

    return take


@pytest.fixture
def sign_in() -> Callable[[Any, str], None]:
    def login(page: Any, username: str) -> None:
        page.goto("/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")

    return login
