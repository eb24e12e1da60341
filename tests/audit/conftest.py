"""Fixtures of the audit tests: the project's browser fixtures, for the compliance page's
browser test."""

from tests.browser.conftest import (  # noqa: F401 - the project's browser fixtures
    audit_flushable,
    browser,
    page,
    shot,
    sign_in,
)
