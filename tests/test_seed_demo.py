"""`manage.py seed_demo`: idempotent, and its printed credentials work."""

from __future__ import annotations

import io
import json

from django.contrib.auth import authenticate
from django.core.management import call_command
from django_otp.oath import totp

from schools.models import BehaviourProvision, Membership, Partnership, Role, School, User

KEYS = {"role", "scope_type", "scope_id", "scope_name", "username", "password", "totp_secret"}


def seed() -> list[dict]:
    out = io.StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_seed_demo_is_idempotent_and_covers_every_role(db):
    first = seed()
    counts = (
        School.objects.count(),
        Partnership.objects.count(),
        BehaviourProvision.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
    )
    second = seed()
    assert first == second
    assert counts == (
        School.objects.count(),
        Partnership.objects.count(),
        BehaviourProvision.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
    )
    assert counts[:3] == (6, 2, 1)
    assert len({s.phase for s in School.objects.all()}) >= 5
    assert {row["role"] for row in first} == {r.value for r in Role}
    assert all(set(row) == KEYS for row in first)


def test_printed_credentials_sign_in(db):
    import base64

    verified = set()
    for row in seed():
        assert authenticate(username=row["username"], password=row["password"]) is not None, row["username"]
        if row["role"] in ("senco", "practitioner", "headteacher") and row["username"] != "senco-and-lead":
            assert row["totp_secret"] is None
        elif row["username"] not in verified:  # a code is good once: the device refuses a replay
            verified.add(row["username"])
            user = User.objects.get(username=row["username"])
            device = user.totpdevice_set.get(confirmed=True)
            assert base64.b32decode(row["totp_secret"]) == device.bin_key
            assert device.verify_token(f"{totp(device.bin_key):06d}")


def test_plain_output_names_every_user(db):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    for username in (
        "senco",
        "practitioner",
        "headteacher",
        "provision-lead",
        "partnership-lead",
        "la-officer",
        "la-admin",
        "platform-admin",
    ):
        assert username in text


def test_demo_pupils_have_england_like_sen_shares(db):
    from django.db import transaction

    from pupils.codes import SenStatus
    from pupils.models import OutcomeRecord, Pupil, SenStatusChange
    from schools.tenancy import TenantScope, tenant_scope

    seed()
    mainstream = School.objects.exclude(phase__in=["special", "nursery"])
    scope = TenantScope.system(schools=mainstream.values_list("pk", flat=True))
    with transaction.atomic(), tenant_scope(scope):
        pupils = Pupil.objects.all()
        total = pupils.count()
        support = pupils.filter(sen_status=SenStatus.SEN_SUPPORT).count() / total
        plans = pupils.filter(sen_status=SenStatus.EHC_PLAN).count() / total
        assert total >= 1000
        assert 0.11 <= support <= 0.16 and 0.03 <= plans <= 0.07
        with_sen = pupils.exclude(sen_status=SenStatus.NONE)
        assert not with_sen.filter(primary_need="").exists()
        assert SenStatusChange.objects.count() >= with_sen.count()
        assert OutcomeRecord.objects.count() == with_sen.count()
        # Re-running adds nothing.
    seed()
    with transaction.atomic(), tenant_scope(scope):
        assert Pupil.objects.count() == total


def test_demo_pupils_with_sen_stand_on_steps_their_history_allows(db):
    from django.db import transaction

    from graduated_response.models import StepPlacement, StrategyTried
    from pupils.codes import SenStatus
    from pupils.models import Pupil
    from schools.tenancy import TenantScope, tenant_scope

    seed()
    school = School.objects.get(urn="190002")
    scope = TenantScope.for_school(school.pk, la_id=school.local_authority_id)
    with transaction.atomic(), tenant_scope(scope):
        with_sen = Pupil.objects.exclude(sen_status=SenStatus.NONE).count()
        active = StepPlacement.objects.filter(status="active")
        assert active.count() == with_sen
        # Every move up had the reviewed strategies its step's rule asks for.
        for move in StepPlacement.objects.filter(kind="up").select_related("from_step"):
            reviewed = StrategyTried.objects.filter(
                pupil_id=move.pupil_id, step=move.from_step, reviewed_on__isnull=False
            )
            assert reviewed.values("strategy").distinct().count() >= (
                move.from_step.min_strategies_to_escalate or 0
            )
    seed()
    with transaction.atomic(), tenant_scope(scope):
        assert StepPlacement.objects.filter(status="active").count() == with_sen


def test_demo_pupils_have_plans_reviews_and_overdue_reviews(db):
    from datetime import date

    from django.db import transaction

    from graduated_response.models import BehaviourObservation, PlanReview, SupportPlan
    from schools.models import LocalAuthority, TermDates
    from schools.tenancy import TenantScope, tenant_scope

    seed()
    seed()  # idempotent: a second run adds no plans
    la = LocalAuthority.objects.get(code="909")
    schools = list(School.objects.filter(local_authority=la).values_list("pk", flat=True))
    assert TermDates.objects.filter(local_authority=la).count() == 9
    with transaction.atomic(), tenant_scope(TenantScope.system(schools=schools, local_authorities=[la.pk])):
        plans = SupportPlan.objects.all()
        assert plans.count() > 100
        assert plans.values("pupil").distinct().count() == plans.count()
        assert plans.filter(status="open", review_due__lt=date.today()).exists()
        assert plans.filter(status="closed").exists()
        assert PlanReview.objects.filter(decision="continue").exists()
        assert all(p.targets.exists() for p in plans[:20])
        observed = BehaviourObservation.objects.values("pupil").distinct().count()
        assert observed > 50 and BehaviourObservation.objects.filter(plan__isnull=False).exists()


def test_bench_pages_measures_every_main_page_on_the_demo_data(db):
    seed()
    out = io.StringIO()
    call_command("bench_pages", "--runs", "1", stdout=out)
    rows = [line.split("|")[1:-1] for line in out.getvalue().splitlines()[2:]]
    assert len(rows) == 17
    assert {cells[1].strip() for cells in rows} == {"200"}  # every page answered
    assert all(int(cells[2]) > 0 for cells in rows)  # and its queries were counted
