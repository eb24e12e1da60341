"""Fixtures of the review tests: a small estate and a campaign over it."""

from __future__ import annotations

from typing import Any

import pytest

from reviews.models import Campaign
from tests.browser.conftest import (  # noqa: F401 - the project's browser fixtures
    audit_flushable,
    browser,
    page,
    shot,
    sign_in,
)
from tests.reviews.factories import Estate, launch, make_estate


@pytest.fixture(autouse=True)
def _locmem_email(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NHIGOV_BASE_URL = "https://nhigov.example.com"


@pytest.fixture
def estate(owner_user: Any) -> Estate:
    return make_estate(owner_user)


@pytest.fixture
def campaign(estate: Estate, security_user: Any) -> Campaign:
    return launch(security_user)
