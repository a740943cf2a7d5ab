"""Build one report now, in this process (for operators and benchmarks)."""

from __future__ import annotations

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from reports.models import KIND_SCOPE, ReportKind, ReportRequest, ScopeType
from reports.services import report_scope, request_report
from reports.tasks import run_build
from schools.tenancy import TenantScope, app_role, tenant_scope


class Command(BaseCommand):
    help = "Build one report synchronously and print where it stands and how long it took."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--kind", required=True, choices=ReportKind.values)
        parser.add_argument("--scope-type", required=True, choices=ScopeType.values)
        parser.add_argument("--scope-id", required=True, type=int)
        parser.add_argument(
            "--period", default="", help="2025-26, 2025-26-autumn or 2025-26-q1; empty: latest."
        )

    def handle(self, *args, kind: str, scope_type: str, scope_id: int, period: str, **options) -> None:
        if KIND_SCOPE[ReportKind(kind)] != scope_type:
            raise CommandError(f"A {kind} report is about a {KIND_SCOPE[ReportKind(kind)]}.")
        with transaction.atomic(), app_role():
            scope = report_scope(_probe(scope_type, scope_id))
        try:
            with transaction.atomic(), tenant_scope(scope):
                row = request_report(
                    None, kind=kind, scope_type=scope_type, scope_id=scope_id, period=period, queue=False
                )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        started = time.monotonic()
        outcome = run_build(row.pk, scope)
        seconds = time.monotonic() - started
        with transaction.atomic(), tenant_scope(scope):
            row = ReportRequest.objects.get(pk=row.pk)
        self.stdout.write(
            f"report {row.pk} ({row.kind} {row.period or 'as it stands'} v{row.version}): {outcome}, "
            f"{row.pages or 0} pages, built in {seconds:.2f} s" + (f" — {row.error}" if row.error else "")
        )
        if row.status != ReportRequest.Status.DONE:
            raise CommandError("The report was not built.")


def _probe(scope_type: str, scope_id: int) -> ReportRequest:
    """An unsaved request naming the target, enough for `report_scope` to scope the build."""
    from pupils.models import Pupil
    from schools.models import BehaviourProvision, LocalAuthority, Partnership, School

    try:
        if scope_type == ScopeType.SCHOOL:
            school = School.objects.get(pk=scope_id)
            return ReportRequest(school=school, local_authority_id=school.local_authority_id)
        if scope_type == ScopeType.PUPIL:
            # Which school holds the pupil: looked up under a scope naming every school, for
            # this one id (operator work), then the build is scoped to that school alone.
            every = TenantScope.system(schools=School.objects.values_list("pk", flat=True))
            with tenant_scope(every):
                school = Pupil.objects.select_related("school").get(pk=scope_id).school
            return ReportRequest(school=school, local_authority_id=school.local_authority_id)
        if scope_type == ScopeType.PROVISION:
            provision = BehaviourProvision.objects.select_related("partnership").get(pk=scope_id)
            return ReportRequest(
                provision=provision,
                partnership=provision.partnership,
                local_authority_id=provision.partnership.local_authority_id,
            )
        if scope_type == ScopeType.PARTNERSHIP:
            partnership = Partnership.objects.get(pk=scope_id)
            return ReportRequest(partnership=partnership, local_authority_id=partnership.local_authority_id)
        la = LocalAuthority.objects.get(pk=scope_id)
        return ReportRequest(for_local_authority=la, local_authority_id=la.pk)
    except (
        School.DoesNotExist,
        Pupil.DoesNotExist,
        BehaviourProvision.DoesNotExist,
        Partnership.DoesNotExist,
        LocalAuthority.DoesNotExist,
    ):
        raise CommandError(f"No {scope_type} has id {scope_id}.") from None
