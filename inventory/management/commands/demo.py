"""``manage.py demo``: the whole product on one machine, against a local AWS emulator.

Migrates, starts the emulator (moto, in its own process) seeded with a realistic organization,
runs the real discovery over HTTP against it, creates the persona logins, then serves the
dashboard. Run again, it reuses the database and serves at once while the emulator re-seeds in
the background (for "run now").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from typing import IO, Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from inventory.demo.people import DEMO_PASSWORD, PEOPLE


class Command(BaseCommand):
    help = "Run the demo: local AWS emulator, seeded organization, discovery, dashboard."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--addr", default="127.0.0.1:8000", help="Where to serve the dashboard."
        )
        parser.add_argument(
            "--emulator-port",
            type=int,
            default=int(os.environ.get("NHIGOV_DEMO_EMULATOR_PORT", "4599")),
        )
        parser.add_argument(
            "--rediscover", action="store_true", help="Run discovery even if the database has one."
        )
        parser.add_argument(
            "--no-serve", action="store_true", help="Prepare everything, then exit."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from inventory.demo.emulator import emulator_environment
        from inventory.demo.setup import ensure_leak_report, ensure_people, ensure_source
        from inventory.models import DiscoveryRun

        started = time.monotonic()
        self.stdout.write("Migrating the embedded database...")
        call_command("migrate", interactive=False, verbosity=0)
        ensure_people()
        source = ensure_source()
        # Ages count from today's midnight, so re-seeding the same day changes nothing.
        now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        port = options["emulator_port"]
        self.stdout.write(f"Starting the local AWS emulator on 127.0.0.1:{port}...")
        emulator = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [
                sys.executable,
                "-m",
                "inventory.demo.emulator",
                "--port",
                str(port),
                "--seed",
                "--now",
                now.isoformat(),
            ],
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            text=True,
        )
        endpoint = f"http://127.0.0.1:{port}"
        os.environ.update(emulator_environment(endpoint))
        try:
            last = (
                DiscoveryRun.objects.filter(source=source, parent=None, status="succeeded")
                .order_by("-finished_at")
                .first()
            )
            if last is None or options["rediscover"] or options["no_serve"]:
                summary = self._wait_ready(emulator)
                accounts = len(summary.get("accounts", {}))
                self.stdout.write(
                    f"Seeded {summary.get('total_identities')} identities in {accounts} accounts "
                    f"({summary.get('seconds', 0):.1f}s)."
                )
                self._discover(source)
                if ensure_leak_report() is not None:
                    self.stdout.write("Imported a sample gitleaks report (see Findings, LEAK-001).")
                from reviews.demo import ensure_demo_campaign, ensure_demo_closed_campaign

                # Last quarter's closed campaign first: its deprovisions are removed from the
                # emulator and a second discovery proves it (before today's campaign launches).
                if ensure_demo_closed_campaign(rediscover=lambda: self._discover(source)):
                    self.stdout.write("Closed last quarter's sandbox review (evidence bundle).")
                ensure_demo_campaign()
                from nhigov.audit import audit_verify

                # As the daily task would have: the auditor's pages show a verified trail.
                self.stdout.write(f"Audit trail: {audit_verify().message}")
            else:
                self.stdout.write(
                    f"Using the inventory discovered {last.finished_at:%Y-%m-%d %H:%M} UTC "
                    "(`make demo` with NHIGOV_DEMO_REDISCOVER=1, or Run now, discovers again). "
                    "The emulator is seeding in the background."
                )
                threading.Thread(target=self._report_ready, args=(emulator,), daemon=True).start()
            self._banner(options["addr"], endpoint, time.monotonic() - started)
            if not options["no_serve"]:
                call_command("runserver", options["addr"], use_reloader=False, skip_checks=True)
        finally:
            emulator.terminate()
            try:
                emulator.wait(timeout=10)
            except subprocess.TimeoutExpired:
                emulator.kill()

    def _wait_ready(self, emulator: subprocess.Popen[str]) -> dict[str, Any]:
        stream: IO[str] | None = emulator.stdout
        assert stream is not None
        for line in stream:
            if line.startswith("READY "):
                return dict(json.loads(line[len("READY ") :]))
        raise CommandError(
            f"The AWS emulator stopped (exit code {emulator.wait()}). Is the port already in use? "
            "Set NHIGOV_DEMO_EMULATOR_PORT to another port."
        )

    def _report_ready(self, emulator: subprocess.Popen[str]) -> None:
        try:
            self._wait_ready(emulator)
        except CommandError as exc:
            self.stderr.write(str(exc))
            return
        self.stdout.write("The AWS emulator is seeded: Run now discovers against it.")

    def _discover(self, source: Any) -> None:
        from inventory.services.discovery import (
            discovery_execute,
            discovery_start,
            run_tree_summary,
        )

        run = discovery_start(source=source, trigger="cli")
        finished = discovery_execute(run.pk, inline=True) or run
        finished.refresh_from_db()
        result = run_tree_summary(finished)
        self.stdout.write(
            f"Discovery {result['status']}: {result['identities_seen']} identities seen, "
            f"{result['new']} new, {result['updated']} updated, {result['unchanged']} unchanged, "
            f"{result['vanished']} vanished, {result['api_calls']} API calls "
            f"({result['duration_seconds'] or 0:.1f}s)."
        )
        for account in result["accounts"]:
            for error in account["errors"]:
                self.stdout.write(self.style.WARNING(f"  {account['account_id']}: {error}"))

    def _banner(self, addr: str, endpoint: str, seconds: float) -> None:
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(f"nhigov is ready at http://{addr}/  ({seconds:.0f}s)")
        )
        self.stdout.write(f"Sign in as (password for all: {DEMO_PASSWORD}):")
        for person in PEOPLE:
            if person.login:
                self.stdout.write(f"  {person.username:10} {person.role.replace('_', ' ')}")
        self.stdout.write(f"Local AWS emulator: {endpoint}")
