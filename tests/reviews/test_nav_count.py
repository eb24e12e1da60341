"""Every page's header tells a reviewer how many items wait for them."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from reviews.models import ReviewItem
from tests.reviews.factories import client_for

pytestmark = pytest.mark.django_db


def _nav_count(body: str) -> str | None:
    found = re.search(r'<span class="nav-count"[^>]*>(\d+)<', body)
    return found.group(1) if found else None


def test_the_header_counts_the_items_waiting_for_the_reviewer(campaign, estate) -> None:  # type: ignore[no-untyped-def]
    waiting = ReviewItem.objects.filter(reviewer=estate.olivia, status="pending").count()
    assert waiting
    body = client_for(estate.olivia).get(reverse("inventory:my-identities")).content.decode()
    assert _nav_count(body) == str(waiting)
    assert "waiting for you" in body


def test_no_count_without_items_waiting(campaign, estate, auditor_user) -> None:  # type: ignore[no-untyped-def]
    body = client_for(auditor_user).get(reverse("inventory:dashboard")).content.decode()
    assert _nav_count(body) is None
