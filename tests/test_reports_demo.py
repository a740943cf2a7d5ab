"""Every kind of report builds from the demo data, through the operators' command, and its
headline figures agree with the database counted here by other means."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from graduated_response.models import SupportPlan
from interventions.models import ProvisionPlacement
from pupils.models import Pupil
from reports.models import ReportRequest
from schools.models import BehaviourProvision, LocalAuthority, Partnership, School
from schools.tenancy import TenantScope, tenant_scope


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", "--json", stdout=io.StringIO())
    provision = BehaviourProvision.objects.select_related("partnership").first()
    la = LocalAuthority.objects.get(pk=provision.partnership.local_authority_id)
    school = provision.host_school
    every = TenantScope.system(
        schools=School.objects.values_list("pk", flat=True),
        local_authorities=[la.pk],
        provisions=[provision.pk],
    )
    with transaction.atomic(), tenant_scope(every):
        placed = ProvisionPlacement.objects.filter(provision=provision).values_list("pupil_id", flat=True)
        pupil = (
            Pupil.objects.filter(school=school, pk__in=list(placed)).first()
            or Pupil.objects.filter(school=school).first()
        )
    return {
        "la": la,
        "partnership": provision.partnership,
        "provision": provision,
        "school": school,
        "pupil": pupil,
    }


def _build(kind: str, scope_type: str, scope_id: int, period: str = "") -> ReportRequest:
    out = io.StringIO()
    args = ["--kind", kind, "--scope-type", scope_type, "--scope-id", str(scope_id)]
    call_command("build_report", *args, *(["--period", period] if period else []), stdout=out)
    assert "done" in out.getvalue()
    every = TenantScope.system(
        schools=School.objects.values_list("pk", flat=True),
        partnerships=Partnership.objects.values_list("pk", flat=True),
        provisions=BehaviourProvision.objects.values_list("pk", flat=True),
        la_figures=LocalAuthority.objects.values_list("pk", flat=True),
    )
    with transaction.atomic(), tenant_scope(every):
        row = ReportRequest.objects.filter(kind=kind).latest("pk")
        assert row.status == ReportRequest.Status.DONE and row.pages >= 1
        assert row.pdf.open("rb").read(5) == b"%PDF-"
        row.figures = json.loads(row.snapshot.open("rb").read())
    return row


def test_every_kind_builds_from_the_demo_data(demo):
    built = [
        _build("school_termly", "school", demo["school"].pk),
        _build("pupil_provision_map", "pupil", demo["pupil"].pk),
        _build("pupil_profile", "pupil", demo["pupil"].pk),
        _build("transition_record", "pupil", demo["pupil"].pk),
        _build("provision_termly", "provision", demo["provision"].pk),
        _build("partnership_annual", "partnership", demo["partnership"].pk),
        _build("financial_quarterly", "partnership", demo["partnership"].pk),
        _build("la_overview", "local_authority", demo["la"].pk),
    ]
    assert len({row.kind for row in built}) == 8
    # The school report's headline figures, counted here straight from the rows.
    termly = built[0].figures
    today = timezone.localdate()
    with transaction.atomic(), tenant_scope(TenantScope.for_school(demo["school"].pk)):
        open_plans = SupportPlan.objects.filter(
            school=demo["school"], status="open", pupil__is_active=True, pupil__school=demo["school"]
        )
        assert termly["reviews"]["open_plans"] == open_plans.count()
        assert termly["reviews"]["overdue"] == open_plans.filter(review_due__lt=today).count()
        on_register = Pupil.objects.filter(school=demo["school"], is_active=True).exclude(sen_status="N")
        assert sum(row["pupils"] for row in termly["pupils"]["by_area"]) == on_register.count()
    # The pupil reports are about that pupil, and name no other child of the school.
    with transaction.atomic(), tenant_scope(TenantScope.for_school(demo["school"].pk)):
        others = list(Pupil.objects.exclude(pk=demo["pupil"].pk).values_list("first_name", "last_name")[:200])
    for row in built[1:4]:
        text = json.dumps(row.figures)
        assert demo["pupil"].last_name in text
        assert not [(first, last) for first, last in others if f"{first} {last}" in text]
    # Nothing about a child is identifiable in the reports read outside the school.
    with transaction.atomic(), tenant_scope(TenantScope.for_school(demo["school"].pk)):
        names = list(Pupil.objects.values_list("last_name", flat=True)[:200])
    for row in built[4:]:
        text = json.dumps(row.figures)
        assert not [name for name in names if f'"{name}"' in text]
