#!/usr/bin/env python
"""Access-review scale: launching a campaign over 100k identities, and an owner's 2,000-item queue.

    .venv/bin/python bench/campaign_bench.py [--identities 100000] [--queue 2000]
        [--database-url postgres://postgres@127.0.0.1:5432/nhigov_bench_reviews]
        [--repeat 3] [--requests 40] [--write-docs]

Targets (product brief, "Scale"): launch (snapshot + items) over 100k identities in under 15 s;
an owner's queue page with 2,000 items under 150 ms server time (p95).

Set-up, not timed: a scratch PostgreSQL database (created if missing, migrated; never point it at
a database you care about) filled with SQL ``generate_series`` inserts: 300 people (a few
deactivated, so routing goes to team managers), 20 teams with managers, 10 accounts, N identities
(users, roles, secrets, instance profiles; policies, permission summaries, last use spread over
200 days, tiers), an access key for every IAM user and open findings on a third of them. One
person, ``bench-owner``, owns exactly ``--queue`` identities. The identities are reused by later
runs; the review tables are truncated before each launch.

Measured:

1. ``campaign_launch`` over every identity (scope ``{}``): create, activate (read in chunks,
   snapshot, hash, COPY the items), the audit events, and the reviewers' e-mails (in-process
   here, a Celery task in production). Median of ``--repeat``; the campaign of the last round is
   kept for the page measurements.
2. The owner's queue page (``GET /reviews/``, first page; a deep page; a search), through
   Django's full request stack in-process (the test client: middleware, session, view, template),
   ``--requests`` times each after a warm-up: p50 and p95.
3. One decision in place (the htmx POST), and the security team's campaign page (information).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from statistics import median, quantiles
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.reconcile_bench import cpu_model, ensure_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/nhigov_bench_reviews"
DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Review campaigns"
LAUNCH_TARGET_SECONDS = 15.0
QUEUE_TARGET_MS = 150.0
PEOPLE = 300
TEAMS = 20
ACCOUNTS = 10


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Campaign launch and owner queue at scale.")
    parser.add_argument("--identities", type=int, default=100_000)
    parser.add_argument("--queue", type=int, default=2_000, help="items of the benchmarked owner")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_REVIEWS_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="scratch PostgreSQL database (created if missing; its tables are rewritten)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="launch rounds (median)")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per page")
    parser.add_argument("--write-docs", action="store_true", help=f"rewrite '{SECTION}'")
    args = parser.parse_args(argv)
    if args.queue >= args.identities:
        parser.error("--queue must be smaller than --identities")
    return args


def configure_environment(database_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "nhigov.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["DEBUG"] = "false"  # no query log
    os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(40))
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["NHIGOV_REVIEW_EVENT_TRIGGERS"] = "false"
    os.environ["SECURE_SSL_REDIRECT"] = "false"  # the test client speaks plain HTTP
    # Plain static storage (no collectstatic manifest needed) and in-process Celery tasks.
    os.environ["NHIGOV_TESTING"] = "1"


# --- data ---------------------------------------------------------------------------------------

POLICY = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", '
    '"s3:PutObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::bench-data", '
    '"arn:aws:s3:::bench-data/*"]}, {"Effect": "Allow", "Action": ["sqs:SendMessage", '
    '"sqs:ReceiveMessage", "sqs:DeleteMessage"], "Resource": "*"}]}'
)


def insert_identities(cur: Any, n: int, queue: int) -> None:
    """People, teams, accounts and N identities (``queue`` of them owned by bench-owner), with
    SQL on an open cursor; everything of a previous run truncated first."""
    cur.execute(
        "TRUNCATE reviews_remediationrequest, reviews_reviewassignment, "
        "reviews_reminderlog, reviews_reviewersignoff, reviews_reviewdecision, "
        "reviews_reviewitem, reviews_campaign, inventory_finding, inventory_credential, "
        "inventory_identityevent, inventory_identity, inventory_team_members, "
        "inventory_team, inventory_account RESTART IDENTITY CASCADE"
    )
    cur.execute("DELETE FROM nhigov_user WHERE username LIKE 'bench-%%'", [])
    cur.execute(
        "INSERT INTO nhigov_user (password, is_superuser, username, first_name, last_name, "
        "email, is_staff, is_active, date_joined, role, left_at) "
        "SELECT '!', false, 'bench-' || g, 'Person', g::text, 'person' || g || "
        "'@bench.example', false, g %% 40 <> 0, now(), 'owner', NULL "
        "FROM generate_series(1, %s) g",
        [PEOPLE],
    )
    cur.execute(
        "INSERT INTO nhigov_user (password, is_superuser, username, first_name, last_name, "
        "email, is_staff, is_active, date_joined, role, left_at) VALUES "
        "('!', false, 'bench-owner', 'Bench', 'Owner', 'owner@bench.example', false, true, "
        "now(), 'owner', NULL), ('!', false, 'bench-security', 'Bench', 'Security', "
        "'security@bench.example', false, true, now(), 'security_admin', NULL)",
        [],
    )
    cur.execute(
        "INSERT INTO inventory_team (name, description, manager_id) "
        "SELECT 'team-' || g, '', (SELECT id FROM nhigov_user WHERE username = 'bench-' || g) "
        "FROM generate_series(1, %s) g",
        [TEAMS],
    )
    cur.execute(
        "INSERT INTO inventory_team_members (team_id, user_id) "
        "SELECT t.id, u.id FROM inventory_team t JOIN nhigov_user u "
        "ON u.username LIKE 'bench-%%' AND u.username NOT IN ('bench-owner', 'bench-security') "
        "AND (split_part(u.username, '-', 2)::int %% %s) + 1 = split_part(t.name, '-', 2)::int",
        [TEAMS],
    )
    cur.execute(
        "INSERT INTO inventory_account (provider, account_id, name, email, source_id, "
        "is_management, last_run_id, last_complete_at) "
        "SELECT 'aws', lpad((100000000000 + g)::text, 12, '0'), 'account-' || g, '', NULL, "
        "false, NULL, now() FROM generate_series(1, %s) g",
        [ACCOUNTS],
    )
    cur.execute(
        """
        WITH people AS (
          SELECT array_agg(id ORDER BY id) AS ids FROM nhigov_user
          WHERE username LIKE 'bench-%%' AND username NOT IN ('bench-owner', 'bench-security')
        ), teams AS (SELECT array_agg(id ORDER BY id) AS ids FROM inventory_team),
        accounts AS (SELECT array_agg(id ORDER BY id) AS ids FROM inventory_account),
        me AS (SELECT id FROM nhigov_user WHERE username = 'bench-owner'),
        rows AS (
          SELECT g,
            (ARRAY['iam_user','iam_role','iam_role','secret','instance_profile'])[1 + g %% 5]
              AS kind,
            CASE WHEN g %% 7 = 0 THEN NULL
                 ELSE now() - make_interval(days => (g * 37) %% 200, secs => g %% 3600) END
              AS used,
            (ARRAY['low','low','low','low','low','medium','medium','medium','high',
                   'critical'])[1 + g %% 10] AS tier
          FROM generate_series(1, %(n)s) g
        )
        INSERT INTO inventory_identity (account_id, provider, kind, native_id, arn,
          provider_id, name, path, region, tags, created_at, first_seen_at, last_used_at,
          last_used_service, last_used_region, classification, classification_evidence,
          owner_id, owner_team_id, owner_source, owner_evidence, owner_raw, owner_unmatched,
          lifecycle_state, lifecycle_changed_at, vanished_at, policies, trust_policy,
          groups, attributes, permissions_summary, is_privileged, is_orphaned,
          orphaned_since, is_stale, stale_since, risk_tier, content_hash, updated_at)
        SELECT
          accounts.ids[1 + g %% %(accounts)s], 'aws', kind,
          'arn:aws:iam::' || (100000000001 + g %% %(accounts)s) || ':' || kind
            || '/bench-' || g,
          'arn:aws:iam::' || (100000000001 + g %% %(accounts)s) || ':' || kind
            || '/bench-' || g,
          'AIDA' || g, 'bench-' || g, '/', '',
          jsonb_build_object('team', 'team-' || (1 + g %% %(teams)s), 'env', 'prod',
                             'owner', 'person' || (1 + g %% %(people)s) || '@bench.example'),
          now() - make_interval(days => 200 + g %% 700), now() - interval '30 days', used,
          CASE WHEN used IS NULL THEN '' ELSE 's3' END,
          CASE WHEN used IS NULL THEN '' ELSE 'us-east-1' END,
          CASE WHEN kind = 'iam_user' AND g %% 97 = 0 THEN 'machine_used_by_person'
               ELSE 'machine' END,
          '{}'::jsonb,
          CASE WHEN g <= %(queue)s THEN me.id ELSE people.ids[1 + g %% %(people)s] END,
          teams.ids[1 + g %% %(teams)s], 'tag', '{}'::jsonb, '', false,
          CASE WHEN g %% 250 = 0 THEN 'vanished' ELSE 'active' END, now(), NULL,
          jsonb_build_array(
            jsonb_build_object('name', 'bench-managed-' || (g %% 50), 'source', 'managed',
                               'document', %(policy)s::jsonb),
            jsonb_build_object('name', 'bench-inline-' || g, 'source', 'inline',
                               'document', %(policy)s::jsonb)),
          NULL, '[]'::jsonb, '{}'::jsonb,
          jsonb_build_object('admin', g %% 101 = 0,
            'services', '["dynamodb", "s3", "sqs"]'::jsonb,
            'wildcard_actions', CASE WHEN g %% 101 = 0 THEN '["*"]'::jsonb ELSE '[]'::jsonb END,
            'sensitive_wildcards', '[]'::jsonb, 'allow_statements', 2,
            'deny_statements', 0, 'policy_count', 2),
          g %% 101 = 0, false, NULL,
          used IS NULL OR used < now() - interval '90 days',
          CASE WHEN used < now() - interval '90 days' THEN used + interval '90 days' END,
          tier, md5(g::text), now()
        FROM rows, people, teams, accounts, me
        """,
        {
            "n": n,
            "queue": queue,
            "people": PEOPLE,
            "teams": TEAMS,
            "accounts": ACCOUNTS,
            "policy": POLICY,
        },
    )


def populate(n: int, queue: int) -> None:
    """Fill the scratch database with SQL (seconds, not minutes); reused when already there."""
    from django.db import connection, transaction

    from inventory.models import Credential, Identity

    if (
        Identity.objects.count() == n
        and Identity.objects.filter(owner__username="bench-owner").count() == queue
        and Credential.objects.exists()
    ):
        print(f"reusing {n:,} identities")
        return
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        insert_identities(cur, n, queue)
        cur.execute(
            "INSERT INTO inventory_credential (identity_id, kind, native_id, status, created_at, "
            "last_used_at, last_used_service, last_used_region, last_rotated_at, attributes) "
            "SELECT id, 'access_key', 'AKIA' || lpad(id::text, 16, '0'), 'active', "
            "now() - make_interval(days => ((id * 13) %% 800)::int), last_used_at, '', '', NULL, "
            "'{}'::jsonb FROM inventory_identity WHERE kind = 'iam_user'",
            [],
        )
        cur.execute(
            "INSERT INTO inventory_finding (identity_id, rule_id, key, severity, status, message, "
            "evidence, first_seen_at, last_seen_at, resolved_at, suppressed_reason, "
            "suppressed_by_id, suppressed_at, suppressed_until, digest) "
            "SELECT id, (ARRAY['AK-001','ROLE-001','PRIV-002','SEC-001','PRIV-001'])[1 + id %% 5], "
            "'', (ARRAY['high','medium','high','medium','critical'])[1 + id %% 5], 'open', "
            "'bench finding', '{}'::jsonb, now(), now(), NULL, '', NULL, NULL, NULL, '' "
            "FROM inventory_identity WHERE id %% 3 = 0",
            [],
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"populated {n:,} identities in {time.perf_counter() - started:.1f}s")


def truncate_reviews() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE reviews_remediationrequest, reviews_reviewassignment, reviews_reminderlog, "
            "reviews_reviewersignoff, reviews_reviewdecision, reviews_reviewitem, reviews_campaign "
            "RESTART IDENTITY CASCADE"
        )
        cur.execute("CHECKPOINT")


# --- measurements -------------------------------------------------------------------------------


def launch_round(actor: Any) -> tuple[float, float, Any]:
    """(launch seconds, notification seconds, campaign).

    The reviewers' e-mails are a Celery task queued after commit; in production a worker sends
    them while the launch has already returned. Here the task is held back during the launch and
    timed on its own right after.
    """
    import gc

    from reviews import tasks
    from reviews.services.campaigns import campaign_launch
    from reviews.services.reminders import campaign_notify_opened

    truncate_reviews()
    gc.collect()
    queued: list[int] = []
    delay = tasks.campaign_notify_opened.delay
    tasks.campaign_notify_opened.delay = queued.append  # type: ignore[method-assign]
    try:
        started = time.perf_counter()
        campaign = campaign_launch(name="Bench quarterly review", scope={}, actor=actor)
        launch = time.perf_counter() - started
    finally:
        tasks.campaign_notify_opened.delay = delay  # type: ignore[method-assign]
    started = time.perf_counter()
    for campaign_id in queued:
        campaign_notify_opened(campaign_id=campaign_id)
    return launch, time.perf_counter() - started, campaign


def timed_requests(call: Callable[[], Any], count: int) -> list[float]:
    for _ in range(3):
        call()  # warm-up: templates compiled, connection open
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"BENCH FAILED: HTTP {response.status_code}")
    return times


def p95(values: list[float]) -> float:
    return quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.load_before = os.getloadavg()
    configure_environment(args.database_url)
    ensure_database(args.database_url)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    from django.db import connection
    from django.test import Client

    from nhigov.models import User
    from reviews.models import ReviewItem

    # No setup_test_environment(): it instruments every template render for the test client
    # (a context copy per included template), which production does not pay.
    populate(args.identities, args.queue)
    security = User.objects.get(username="bench-security")
    owner = User.objects.get(username="bench-owner")

    launches: list[float] = []
    notifies: list[float] = []
    campaign = None
    for round_ in range(args.repeat):
        seconds, notify, campaign = launch_round(security)
        launches.append(seconds)
        notifies.append(notify)
        print(
            f"launch round {round_ + 1}: {seconds:.2f}s, {campaign.population_count:,} items; "
            f"e-mails to the reviewers {notify:.2f}s"
        )
    assert campaign is not None
    queue_size = ReviewItem.objects.filter(campaign=campaign, reviewer=owner).count()

    client = Client()
    client.force_login(owner)
    pages = {
        "queue, first page": lambda: client.get("/reviews/"),
        "queue, page 30": lambda: client.get("/reviews/?page=30"),
        "queue, search": lambda: client.get("/reviews/?q=bench-1"),
        "queue, all decisions": lambda: client.get("/reviews/?view=all"),
    }
    results = {name: timed_requests(call, args.requests) for name, call in pages.items()}

    items = list(
        ReviewItem.objects.filter(campaign=campaign, reviewer=owner, status="pending")[:40]
    )
    decide_times = []
    for item in items[: args.requests]:
        started = time.perf_counter()
        response = client.post(
            f"/reviews/items/{item.pk}/decide/",
            {"outcome": "deprovision", "version": item.version},
            HTTP_HX_REQUEST="true",
        )
        decide_times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    results["decide in place (htmx)"] = decide_times

    admin = Client()
    admin.force_login(security)
    results["campaign page (security, 100k items)"] = timed_requests(
        lambda: admin.get(f"/reviews/campaigns/{campaign.pk}/"), max(5, args.requests // 8)
    )

    launch_median = median(launches)
    queue_p95 = p95(results["queue, first page"])
    launch_ok = launch_median < LAUNCH_TARGET_SECONDS
    queue_ok = queue_p95 < QUEUE_TARGET_MS
    print()
    print(
        f"launch over {campaign.population_count:,} identities: median {launch_median:.2f}s "
        f"(target < {LAUNCH_TARGET_SECONDS:.0f}s: {'PASS' if launch_ok else 'FAIL'})"
    )
    for name, values in results.items():
        print(f"{name:40} p50 {median(values):7.1f} ms   p95 {p95(values):7.1f} ms")
    print(
        f"owner queue ({queue_size:,} items) p95 {queue_p95:.1f} ms "
        f"(target < {QUEUE_TARGET_MS:.0f} ms: {'PASS' if queue_ok else 'FAIL'})"
    )

    if args.write_docs:
        with connection.cursor() as cur:
            cur.execute("SELECT version()")
            pg = cur.fetchone()[0].split(" on ")[0]
        write_docs(
            docs_section(
                args, campaign, queue_size, launches, notifies, results, pg, launch_ok, queue_ok
            )
        )
    return 0 if launch_ok and queue_ok else 1


def docs_section(  # noqa: PLR0917 - one call site, every figure of the run
    args: argparse.Namespace,
    campaign: Any,
    queue_size: int,
    launches: list[float],
    notifies: list[float],
    results: dict[str, list[float]],
    pg: str,
    launch_ok: bool,
    queue_ok: bool,
) -> str:
    import platform

    import django

    before = ", ".join(f"{x:.1f}" for x in args.load_before)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    rows = "\n".join(
        f"| {name} | {median(values):.1f} | {p95(values):.1f} | {len(values)} |"
        for name, values in results.items()
    )
    rounds = ", ".join(f"{s:.2f}" for s in launches)
    return f"""{SECTION}

