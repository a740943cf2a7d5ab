"""Remove pupils' records past their LA's retention date now, or count them (--dry-run)."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from pupils.retention import apply_retention


class Command(BaseCommand):
    help = (
        "Remove pupils who have left and are past their LA's retention date (date of birth plus "
        "the LA's years), with everything recorded about them, unless on legal hold. Prints counts."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; remove nothing.")
        parser.add_argument(
            "--date", dest="day", default="", help="Run as of this day (YYYY-MM-DD); default today."
        )

    def handle(self, *args, dry_run: bool, day: str, **options) -> None:
        try:
            today = _parse(day)
        except ValueError:
            raise CommandError("Give --date as YYYY-MM-DD.") from None
        result = apply_retention(today, dry_run=dry_run)
        verb = "would be removed" if dry_run else "removed"
        for la in result.authorities:
            self.stdout.write(
                f"{la.name}: kept {la.years} years after birth (born before {la.cutoff:%d/%m/%Y}): "
                f"{la.removed} {verb}, {la.held} kept on legal hold, {la.on_roll} still on roll"
                + (f", {la.failed} failed" if la.failed else "")
                + ("" if dry_run else f", {la.files} stored files deleted")
            )
        totals = result.totals()
        self.stdout.write(
            f"Total on {result.today:%d/%m/%Y}: {totals['removed']} {verb}, {totals['held']} on legal hold, "
            f"{totals['on_roll']} on roll" + (f", {totals['failed']} failed" if totals["failed"] else "")
        )
        if totals["failed"]:
            raise CommandError(
                "Some pupils could not be removed; see the log. The next run tries them again."
            )


def _parse(value: str) -> date | None:
    return date.fromisoformat(value) if value else None
