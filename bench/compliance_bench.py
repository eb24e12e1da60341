#!/usr/bin/env python
"""The compliance page at a million identities: its facts counted afresh, and the page with the
counts kept.

    .venv/bin/python bench/compliance_bench.py [--identities 1000000] [--requests 10]
        [--database-url postgres://postgres@127.0.0.1:5432/nhigov_bench_compliance]

Scratch PostgreSQL database (created if missing and migrated; its inventory tables are
TRUNCATEd when the data is generated: never point it at a database you care about). Identities
and access keys come from ``pages_bench.generate`` (SQL ``generate_series``); findings are added
in SQL: AK-001 on every 2nd identity, AK-002 every 3rd, ROLE-001 every 5th, PRIV-001 every 7th,
OWN-001 (suppressed, half of them past their end date) every 11th — about 1.27M at 1M.

Prints the median time of :func:`nhigov.compliance.gather_facts` counting afresh (the two passes
over identities and findings, and the rest), its query count and slowest statements, then the
median time of ``GET /compliance/`` as an auditor with the counts kept (through Django's whole
request stack in-process).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import pages_bench  # bench/ is on the path from here

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/nhigov_bench_compliance"
FINDINGS = (
    ("AK-001", "high", 2, "open"),
    ("AK-002", "medium", 3, "open"),
    ("ROLE-001", "medium", 5, "open"),
    ("PRIV-001", "critical", 7, "open"),
    ("OWN-001", "medium", 11, "suppressed"),
)
FINDING_SQL = """
INSERT INTO inventory_finding (identity_id, rule_id, key, severity, status, message, evidence,
    first_seen_at, last_seen_at, suppressed_reason, suppressed_until, digest)
SELECT id, %s, '', %s, %s, 'bench', '{}'::jsonb, now(), now(), '',
    CASE WHEN id %% 2 = 0 THEN now() - interval '1 day' ELSE NULL END, ''
FROM inventory_identity WHERE id %% %s = 0
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--identities", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    args = parser.parse_args()

    pages_bench.ensure_database(args.database_url)
    pages_bench.setup_django(args.database_url)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from inventory.models import Account, Finding, Identity, RiskPass
    from nhigov.compliance import gather_facts

    if Identity.objects.count() != args.identities:
        print(f"Generating {args.identities:,} identities in SQL...", flush=True)
        print(pages_bench.generate(args.identities), flush=True)
    if not Finding.objects.exists():
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for rule, severity, every, status in FINDINGS:
                cursor.execute(FINDING_SQL, [rule, severity, status, every])
            cursor.execute("VACUUM (ANALYZE) inventory_finding")
        print(f"{Finding.objects.count():,} findings in {time.perf_counter() - started:.0f} s")
    now = timezone.now()
    Account.objects.update(last_complete_at=now)
    if not RiskPass.objects.exists():
        RiskPass.objects.create(
            full=True, started_at=now, finished_at=now, identities=args.identities
        )

    times = []
    for _ in range(5):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            gather_facts(fresh=True)
        times.append(time.perf_counter() - started)
    print(
        f"facts counted afresh: median {median(times) * 1000:.0f} ms, "
        f"{len(queries.captured_queries)} queries"
    )
    for q in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:3]:
        print(f"  {float(q['time']) * 1000:7.0f} ms  {q['sql'][:110]}")

    auditor, _ = get_user_model().objects.get_or_create(
        username="bench-auditor", defaults={"role": "auditor", "email": "a@x.example"}
    )
    client = Client()
    client.force_login(auditor)
    client.get("/compliance/")  # counts them, then they are kept
    times = []
    for _ in range(args.requests):
        started = time.perf_counter()
        response = client.get("/compliance/")
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    print(
        f"page with the counts kept: median {median(times) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
