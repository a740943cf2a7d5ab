"""`manage.py generate_scale_data`: a small LA of the scale data's shape. Its counts and rules
hold, the same seed and date give the same data, a second run with the seed is refused and
changes nothing, every scale user's home page opens, and other tenants stay walled off."""

from __future__ import annotations

import io
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from graduated_response.models import (
    BehaviourObservation,
    PlanReview,
    StepPlacement,
    StrategyTried,
    SupportPlan,
)
from interventions.models import Attendance, InterventionGroup, Provision, ProvisionPlacement, Session
from provisionmap.scale_data.interventions import catalogue_names
from provisionmap.scale_data.organisation import la_code_for
from pupils.codes import SenStatus
from pupils.models import Pupil, SenStatusChange
from schools.models import (
    BehaviourProvision,
    Budget,
    KpiTarget,
    LocalAuthority,
    Membership,
    PupilGrant,
    School,
    SpendItem,
    TermDates,
    User,
)
from schools.tenancy import TenantScope, tenant_scope
from tests.conftest import sign_in

SEED = 3
TODAY = timezone.localdate()
RUN = [
    "--schools", "4", "--pupils-per-school", "60", "--seed", str(SEED), "--partnerships", "2",
    "--today", TODAY.isoformat(),
]  # fmt: skip


def generate(jobs: int = 1) -> str:
    """A run on the test's own connection (one job), or with worker threads (their own
    connections: only a transactional test sees what they write)."""
    out = io.StringIO()
    call_command("generate_scale_data", *RUN, "--jobs", str(jobs), stdout=out)
    return out.getvalue()


def scale_la() -> LocalAuthority:
    return LocalAuthority.objects.get(code=la_code_for(SEED))


def everything(la: LocalAuthority) -> TenantScope:
    """A scope over the whole scale LA: its schools, partnerships and provisions."""
    return TenantScope.system(
        schools=School.objects.filter(local_authority=la).values_list("pk", flat=True),
        partnerships=la.partnerships.values_list("pk", flat=True),
        local_authorities=[la.pk],
        provisions=BehaviourProvision.objects.filter(partnership__local_authority=la).values_list(
            "pk", flat=True
        ),
    )


def test_a_small_run_has_the_shape_and_keeps_the_rules(db):
    out = generate()
    la = scale_la()
    assert la.code != "909"  # never the demo LA
    assert "Time taken" in out and "interventions_attendance" in out
    schools = list(School.objects.filter(local_authority=la))
    assert len(schools) == 4 and la.partnerships.count() == 2
    assert len({s.phase for s in schools}) >= 2 and all(s.key_stages for s in schools)
    for provision in BehaviourProvision.objects.filter(partnership__local_authority=la):
        assert provision.host_school.partnership_id == provision.partnership_id
    assert TermDates.objects.filter(local_authority=la).count() == 4 * 3  # three years and the next

    with transaction.atomic(), tenant_scope(everything(la)):
        pupils = list(Pupil.objects.all())
        assert len(pupils) == 4 * 60
        on_register = {p.pk for p in pupils if p.sen_status != SenStatus.NONE}
        assert 0.10 <= len(on_register) / len(pupils) <= 0.30

        # One current step for each pupil on the register, and none for anyone else.
        active = list(
            StepPlacement.objects.filter(status=StepPlacement.Status.ACTIVE).values_list(
                "pupil_id", flat=True
            )
        )
        assert sorted(active) == sorted(on_register)
        assert StepPlacement.objects.filter(kind=StepPlacement.Kind.DOWN).exists()
        # Every move up (not one awaiting approval) met its step's rule before the day it happened.
        reviewed = defaultdict(set)
        for pupil_id, step_id, strategy_id, day in StrategyTried.objects.filter(
            reviewed_on__isnull=False
        ).values_list("pupil_id", "step_id", "strategy_id", "reviewed_on"):
            reviewed[pupil_id, step_id].add((strategy_id, day))
        moves = StepPlacement.objects.filter(kind=StepPlacement.Kind.UP).exclude(status="pending_approval")
        for move in moves.select_related("from_step"):
            counted = {s for s, day in reviewed[move.pupil_id, move.from_step_id] if day <= move.placed_on}
            assert len(counted) >= (move.from_step.min_strategies_to_escalate or 0)

        # The register's latest entry is the pupil's status now.
        latest = {}
        for pupil_id, status in SenStatusChange.objects.order_by("start_date", "id").values_list(
            "pupil_id", "status"
        ):
            latest[pupil_id] = status
        assert set(on_register) <= set(latest)
        assert all(latest[p.pk] == p.sen_status for p in pupils if p.pk in latest)

        plans = SupportPlan.objects.all()
        assert plans.filter(SupportPlan.overdue_q(TODAY)).exists()
        assert plans.filter(status=SupportPlan.Status.CLOSED).exists()
        assert PlanReview.objects.exists() and not plans.filter(targets__isnull=True).exists()
        assert BehaviourObservation.objects.exists()

        assert Provision.objects.count() == sum(len(catalogue_names(s.phase)) for s in schools)
        assert InterventionGroup.objects.values("academic_year", "term").distinct().count() >= 3
        assert Session.objects.filter(held_on__lt=TODAY).count() == Session.objects.count() > 0
        assert Attendance.objects.filter(present=True).exists()

        placements = list(ProvisionPlacement.objects.all())
        started = [p for p in placements if p.starts_on is not None]
        assert {p.status for p in placements} >= {"ended", "active", "referred"}
        grants = {g.source_id: g for g in PupilGrant.objects.filter(reason=PupilGrant.Reason.PLACEMENT)}
        assert set(grants) == {p.pk for p in started}
        for placement in started:
            grant = grants[placement.pk]
            assert (grant.pupil_id, grant.provision_id) == (placement.pupil_id, placement.provision_id)
            if placement.status == "active":
                assert grant.ends_on is None and grant.starts_on <= TODAY
            else:
                assert grant.ends_on is not None and grant.ends_on <= placement.ends_on

        assert Budget.objects.count() == 2 * 3 and SpendItem.objects.exists()
        large = SpendItem.objects.filter(amount__gt=30000, status="paid")
        assert large.exists() and all(
            i.host_school_approved_by_id != i.partnership_approved_by_id for i in large
        )
        assert KpiTarget.objects.count() == 2 * 3 * 6