Measured {datetime.now(UTC):%Y-%m-%d} by `bench/campaign_bench.py`: {args.identities:,} identities
in {ACCOUNTS} accounts (IAM users with an access key, roles, secrets, instance profiles; two
policies each, last use spread over 200 days, open findings on a third), {PEOPLE} people in
{TEAMS} teams; one owner holds {queue_size:,} items.

Machine: {os.cpu_count()} cores ({cpu_model()}), {pg} (stock settings), Python
{platform.python_version()}, Django {django.get_version()}; load average {before} before the
run and {load} after it (a load above 2 on 2 cores means other work shared the machine).

**Launch** (`campaign_launch` over every identity, one transaction: create, read the scope's ids
and states in one statement, then the identities, their access keys and open findings in chunks
of 5,000, snapshot + SHA-256 per identity, recommendation, routing, `COPY` of the items, campaign
hash, audit events, commit): **median {median(launches):.2f} s** over {len(launches)} rounds
({rounds}) for {campaign.population_count:,} items ({campaign.excluded_count:,} vanished
identities excluded and reconciled); target under {LAUNCH_TARGET_SECONDS:.0f} s:
**{"PASS" if launch_ok else "FAIL"}**. The reviewers' e-mails (one per reviewer, a Celery task
queued after commit, so not part of the launch) took a median {median(notifies):.2f} s.

**Owner queue** (server time through Django's whole request stack in-process, after a warm-up):

| request | p50 ms | p95 ms | requests |
|---|---:|---:|---:|
{rows}

The queue's first page p95 against the {QUEUE_TARGET_MS:.0f} ms target:
**{"PASS" if queue_ok else "FAIL"}**. The queue renders 50 items a page from the item's columns
and its snapshot (no join to the inventory), one query for the page, one for the count, a few for
the progress; the count of queries does not grow with the queue (tests/reviews/test_pages.py).
The security team's campaign page aggregates over every item of the campaign (information, no
target).

Reproduce: `.venv/bin/python bench/campaign_bench.py --repeat 3 --write-docs` (scratch database
`nhigov_bench_reviews` on 127.0.0.1:5432, created if missing).
"""


def write_docs(section: str) -> None:
    """Replace (or append) the section in docs/benchmarks.md, keeping every other section."""
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == SECTION), None)
    if start is None:
        body = text.rstrip("\n") + "\n\n" + section
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        rest = "".join(lines[end:])
        body = "".join(lines[:start]) + section + ("\n" + rest if rest else "")
    DOCS.write_text(body.rstrip("\n") + "\n")
    print(f"wrote '{SECTION}' in {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
