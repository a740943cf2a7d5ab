"""`manage.py import_pupils --school URN PATH [--commit]`: preview, or save, a MIS export.

Exit status 0 when the file is valid (and, with --commit, saved); non-zero with every row's
problems otherwise, having saved nothing.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from pupils.import_files import max_upload_bytes, too_big_message
from pupils.imports import (
    ImportPreview,
    ImportRejected,
    commit_import,
    preview_file,
)
from schools.models import School, User
from schools.tenancy import TenantScope, tenant_scope


class Command(BaseCommand):
    help = "Preview a CSV or XLSX export of pupils for one school; --commit saves it, all or nothing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--school", required=True, metavar="URN", help="The school's six-digit URN.")
        parser.add_argument("path", help="The CSV or XLSX file exported from the MIS.")
        parser.add_argument("--commit", action="store_true", help="Save the pupils (default: preview only).")
        parser.add_argument(
            "--by",
            metavar="USERNAME",
            help="The member of staff the import is made for; the audit log names them.",
        )

    def handle(self, *args, **options) -> None:
        # School is not a tenant table: it is looked up before any scope exists.
        school = School.objects.filter(urn=options["school"].strip()).first()
        if school is None:
            raise CommandError(f"No school has URN {options['school']!r}.")
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        with path.open("rb") as handle:
            data = handle.read(max_upload_bytes() + 1)  # never more than the cap, whatever its size
        if len(data) > max_upload_bytes():
            raise CommandError(too_big_message())

        operator = None
        if options.get("by"):
            operator = User.objects.filter(username=options["by"], is_active=True).first()
            if operator is None:
                raise CommandError(f"No active user is called {options['by']!r}.")
        # The audit log records who an import was for; from a shell that is --by, if given.
        caller = (
            SimpleNamespace(user=operator, membership=None, path="manage.py import_pupils")
            if operator
            else None
        )
        scope = TenantScope.for_school(school.pk, la_id=school.local_authority_id)
        with transaction.atomic(), tenant_scope(scope):
            preview = preview_file(school=school, data=data, filename=path.name)
            self._report(preview, verbose=options["verbosity"] >= 2)
            if not preview.is_valid:
                raise CommandError(
                    f"{len(preview.problems)} problem(s) in {path.name}; nothing was saved.", returncode=2
                )
            if not options["commit"]:
                self.stdout.write(self.style.SUCCESS("The file is valid. Nothing was saved: add --commit."))
                return
            try:
                summary = commit_import(request=caller, school=school, preview=preview, source="import")
            except ImportRejected as exc:
                for message in exc.messages:
                    self.stderr.write(message)
                raise CommandError("Nothing was saved.", returncode=2) from None
        self.stdout.write(self.style.SUCCESS(f"Saved for {school.name}: {summary}"))
        for upn, fields in summary.changes.items():
            self.stdout.write(f"  {upn}: {', '.join(fields)}")

    def _report(self, preview: ImportPreview, *, verbose: bool) -> None:
        for message in preview.problems:
            self.stderr.write(message)
        for row in preview.rows:
            for warning in row.warnings:
                self.stdout.write(f"Warning – {warning}")
            if verbose and not row.problems:
                changes = f" ({', '.join(row.changed)})" if row.action == "update" else ""
                self.stdout.write(f"Row {row.number}: {row.upn} {row.action}{changes}")
        counts = preview.counts
        self.stdout.write(
            f"{len(preview.rows)} row(s): {counts['create']} to add, {counts['update']} to update, "
            f"{counts['unchanged']} unchanged, {counts['error']} with problems."
        )