def fingerprint() -> dict:
    """What the data says, without ids or time stamps."""
    with transaction.atomic(), tenant_scope(everything(scale_la())):
        return {
            "pupils": sorted(
                Pupil.objects.values_list("upn", "nc_year", "sen_status", "first_name", "date_of_birth")
            ),
            "steps": sorted(
                StepPlacement.objects.values_list("pupil__upn", "step__number", "kind", "status", "placed_on")
            ),
            "plans": sorted(
                SupportPlan.objects.values_list("pupil__upn", "starts_on", "review_due", "status")
            ),
            "reviews": PlanReview.objects.count(),
            "observations": sorted(BehaviourObservation.objects.values_list("pupil__upn", "observed_at")),
            "attendance": (Attendance.objects.count(), Attendance.objects.filter(present=True).count()),
            "placements": sorted(
                ProvisionPlacement.objects.values_list("pupil__upn", "status", "referred_on")
            ),
            "spend": sorted(SpendItem.objects.values_list("spent_on", "amount", "status")),
        }


@pytest.mark.django_db(transaction=True)
def test_the_same_seed_and_date_give_the_same_data_with_one_worker_or_two():
    first_out = generate(jobs=1)
    first = fingerprint()
    call_command("flush", interactive=False)  # back to an empty database
    assert not LocalAuthority.objects.filter(code=la_code_for(SEED)).exists()
    second_out = generate(jobs=2)
    assert fingerprint() == first
    # The same sign-in details too (they derive from SECRET_KEY and the username).
    assert first_out.split("Sign in at")[1] == second_out.split("Sign in at")[1]


def test_a_second_run_with_the_seed_is_refused_and_changes_nothing(db):
    generate()
    la = scale_la()
    with transaction.atomic(), tenant_scope(everything(la)):
        before = (Pupil.objects.count(), StepPlacement.objects.count(), Attendance.objects.count())
    counts = (LocalAuthority.objects.count(), School.objects.count(), User.objects.count())
    with pytest.raises(CommandError, match=rf"seed {SEED} is already here: local authority .*\({la.code}\)"):
        generate()
    assert counts == (LocalAuthority.objects.count(), School.objects.count(), User.objects.count())
    with transaction.atomic(), tenant_scope(everything(la)):
        assert before == (Pupil.objects.count(), StepPlacement.objects.count(), Attendance.objects.count())


def test_every_scale_user_opens_their_home_page(db, client):
    out = generate()
    users = User.objects.filter(username__startswith=f"scale{SEED}-").order_by("username")
    assert users.count() == 7
    for user in users:
        assert user.username in out
        membership = Membership.objects.get(user=user)
        response = sign_in(client, user, membership).get("/")
        assert response.status_code == 200, user.username
        client.logout()
    # The practitioner runs groups, the latest of which their list of groups shows.
    practitioner = users.get(username=f"scale{SEED}-practitioner")
    response = sign_in(client, practitioner).get("/interventions/")
    assert response.status_code == 200
    school = Membership.objects.get(user=practitioner).school
    with transaction.atomic(), tenant_scope(TenantScope.for_school(school.pk)):
        latest = (
            InterventionGroup.objects.filter(staff_links__user=practitioner).order_by("-starts_on").first()
        )
    assert latest is not None and latest.name in response.content.decode()


def test_other_tenants_stay_walled_off(db, client, tenant):
    generate()
    la = scale_la()
    with transaction.atomic(), tenant_scope(everything(la)):
        scale_pupil = Pupil.objects.order_by("pk").first()
    # Another LA's school sees none of the scale LA's pupils, by the ORM or by the page.
    with transaction.atomic(), tenant_scope(TenantScope.for_school(tenant.school.pk)):
        assert not Pupil.objects.filter(school__local_authority=la).exists()
    sign_in(client, tenant.users["senco"])
    assert client.get(f"/pupils/{scale_pupil.pk}/").status_code == 404
    assert scale_pupil.upn not in client.get("/pupils/").content.decode()
    client.logout()
    # And the scale SENCO cannot open the other LA's pupil.
    sign_in(client, User.objects.get(username=f"scale{SEED}-senco"))
    assert client.get(f"/pupils/{tenant.pupils[0].pk}/").status_code == 404
