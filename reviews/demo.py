"""The demo's quarterly review: launched by the schedule five days ago, half-way through.

``ensure_demo_campaign()`` (idempotent, called by ``manage.py demo`` after discovery) launches the
scheduled campaign as the beat would have, with its clock started five days ago (due in nine
days), then replays what the other reviewers did since, through the real services:

* Raj Patel (platform's manager) decided all his items, one every minute or two, handed one over
  to Olivia, and signed off his queue;
* Mei Chen decided about half of hers;
* Diego Santos kept a dozen items within seconds (the rubber-stamp indicator shows it);
* Nora Berg did nothing yet (someone to remind or escalate).

The owner persona (Olivia Park) finds her queue untouched: tens of items with recommendations,
one handover waiting for her answer, a self-review (an IAM user she uses herself). The security
persona can remind, escalate, extend, move to closing and sign off. Because the campaign is
back-dated, its audit events carry those earlier times (the chain itself is intact).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from inventory.models import Account, Identity
from nhigov.models import User
from reviews.choices import CampaignKind, CampaignStatus, ItemStatus, Outcome, Recommendation
from reviews.models import Campaign, RemediationRequest, ReviewItem
from reviews.services.decisions import item_decide, queue_sign_off
from reviews.services.schedule import scheduled_campaigns_launch
from reviews.states import ReviewError

STARTED_DAYS_AGO = 5
KEEP_REASONS = (
    "Runs the nightly deploy pipeline; checked with the team this week.",
    "Production service identity, in use every day; owner confirmed.",
    "Needed by the batch jobs until the migration to roles in Q1.",
    "Still used by the integration; key rotation ticket PLAT-412 is open.",
)
DEPROVISION_REASONS = (
    "Replaced by the OIDC role last quarter; nothing uses it any more.",
    "Leftover from a decommissioned service.",
    "Test identity nobody owns any more.",
)


def ensure_demo_campaign(*, now: datetime | None = None) -> Campaign | None:
    """The demo's scheduled campaign, launched and half-reviewed once; then returned as is."""
    existing = (
        Campaign.objects.filter(kind=CampaignKind.SCHEDULED)
        .exclude(status=CampaignStatus.CANCELED)
        .order_by("-created_at")
        .first()
    )
    if existing is not None:
        return existing
    if not Identity.objects.exists():
        return None
    now = now or timezone.now()
    start = now - timedelta(days=STARTED_DAYS_AGO)
    launched = scheduled_campaigns_launch(now=start)
    if not launched:
        return None
    campaign = launched[0]
    _replay_other_reviewers(campaign, start=start)
    return campaign


def _items(campaign: Campaign, username: str) -> list[ReviewItem]:
    return list(
        ReviewItem.objects.filter(
            campaign=campaign, reviewer__username=username, status=ItemStatus.PENDING
        )
        .select_related("campaign", "reviewer")
        .order_by("-priority", "name", "id")
    )


def _decide(
    item: ReviewItem, actor: User, outcome: str, reason: str, at: datetime, **extra: object
) -> bool:
    item.refresh_from_db()
    try:
        item_decide(item=item, actor=actor, outcome=outcome, justification=reason, now=at, **extra)  # type: ignore[arg-type]
    except ReviewError:
        return False
    return True


