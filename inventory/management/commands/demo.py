"""``manage.py demo``: the whole product on one machine, against a local AWS emulator.

Migrates, starts the emulator (moto, in this process) seeded with a realistic organization, runs
the real discovery over HTTP against it, creates the persona logins, then serves the dashboard.
"""

from __future__ import annotations

import os
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

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
            "--no-serve", action="store_true", help="Prepare everything, then exit."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from inventory.demo.emulator import emulator_environment, start_emulator
        from inventory.demo.organization import seed_organization
        from inventory.demo.setup import ensure_people, ensure_source
        from inventory.models import DiscoveryRun
        from inventory.services.discovery import (
            discovery_execute,
            discovery_start,
            run_tree_summary,
        )

        started = time.monotonic()
        self.stdout.write("Migrating the embedded database...")
        call_command("migrate", interactive=False, verbosity=0)
        ensure_people()
        self.stdout.write(f"Starting the local AWS emulator on port {options['emulator_port']}...")
        server, endpoint = start_emulator(options["emulator_port"])
        os.environ.update(emulator_environment(endpoint))
        summary = seed_organization(endpoint)
        self.stdout.write(
            f"Seeded {summary.total_identities} identities in {len(summary.accounts)} accounts "
            f"({summary.seconds:.1f}s)."
        )
        source = ensure_source()
        run = discovery_start(source=source, trigger="cli")
        finished: DiscoveryRun = discovery_execute(run.pk, inline=True) or run
        finished.refresh_from_db()
        result = run_tree_summary(finished)
        self.stdout.write(
            f"Discovery {result['status']}: {result['identities_seen']} identities seen, "
            f"{result['new']} new, {result['updated']} updated, {result['unchanged']} unchanged, "
            f"{result['vanished']} vanished, {result['api_calls']} API calls."
        )
        for account in result["accounts"]:
            for error in account["errors"]:
                self.stdout.write(self.style.WARNING(f"  {account['account_id']}: {error}"))
        url = f"http://{options['addr']}/"
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(f"nhigov is ready at {url}  ({time.monotonic() - started:.0f}s)")
        )
        self.stdout.write(f"Sign in as (password for all: {DEMO_PASSWORD}):")
        for person in PEOPLE:
            if person.login:
                self.stdout.write(f"  {person.username:10} {person.role.replace('_', ' ')}")
        self.stdout.write(f"Local AWS emulator: {endpoint}")
        if options["no_serve"]:
            server.stop()
            return
        try:
            call_command("runserver", options["addr"], use_reloader=False, skip_checks=True)
        finally:
            server.stop()
