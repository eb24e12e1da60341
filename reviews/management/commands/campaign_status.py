"""``manage.py campaign_status ID``: where a campaign stands, for people or scripts."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reviews.models import Campaign
from reviews.selectors import campaign_counts, campaign_remediation, campaign_reviewers
from reviews.services.population import scope_label


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


class Command(BaseCommand):
    help = "Print a review campaign's state, progress, decisions and reviewers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign_id", type=int)
        parser.add_argument("--json", action="store_true", help="Print the status as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.filter(pk=options["campaign_id"]).first()
        if campaign is None:
            raise CommandError(f"No campaign {options['campaign_id']}.")
        counts = campaign_counts(campaign)
        reviewers = [
            {
                "reviewer": (r.reviewer.email or r.reviewer.username) if r.reviewer else None,
                "items": r.total,
                "decided": r.decided,
                "pending": r.pending,
                "rubber_stamping": r.rubber_stamping,
                "signed_off_at": _iso(r.signed_off_at),
            }
            for r in campaign_reviewers(campaign)
            if r.total
        ]
        status = {
            "campaign_id": campaign.pk,
            "name": campaign.name,
            "kind": campaign.kind,
            "status": campaign.status,
            "scope": campaign.scope,
            "scope_label": scope_label(campaign.scope),
            "no_response_policy": campaign.no_response_policy,
            "activated_at": _iso(campaign.activated_at),
            "due_at": _iso(campaign.due_at),
            "closes_at": _iso(campaign.closes_at),
            "closed_at": _iso(campaign.closed_at),
            "inventory_count": campaign.inventory_count,
            "excluded_count": campaign.excluded_count,
            "population_count": campaign.population_count,
            "reconciled": campaign.reconciled and campaign.population_count == counts["total"],
            "snapshot_hash": campaign.snapshot_hash,
            "items": counts["total"],
            "decided": counts["decided"],
            "pending": counts["pending"],
            "percent_complete": counts["percent"],
            "by_status": counts["by_status"],
            "by_decision": counts["by_decision"],
            "no_response": campaign.no_response_summary,
            "remediation": campaign_remediation(campaign)["by_status"],
            "signed_off": (
                {
                    "name": campaign.signed_off_name,
                    "role": campaign.signed_off_role,
                    "at": _iso(campaign.closed_at),
                }
                if campaign.signed_off_name
                else None
            ),
            "reviewers": reviewers,
        }
        if options["json"]:
            self.stdout.write(json.dumps(status, indent=2))
            return
        self.stdout.write(f"{campaign.name} (#{campaign.pk}): {campaign.get_status_display()}")
        self.stdout.write(f"  scope: {status['scope_label']}")
        self.stdout.write(
            f"  {counts['decided']}/{counts['total']} decided ({counts['percent']}%), due "
            f"{status['due_at'] or '-'}; population {campaign.population_count} of "
            f"{campaign.inventory_count} in the inventory ({campaign.excluded_count} excluded)"
        )
        for row in reviewers:
            flag = "  RUBBER-STAMPING?" if row["rubber_stamping"] else ""
            self.stdout.write(
                f"  {row['reviewer'] or 'security queue'}: {row['decided']}/{row['items']}{flag}"
            )
