"""`manage.py generate_scale_data --schools N --pupils-per-school M --seed S`: one new local
authority at benchmark scale (provisionmap/scale_data), with printed credentials, counts per
table and the time taken. A seed already used in this database is refused, changing nothing."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from provisionmap.scale_data import Options, generate


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--today takes a date as YYYY-MM-DD, not {value!r}.") from None


class Command(BaseCommand):
    help = (
        "Create a new local authority at scale for benchmarks: schools in partnerships, pupils, "
        "and several school years of graduated response, interventions and placements."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--schools", type=int, default=120, help="Schools in the LA (1 to 999).")
        parser.add_argument(
            "--pupils-per-school", type=int, default=500, help="Pupils on each school's roll."
        )
        parser.add_argument("--seed", type=int, default=1, help="Chooses the LA, its users and all its data.")
        parser.add_argument(
            "--partnerships", type=int, default=6, help="Partnerships the schools are shared among."
        )
        parser.add_argument(
            "--years", type=int, default=3, help="School years of history, this one included."
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=2,
            help="Schools written at once, each on its own database connection (2 suits two cores; "
            "1 writes everything on this command's own connection).",
        )
        parser.add_argument(
            "--today",
            type=_day,
            default=None,
            help="Date the history runs up to (YYYY-MM-DD, not after today): the same seed and date "
            "give the same data.",
        )

    def handle(self, *args, **options) -> None:
        real_today = timezone.localdate()
        today = options["today"] or real_today
        schools, pupils = options["schools"], options["pupils_per_school"]
        partnerships, years = options["partnerships"], options["years"]
        if not 1 <= schools <= 999:
            raise CommandError("--schools must be from 1 to 999 (URNs give each school three digits).")
        if not 1 <= partnerships <= schools:
            raise CommandError("--partnerships must be at least 1 and no more than --schools.")
        if not 10 <= pupils <= 5000:
            raise CommandError("--pupils-per-school must be from 10 to 5000.")
        if not 1 <= years <= 5:
            raise CommandError("--years must be from 1 to 5.")
        if not 1 <= options["jobs"] <= 8:
            raise CommandError("--jobs must be from 1 to 8.")
        if today > real_today:
            raise CommandError("--today cannot be in the future: records are never dated ahead.")
        run = Options(
            seed=options["seed"],
            schools=schools,
            pupils_per_school=pupils,
            partnerships=partnerships,
            years=years,
            today=today,
            jobs=options["jobs"],
        )
        self.stdout.write(f"Writing {schools} schools of {pupils} pupils in {partnerships} partnerships…")
        result = generate(run, say=self.stdout.write)
        world = result.world
        self.stdout.write(self.style.SUCCESS(f"Scale LA ready: {world.la} — {len(world.schools)} schools."))
        self.stdout.write("Rows written:")
        for model, count in result.counts.items():
            self.stdout.write(f"  {model._meta.db_table:<42} {count:>10,}")
        self.stdout.write(f"  {'total':<42} {sum(result.counts.values()):>10,}")
        self.stdout.write(f"Time taken: {result.seconds:.1f} s")
        self.stdout.write("Sign in at /accounts/login/ with:")
        for row in world.credentials:
            line = f"  {row['role']:<17} {row['scope_name']:<34} {row['username']:<26} {row['password']}"
            if row["totp_secret"]:
                line += f"  TOTP secret {row['totp_secret']}"
            self.stdout.write(line)