def _replay_other_reviewers(campaign: Campaign, *, start: datetime) -> None:
    rng = random.Random(20261204)
    people = {u.username: u for u in User.objects.all()}
    raj, mei, diego = people.get("raj.patel"), people.get("mei.chen"), people.get("diego.santos")
    olivia = people.get("owner")

    if raj is not None:
        at = start + timedelta(days=1, hours=9)
        handed_over = False
        for item in _items(campaign, raj.username):
            at += timedelta(seconds=rng.randint(45, 240))
            if (
                not handed_over
                and olivia is not None
                and item.recommendation == Recommendation.KEEP
            ):
                handed_over = _decide(
                    item,
                    raj,
                    Outcome.HANDOVER,
                    "Olivia's team runs this pipeline now.",
                    at,
                    handover_to=olivia,
                )
                if handed_over:
                    continue
            if item.recommendation == Recommendation.DEPROVISION:
                _decide(item, raj, Outcome.DEPROVISION, rng.choice(DEPROVISION_REASONS), at)
            else:
                _decide(item, raj, Outcome.KEEP, rng.choice(KEEP_REASONS), at)
        with contextlib.suppress(ReviewError):
            queue_sign_off(campaign=campaign, actor=raj, now=at + timedelta(minutes=2))

    if mei is not None:
        items = _items(campaign, mei.username)
        at = start + timedelta(days=2, hours=14)
        for item in items[: len(items) // 2]:
            at += timedelta(seconds=rng.randint(60, 300))
            if item.recommendation == Recommendation.DEPROVISION:
                _decide(item, mei, Outcome.DEPROVISION, rng.choice(DEPROVISION_REASONS), at)
            else:
                _decide(item, mei, Outcome.KEEP, rng.choice(KEEP_REASONS), at)

    if diego is not None:
        at = start + timedelta(days=3, hours=17, minutes=55)
        for item in _items(campaign, diego.username)[:12]:
            at += timedelta(seconds=rng.randint(1, 3))
            _decide(item, diego, Outcome.KEEP, "Still needed.", at)


# --- Last quarter's campaign, closed, with its remediation proven ----------------------------

CLOSED_CAMPAIGN_NAME = "Sandbox stale identities 2026-Q3"
CLOSED_STARTED_DAYS_AGO = 85  # after every stale identity's last use: the snapshot stays true
CLOSED_ACCOUNT = "sandbox"
# Never removed from the emulator: discovery reaches member accounts through it.
_PROTECTED_NAMES = {"OrganizationAccountAccessRole"}
EXCEPTION_REASON = (
    "Used by the quarterly disaster-recovery drill only; exception until the drill moves to "
    "the OIDC role (ticket SEC-231)."
)


def ensure_demo_closed_campaign(
    *,
    now: datetime | None = None,
    rediscover: Callable[[], object] | None = None,
) -> Campaign | None:
    """Last quarter's review of the sandbox account's stale identities, closed and signed off.

    Replayed through the real services with back-dated clocks: owners decided most items
    (deprovisions, keeps, one kept as an exception with an end date), the rest got the
    no-response policy (follow the recommendation) at closing, the security admin (Sam Rivera)
    signed it off, and the operators recorded most deprovisions as done. With ``rediscover``
    (``manage.py demo``), the demo then does at the emulator what the operators did at AWS
    (deletes those identities with boto3; one IAM user only has its keys deactivated and its
    console password removed, with its request left open) and runs discovery again: that real
    run is the proof each request carries (``verified_by_run``). Idempotent: returns the
    campaign if it exists.
    """
    from reviews.services.campaigns import (
        campaign_launch,
        campaign_sign_off,
        campaign_start_closing,
    )

    existing = Campaign.objects.filter(name=CLOSED_CAMPAIGN_NAME).first()
    if existing is not None:
        return existing
    account = Account.objects.filter(name=CLOSED_ACCOUNT).first()
    security = User.objects.filter(username="security").first()
    if account is None or security is None:
        return None
    now = now or timezone.now()
    start = now - timedelta(days=CLOSED_STARTED_DAYS_AGO)
    rng = random.Random(20260910)
    try:
        campaign = campaign_launch(
            name=CLOSED_CAMPAIGN_NAME,
            scope={"account": account.account_id, "stale": "true"},
            actor=security,
            now=start,
            due_days=14,
            grace_days=7,
            no_response_policy="recommendation",
        )
    except ReviewError:
        return None
    items = list(
        ReviewItem.objects.filter(campaign=campaign)
        .select_related("campaign", "reviewer")
        .order_by("id")
    )
    # Security hands one item of its queue to the platform team's manager (the chain shows it).
    raj = User.objects.filter(username="raj.patel").first()
    queued = next((i for i in items if i.reviewer_id is None), None)
    if raj is not None and queued is not None:
        from reviews.services.handovers import item_reroute

        with contextlib.suppress(ReviewError):
            item_reroute(
                item=queued,
                actor=security,
                to_user=raj,
                note="Platform's sandbox tooling: Raj knows whether it is still needed.",
                now=start + timedelta(hours=20),
            )
            queued.refresh_from_db()
    # One reviewer never answers (Nora, else the one with the fewest items).
    by_reviewer: dict[int | None, list[ReviewItem]] = {}
    for item in items:
        by_reviewer.setdefault(item.reviewer_id, []).append(item)
    people = sorted((r for r in by_reviewer if r is not None), key=lambda r: len(by_reviewer[r]))
    names = {u.pk: u.username for u in User.objects.filter(pk__in=people)}
    silent = next(
        (r for r in people if names.get(r) == "nora.berg"),
        people[0] if len(people) > 1 else None,
    )
    at = start + timedelta(days=1, hours=9)
    excepted = False
    for reviewer_id, its in by_reviewer.items():
        if reviewer_id is not None and reviewer_id == silent:
            continue
        actor = its[0].reviewer or security
        for item in its:
            at += timedelta(seconds=rng.randint(50, 400))
            if item.recommendation == Recommendation.DEPROVISION:
                done = _decide(
                    item, actor, Outcome.DEPROVISION, rng.choice(DEPROVISION_REASONS), at
                )
            elif not excepted:
                done = excepted = _decide(
                    item,
                    actor,
                    Outcome.KEEP,
                    EXCEPTION_REASON,
                    at,
                    exception_until=(now + timedelta(days=60)).date(),
                )
            else:
                done = _decide(item, actor, Outcome.KEEP, rng.choice(KEEP_REASONS), at)
            if not done and actor != security:  # not theirs to decide: security does it
                _decide(
                    item,
                    security,
                    Outcome.DEPROVISION
                    if item.recommendation == Recommendation.DEPROVISION
                    else Outcome.KEEP,
                    rng.choice(DEPROVISION_REASONS)
                    if item.recommendation == Recommendation.DEPROVISION
                    else rng.choice(KEEP_REASONS),
                    at,
                    on_behalf_of_id=item.reviewer_id,
                )
    closing_at = start + timedelta(days=21, hours=1)
    signed_at = closing_at + timedelta(days=1, hours=2)
    # The operators deprovision everything but one IAM user, which they only disable (and
    # never record: discovery will).
    requests = _open_requests(campaign)
    disable = next(
        (
            r.identity
            for r in requests
            if r.identity.kind == "iam_user" and r.identity.name not in _PROTECTED_NAMES
        ),
        None,
    )
    removed = _record_done(requests, security, disable, not_before=start + timedelta(days=9))
    campaign.refresh_from_db()
    campaign_start_closing(campaign=campaign, actor=security, now=closing_at)
    campaign.refresh_from_db()
    try:
        campaign_sign_off(
            campaign=campaign,
            actor=security,
            confirm=True,
            comment="Sandbox stale identities reviewed; deprovisions executed by the cloud "
            "team, the drill role kept as a documented exception.",
            now=signed_at,
        )
    except ReviewError:
        return campaign
    # The no-response policy's deprovisions, done after the sign-off.
    removed += _record_done(_open_requests(campaign), security, disable, not_before=signed_at)
    if rediscover is not None:
        remove_at_emulator(removed, disable=disable)
        rediscover()
    return campaign


def _open_requests(campaign: Campaign) -> list[RemediationRequest]:
    return list(
        RemediationRequest.objects.filter(item__campaign=campaign, status="requested")
        .select_related("identity__account")
        .order_by("requested_at", "id")
    )


def _record_done(
    requests: list[RemediationRequest],
    security: User,
    disable: Identity | None,
    *,
    not_before: datetime,
) -> list[Identity]:
    """Record each request done (a few days after ``not_before``), in time order."""
    from reviews.services.remediation import remediation_record_result

    rng = random.Random(4100 + len(requests))
    plan = []
    for request in requests:
        if request.identity == disable or request.identity.name in _PROTECTED_NAMES:
            continue
        done_at = max(request.requested_at, not_before) + timedelta(
            days=rng.randint(1, 4), minutes=rng.randint(0, 600)
        )
        plan.append((done_at, request))
    removed = []
    for done_at, request in sorted(plan, key=lambda p: (p[0], p[1].pk)):
        change = f"CHG-{4100 + request.pk}"
        remediation_record_result(
            request=request,
            actor=security,
            succeeded=True,
            note=f"Deleted at AWS (change {change}).",
            result={"deleted": True, "change": change},
            now=done_at,
        )
        removed.append(request.identity)
    return removed


def remove_at_emulator(identities: list[Identity], *, disable: Identity | None = None) -> None:
    """What an operator does at AWS, against the demo's emulator (``AWS_ENDPOINT_URL``): delete
    each identity (and what holds it), and disable one IAM user (keys inactive, no console
    password). Member accounts through ``OrganizationAccountAccessRole``."""
    import boto3
    from botocore.exceptions import ClientError

    sessions: dict[str, Any] = {}

    def client(account_id: str, service: str, region: str = "us-east-1") -> Any:
        if account_id not in sessions:
            sts = boto3.client("sts")
            me = sts.get_caller_identity()["Account"]
            if me == account_id:
                sessions[account_id] = boto3.session.Session()
            else:
                creds = sts.assume_role(
                    RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
                    RoleSessionName="nhigov-demo-remediation",
                )["Credentials"]
                sessions[account_id] = boto3.session.Session(
                    aws_access_key_id=creds["AccessKeyId"],
                    aws_secret_access_key=creds["SecretAccessKey"],
                    aws_session_token=creds["SessionToken"],
                )
        return sessions[account_id].client(service, region_name=region)

    def quietly(call: Callable[..., Any], **kwargs: Any) -> Any:
        with contextlib.suppress(ClientError):
            return call(**kwargs)
        return None

    for identity in identities:
        account_id = identity.account.account_id
        if identity.kind == "secret":
            region = identity.region or "us-east-1"
            sm = client(account_id, "secretsmanager", region)
            quietly(sm.delete_secret, SecretId=identity.arn, ForceDeleteWithoutRecovery=True)
            continue
        iam = client(account_id, "iam")
        name = identity.name
        if identity.kind == "iam_user":
            for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
                iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
            quietly(iam.delete_login_profile, UserName=name)
            for device in iam.list_mfa_devices(UserName=name)["MFADevices"]:
                iam.deactivate_mfa_device(UserName=name, SerialNumber=device["SerialNumber"])
            for group in iam.list_groups_for_user(UserName=name)["Groups"]:
                iam.remove_user_from_group(UserName=name, GroupName=group["GroupName"])
            for policy in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
                iam.detach_user_policy(UserName=name, PolicyArn=policy["PolicyArn"])
            for policy_name in iam.list_user_policies(UserName=name)["PolicyNames"]:
                iam.delete_user_policy(UserName=name, PolicyName=policy_name)
            quietly(iam.delete_user, UserName=name)
        elif identity.kind == "iam_role":
            for profile in iam.list_instance_profiles_for_role(RoleName=name)["InstanceProfiles"]:
                iam.remove_role_from_instance_profile(
                    InstanceProfileName=profile["InstanceProfileName"], RoleName=name
                )
            for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
            for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
            quietly(iam.delete_role, RoleName=name)
        elif identity.kind == "instance_profile":
            profile = quietly(iam.get_instance_profile, InstanceProfileName=name)
            for role in (profile or {}).get("InstanceProfile", {}).get("Roles", []):
                iam.remove_role_from_instance_profile(
                    InstanceProfileName=name, RoleName=role["RoleName"]
                )
            quietly(iam.delete_instance_profile, InstanceProfileName=name)
    if disable is not None and disable.kind == "iam_user":
        iam = client(disable.account.account_id, "iam")
        for key in iam.list_access_keys(UserName=disable.name)["AccessKeyMetadata"]:
            iam.update_access_key(
                UserName=disable.name, AccessKeyId=key["AccessKeyId"], Status="Inactive"
            )
        quietly(iam.delete_login_profile, UserName=disable.name)
