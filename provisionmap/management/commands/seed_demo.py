"""`manage.py seed_demo`: a realistic demo LA, idempotent, with printed credentials."""

from __future__ import annotations

import io
import json

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from graduated_response.demo import seed_observations_for, seed_placements, seed_plans
from interventions.demo import seed_interventions
from interventions.demo_placements import seed_provision_placements
from pupils.demo import seed_pupils
from pupils.demo_transfers import seed_transfers
from schools.demo import seed_organisations, seed_term_dates, seed_users
from schools.demo_budgets import seed_budgets
from schools.demo_kpis import seed_kpi_targets
from schools.demo_partnership import seed_partnership_records


class Command(BaseCommand):
    help = "Create or refresh the demo local authority and print each demo user's sign-in details."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the credentials as a JSON list.")

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            world = seed_organisations()
            rows = seed_users(world)
            seed_term_dates(world.la)
        seed_partnership_records(world)
        seed_budgets(world)
        seed_kpi_targets(world)
        seed_pupils(world.schools)
        # The LA's graduated-response frameworks; skips those it already has. Its report
        # is kept out of stdout, which --json keeps for the credentials alone.
        call_command("load_frameworks", la=world.la.code, stdout=io.StringIO())
        seed_placements(world.la, world.schools)
        seed_plans(world.la, world.schools)
        seed_observations_for(world.la, world.schools)
        seed_interventions(world.la, world.schools)
        seed_provision_placements(world.provision)
        # Last: a transfer takes the pupil's whole history with them.
        seed_transfers(world.la)
        # Fresh planner statistics: tables analysed while nearly empty would have the first
        # pages after a bulk load plan as if they still were (nested loops over thousands).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        self.stdout.write(self.style.SUCCESS(f"Demo LA ready: {world.la} — {len(world.schools)} schools."))
        self.stdout.write("Sign in at /accounts/login/ with:")
        for row in rows:
            line = f"  {row['role']:<17} {row['scope_name']:<32} {row['username']:<17} {row['password']}"
            if row["totp_secret"]:
                line += f"  TOTP secret {row['totp_secret']}"
            self.stdout.write(line)
