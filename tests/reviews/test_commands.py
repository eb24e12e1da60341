"""``campaign_launch`` and ``campaign_status``."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from reviews.models import Campaign

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_campaign_launch_prints_the_id_and_the_item_count_as_json(estate) -> None:  # type: ignore[no-untyped-def]
    result = json.loads(
        run(
            "campaign_launch",
            "--name",
            "Platform Q4",
            "--scope-json",
            '{"team": "platform"}',
            "--due-days",
            "10",
            "--json",
        )
    )
    campaign = Campaign.objects.get(pk=result["campaign_id"])
    assert result["items"] == 5 == campaign.items.count()
    assert campaign.status == "active" and (campaign.due_at - campaign.activated_at).days == 10
    assert result["snapshot_hash"] == campaign.snapshot_hash


@pytest.mark.django_db(transaction=True)  # the e-mails go out on commit, as in the demo
def test_campaign_launch_json_stays_parseable_with_the_console_email_backend(  # type: ignore[no-untyped-def]
    audit_flushable, estate, settings, capsys
) -> None:
    """The demo prints e-mails on the console: they go to stderr, the JSON alone to stdout."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    call_command(
        "campaign_launch", "--name", "Platform Q4", "--scope-json", '{"team": "platform"}', "--json"
    )
    captured = capsys.readouterr()
    assert json.loads(captured.out)["items"] == 5
    assert "Subject: [nhigov]" in captured.err


def test_campaign_launch_refuses_a_bad_scope_and_creates_nothing(estate) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="not valid JSON"):
        run("campaign_launch", "--name", "x", "--scope-json", "{team")
    with pytest.raises(CommandError, match="Unknown filter"):
        run("campaign_launch", "--name", "x", "--scope-json", '{"colour": "red"}')
    assert not Campaign.objects.exists()


def test_campaign_status_reports_progress_as_json_and_text(estate) -> None:  # type: ignore[no-untyped-def]
    campaign_id = json.loads(run("campaign_launch", "--name", "Q4", "--json"))["campaign_id"]
    status = json.loads(run("campaign_status", str(campaign_id), "--json"))
    assert status["status"] == "active" and status["items"] == 7 and status["pending"] == 7
    assert status["reconciled"] is True and status["percent_complete"] == 0
    assert {r["reviewer"] for r in status["reviewers"]} >= {"olivia.park@example.com", None}
    text = run("campaign_status", str(campaign_id))
    assert "0/7 decided" in text
    with pytest.raises(CommandError, match="No campaign"):
        run("campaign_status", "999")
