"""Retention (SECURITY.md 15): records past their LA's retention date go, with everything in
them, unless the pupil is on roll or on legal hold; the LA sets the years; deletions are audited.

One LA (Alpha) holds a pupil of each kind: two past retention who have left (one of them with
a whole history recorded at two schools, having been transferred, and report PDFs), one past
retention but still on roll, one past retention on legal hold, and one who has left but is not
yet past it. A second LA (Zulu) has its own pupils and a leaver of the same age as Alpha's young
one. The run, the nightly task (in the test process and on a real Celery worker), the operator
command, the LA administrator's setting and the headteacher's legal hold are each tried.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models import CASCADE, PROTECT
from django.utils import timezone

from graduated_response.observations import observation_record
from graduated_response.placements import step_place, strategy_tried_record
from graduated_response.plans import StrategyInput, TargetInput, plan_create, plan_review_record
from interventions import services as interventions
from pupils import services as pupil_services
from pupils.models import AssessmentScore, OutcomeRecord, Pupil
from pupils.retention import apply_retention, legal_hold_set, records_about_a_pupil, retention_cutoff
from pupils.tasks import apply_retention as apply_retention_task
from pupils.transfers import transfer_pupil
from reports.models import ReportRequest
from schools.models import AuditEvent, LocalAuthority, PupilGrant, School
from schools.scopes import scope_for_membership
from schools.tenancy import TenantScope, tenant_models, tenant_scope
from tests.conftest import Tenant, build_tenant, sign_in
from tests.test_interventions import enrol, make_group, make_provision
from tests.test_placements import nw  # noqa: F401  (a fixture)
from tests.test_tasks import worker  # noqa: F401  (a fixture: a real Celery worker)
from tests.test_transfers import ended_placement

TODAY = timezone.localdate()
EARLIER = TODAY - timedelta(days=60)
PAST = TODAY - relativedelta(years=36, days=40)  # past 31 years
YOUNG = TODAY - relativedelta(years=26, days=40)  # past 25 years, not 31

# Every table a removed pupil had rows in, besides their own: the run must empty all of them.
HISTORY_TABLES = {
    "pupils.SenStatusChange",
    "pupils.OnePageProfile",
    "pupils.OutcomeRecord",
    "pupils.AssessmentScore",
    "pupils.Transfer",
    "graduated_response.StepPlacement",
    "graduated_response.StrategyTried",
    "graduated_response.SupportPlan",
    "graduated_response.PlanTarget",
    "graduated_response.PlanStrategy",
    "graduated_response.PlanReview",
    "graduated_response.TargetOutcome",
    "graduated_response.BehaviourObservation",
    "interventions.Enrolment",
    "interventions.Attendance",
    "interventions.ProvisionPlacement",
    "reports.ReportRequest",
}


def everywhere(*tenants: Tenant) -> TenantScope:
    """Every school, provision and LA of these tenants: how the tests look at all their rows."""
    schools = [s.pk for t in tenants for s in School.objects.filter(local_authority=t.la)]
    return TenantScope.system(
        schools=schools,
        provisions=[t.provision.pk for t in tenants],
        local_authorities=[t.la.pk for t in tenants],
    )


def at(school: School):
    return tenant_scope(TenantScope.for_school(school.pk, la_id=school.local_authority_id))


def rows_about(pupil_id: int, scope: TenantScope) -> dict[tuple[str, int | None], int]:
    """How many rows of each table reach the pupil, by the school that recorded them."""
    counts: dict[tuple[str, int | None], int] = {}
    with transaction.atomic(), tenant_scope(scope):
        for model in tenant_models():
            if not model.pupil_path:
                continue
            rows = model._base_manager.filter(**{model.pupil_path: pupil_id})
            for school_id in rows.values_list("school_id", flat=True):
                key = (model._meta.label, school_id)
                counts[key] = counts.get(key, 0) + 1
    return counts


def table_counts(scope: TenantScope) -> dict[str, int]:
    with transaction.atomic(), tenant_scope(scope):
        return {m._meta.label: m._base_manager.count() for m in tenant_models()}


def report_with_files(school: School, pupil: Pupil | None, media: Path) -> tuple[ReportRequest, list[Path]]:
    """A finished report with its PDF and snapshot in storage: about a pupil, or the school's."""
    kind, scope_type, period = (
        ("pupil_profile", "pupil", "") if pupil else ("school_termly", "school", "2025-26-autumn")
    )
    with transaction.atomic(), at(school):
        row = ReportRequest(
            kind=kind,
            scope_type=scope_type,
            school=school,
            pupil=pupil,
            local_authority_id=school.local_authority_id,
            period=period,
            status=ReportRequest.Status.DONE,
            finished_at=timezone.now(),
        )
        name = f"{kind}-{school.pk}-{pupil.pk if pupil else 0}"
        row.pdf.save(f"{name}.pdf", ContentFile(b"%PDF-1.7 stand-in"), save=False)
        row.snapshot.save(f"{name}.json", ContentFile(b'{"figures": 1}'), save=False)
        row.save()
    files = [media / row.pdf.name, media / row.snapshot.name]
    assert all(f.exists() for f in files)
    return row, files


def record_history(t: Tenant, pupil: Pupil, steps) -> None:
    """Everything a school records about a pupil, at the pupil's school (t.school)."""
    with transaction.atomic(), at(t.school):
        pupil_services.sen_entry(pupil, start=EARLIER, user=None, source="manual").save()
        pupil_services.profile_update(request=None, pupil=pupil, data={"strengths": "Lego"})
        OutcomeRecord.objects.create(
            school=t.school, pupil=pupil, academic_year=2024, term="summer", attendance_pct=Decimal(91)
        )
        AssessmentScore.objects.create(
            school=t.school, pupil=pupil, measure="sdq_total", assessed_on=EARLIER, score=Decimal(18)
        )
        step_place(
            request=None, pupil=pupil, step=steps[2], reason="Concerns at lunchtime", placed_on=EARLIER
        )
        strategy_tried_record(
            request=None, pupil=pupil, step=steps[2], name="Movement breaks", started_on=EARLIER
        )
        # A plan's strategy protects the strategy tried it names: the run must order them.
        plan = plan_create(
            request=None,
            pupil=pupil,
            data={"title": "Calmer lunchtimes"},
            starts_on=EARLIER + timedelta(days=1),
            targets=[TargetInput(description="Joins a lunchtime club", success_criteria="3 days a week")],
            strategies=[StrategyInput(name="Lunchtime club")],
        )
        plan_review_record(
            request=None,
            plan=plan,
            reviewed_on=TODAY - timedelta(days=10),
            decision="continue",
            outcomes={plan.targets.get().pk: ("achieved", "")},
        )
        observation_record(
            request=None,
            pupil=pupil,
            observed_at=timezone.now() - timedelta(days=2),
            setting="lesson",
            behaviour="Left the room",
            intensity=3,
            plan=plan,
        )
    group = make_group(t, make_provision(t, name=f"Lego club {pupil.pk}"), name=f"Lego {pupil.pk}")
    enrolment = enrol(t, group, pupil)
    with transaction.atomic(), at(t.school):
        interventions.session_record(
            request=None, group=group, held_on=TODAY, marks={enrolment.pk: interventions.Mark(present=True)}
        )
        ended_placement(pupil, t.provision)


def leave(pupil: Pupil, *, born, on_roll: bool = False) -> None:
    """Set the pupil's age (older than the register's forms allow) and whether they left."""
    with transaction.atomic(), tenant_scope(TenantScope.system(schools=[pupil.school_id])):
        Pupil.objects.filter(pk=pupil.pk).update(
            date_of_birth=born, is_active=on_roll, left_on=None if on_roll else TODAY - timedelta(days=400)
        )


@dataclass
class World:
    alpha: Tenant
    zulu: Tenant
    media: Path
    transferred: Pupil  # past retention, left; history at school A, then transferred to B
    gone: Pupil  # past retention, left; a report
    on_roll: Pupil  # past retention, still on roll
    held: Pupil  # past retention, left, on legal hold
    young: Pupil  # left, not yet past 31 years (past 25)
    zulu_young: Pupil  # Zulu's leaver of the same age
    files: dict[str, list[Path]] = field(default_factory=dict)

    @property
    def kept(self) -> list[Pupil]:
        return [self.on_roll, self.held, self.young, *self.alpha.neighbour_pupils]


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def world(tenant, other, nw, media) -> World:  # noqa: F811
    transferred, gone, on_roll = tenant.pupils
    record_history(tenant, transferred, nw)
    _, transferred_files = report_with_files(tenant.school, transferred, media)
    with transaction.atomic(), tenant_scope(TenantScope.system(schools=[tenant.school.pk])):
        transfer_pupil(
            None, transferred, to_school=tenant.sibling, reason="moving_home", transferred_on=TODAY
        )
    with transaction.atomic(), at(tenant.sibling):
        OutcomeRecord.objects.create(
            school=tenant.sibling,
            pupil=transferred,
            academic_year=2025,
            term="autumn",
            attendance_pct=Decimal(88),
        )
    _, later_files = report_with_files(tenant.sibling, transferred, media)
    leave(transferred, born=PAST)
    _, gone_files = report_with_files(tenant.school, gone, media)
    leave(gone, born=PAST)
    record_history(tenant, on_roll, nw)
    leave(on_roll, born=PAST, on_roll=True)
    held, young = tenant.sibling_pupils
    _, held_files = report_with_files(tenant.sibling, held, media)
    leave(held, born=PAST)
    with transaction.atomic(), tenant_scope(TenantScope.system(schools=[tenant.sibling.pk])):
        legal_hold_set(
            request=None, pupil=held, hold=True, reason="Claim received from the family's solicitor"
        )
    leave(young, born=YOUNG)
    zulu_young = other.pupils[0]
    leave(zulu_young, born=YOUNG)
    _, school_files = report_with_files(tenant.school, None, media)
    return World(
        alpha=tenant,
        zulu=other,
        media=media,
        transferred=transferred,
        gone=gone,
        on_roll=on_roll,
        held=held,
        young=young,
        zulu_young=zulu_young,
        files={
            "removed": transferred_files + later_files + gone_files,
            "kept": held_files + school_files,
        },
    )


def deletions(scope: TenantScope) -> list[AuditEvent]:
    with transaction.atomic(), tenant_scope(scope):
        return list(AuditEvent.objects.filter(action=AuditEvent.Action.DELETE, object_type="pupils.pupil"))


# --- the run ------------------------------------------------------------------------------------


def test_only_leavers_past_retention_and_not_on_hold_go_with_everything_about_them(world):
    alpha, zulu = world.alpha, world.zulu
    scope = everywhere(alpha, zulu)
    history = rows_about(world.transferred.pk, scope)
    # Not a vacuous check: the pupil had rows in every table, at both schools they attended.
    assert {label for label, _ in history} >= HISTORY_TABLES | {"pupils.Pupil"}
    assert {school for _, school in history} == {alpha.school.pk, alpha.sibling.pk}
    kept_before = {p.pk: rows_about(p.pk, scope) for p in world.kept}
    assert kept_before[world.on_roll.pk].keys() >= {("graduated_response.SupportPlan", alpha.school.pk)}
    zulu_before = table_counts(everywhere(zulu))

    result = apply_retention()

    assert rows_about(world.transferred.pk, scope) == {}
    assert rows_about(world.gone.pk, scope) == {}
    assert {p.pk: rows_about(p.pk, scope) for p in world.kept} == kept_before
    assert table_counts(everywhere(zulu)) == zulu_before
    assert not any(f.exists() for f in world.files["removed"])
    assert all(f.exists() for f in world.files["kept"])
    alpha_counts = next(a for a in result.authorities if a.local_authority_id == alpha.la.pk)
    assert (alpha_counts.removed, alpha_counts.held, alpha_counts.on_roll, alpha_counts.failed) == (
        2,
        1,
        1,
        0,
    )
    assert alpha_counts.files == 6  # a PDF and a snapshot for each of three pupil reports
    assert result.totals()["removed"] == 2


def test_each_removal_is_audited_once_by_id_without_a_name(world):
    apply_retention()
    rows = deletions(everywhere(world.alpha, world.zulu))
    assert sorted(int(r.object_id) for r in rows) == sorted([world.transferred.pk, world.gone.pk])
    by_id = {int(r.object_id): r for r in rows}
    moved = by_id[world.transferred.pk]
    assert moved.school_id == world.alpha.sibling.pk  # the school the pupil left from
    assert moved.detail == {
        "reason": "retention",
        "born": PAST.year,
        "retention_years": 31,
        "schools": sorted([world.alpha.school.pk, world.alpha.sibling.pk]),
    }
    for row, pupil in ((moved, world.transferred), (by_id[world.gone.pk], world.gone)):
        written = json.dumps(row.detail) + row.path + row.object_id
        assert pupil.first_name not in written and pupil.last_name not in written
        assert row.user_id is None and row.membership_id is None


def test_the_grants_of_a_removed_pupil_are_kept_but_ended(world):
    with transaction.atomic(), tenant_scope(everywhere(world.alpha)):
        open_before = PupilGrant.objects.filter(pupil_id=world.transferred.pk, ends_on__isnull=True).count()
    assert open_before >= 2  # the receiving school's record grant, the sending school's name grant
    apply_retention()
    with transaction.atomic(), tenant_scope(everywhere(world.alpha)):
        grants = list(PupilGrant.objects.filter(pupil_id=world.transferred.pk))
    assert len(grants) >= open_before
    assert all(g.ends_on is not None and g.ends_on < TODAY for g in grants)


def test_a_second_run_removes_nothing_more(world):
    apply_retention()
    scope = everywhere(world.alpha, world.zulu)
    audited = len(deletions(scope))
    counts = table_counts(scope)
    again = apply_retention()
    assert again.totals() == {"removed": 0, "held": 1, "on_roll": 1, "failed": 0, "files": 0}
    assert len(deletions(scope)) == audited
    assert table_counts(scope) == counts


def test_the_las_years_decide_who_is_due(world):
    LocalAuthority.objects.filter(pk=world.alpha.la.pk).update(retention_years_after_birth=25)
    scope = everywhere(world.alpha, world.zulu)
    apply_retention()
    assert rows_about(world.young.pk, scope) == {}  # 26 years after birth: past Alpha's 25
    assert rows_about(world.zulu_young.pk, scope) != {}  # the same age in Zulu, which keeps 31
    assert rows_about(world.held.pk, scope) != {} and rows_about(world.on_roll.pk, scope) != {}


def test_lifting_a_hold_lets_the_next_run_remove_the_record(world):
    apply_retention()
    scope = everywhere(world.alpha)
    assert rows_about(world.held.pk, scope) != {}
    with transaction.atomic(), tenant_scope(TenantScope.system(schools=[world.alpha.sibling.pk])):
        legal_hold_set(request=None, pupil=world.held, hold=False)
    apply_retention()
    assert rows_about(world.held.pk, scope) == {}
    assert not any(f.exists() for f in world.files["kept"][:2])  # the held pupil's report files


def test_a_dry_run_counts_and_removes_nothing(world):
    scope = everywhere(world.alpha, world.zulu)
    counts = table_counts(scope)
    result = apply_retention(dry_run=True)
    assert result.totals() == {"removed": 2, "held": 1, "on_roll": 1, "failed": 0, "files": 0}
    assert table_counts(scope) == counts
    assert all(f.exists() for f in world.files["removed"])


def test_a_pupil_with_rows_the_run_cannot_reach_is_left_whole_and_the_rest_go(world, caplog):
    """A row about the pupil at a school no grant names (it should not exist) stops that pupil's
    removal at the foreign-key check: nothing of theirs goes, not even their files, the other
    pupils of the batch still go, and the log names the pupil by id and the broken rule."""
    stray = world.alpha.neighbour
    with transaction.atomic(), at(stray):
        OutcomeRecord.objects.create(school=stray, pupil=world.gone, academic_year=2023, term="spring")
    scope = everywhere(world.alpha)
    before = rows_about(world.gone.pk, scope)
    result = apply_retention()
    assert result.totals()["removed"] == 1 and result.totals()["failed"] == 1
    assert rows_about(world.gone.pk, scope) == before
    assert rows_about(world.transferred.pk, scope) == {}
    gone_files = world.files["removed"][-2:]
    assert all(f.exists() for f in gone_files)
    assert [int(r.object_id) for r in deletions(scope)] == [world.transferred.pk]
    [line] = [r.getMessage() for r in caplog.records if "not removed" in r.getMessage()]
    assert f"pupil {world.gone.pk} not removed (IntegrityError " in line
    assert world.gone.last_name not in line


def test_the_cutoff_is_the_birthday_that_many_years_on():
    today = TODAY.replace(month=3, day=1)
    assert retention_cutoff(today, 31) == today.replace(year=today.year - 31)
    # Born on 29 February: the day before 1 March is their birthday in a common year.
    assert retention_cutoff(TODAY.replace(year=2024, month=2, day=29), 31).isoformat() == "1993-02-28"


def test_every_table_pointing_at_a_pupil_is_removed_with_them():
    """A new table with a key to the pupil must be thought about for retention: one whose rows
    outlive the pupil (SET_NULL, DO_NOTHING) fails here until the run handles it."""
    from pupils.models import Pupil

    relations = [r for r in Pupil._meta.get_fields(include_hidden=True) if r.auto_created and not r.concrete]
    assert relations and all(r.on_delete in (CASCADE, PROTECT) for r in relations)
    assert {m._meta.label for m, _ in records_about_a_pupil()} >= {
        "interventions.ProvisionPlacement",
        "reports.ReportRequest",
        "graduated_response.SupportPlan",
    }


# --- the task, the command, the schedule -----------------------------------------------------


def test_the_task_runs_with_no_tenant_and_refuses_one(world, settings):
    assert apply_retention_task.apply().get() == {
        "removed": 2,
        "held": 1,
        "on_roll": 1,
        "failed": 0,
        "files": 6,
    }
    assert rows_about(world.gone.pk, everywhere(world.alpha)) == {}
    refused = apply_retention_task.apply(kwargs={"tenant": {"system": {"schools": [world.alpha.school.pk]}}})
    assert refused.failed() and isinstance(refused.result, TypeError)
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "pupils.apply_retention" in tasks


def test_the_command_prints_counts_and_dry_runs(world):
    out = StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "Alpha Council: kept 31 years after birth" in text
    assert "2 would be removed, 1 kept on legal hold, 1 still on roll" in text
    assert rows_about(world.gone.pk, everywhere(world.alpha)) != {}
    out = StringIO()
    call_command("apply_retention", stdout=out)
    assert "Total on" in out.getvalue() and "2 removed" in out.getvalue()
    assert rows_about(world.gone.pk, everywhere(world.alpha)) == {}


@pytest.fixture
def worker_media(tmp_path, settings, monkeypatch) -> Path:
    """Storage both for this process and the worker (which reads MEDIA_ROOT from its env)."""
    media = tmp_path / "worker-media"
    monkeypatch.setenv("MEDIA_ROOT", str(media))
    settings.MEDIA_ROOT = str(media)
    return media


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_removes_the_due_records(worker_media, worker):  # noqa: F811
    t = build_tenant("909", "Worker")
    due, kept = t.pupils[0], t.pupils[1]
    _, files = report_with_files(t.school, due, worker_media)
    leave(due, born=PAST)
    leave(kept, born=PAST, on_roll=True)
    apply_retention_task.apply_async()
    scope = everywhere(t)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and rows_about(due.pk, scope):
        time.sleep(0.3)
    if rows_about(due.pk, scope):
        worker.terminate()
        pytest.fail(
            "the worker did not remove the record:\n" + worker.communicate(timeout=20)[0].decode()[-3000:]
        )
    assert not any(f.exists() for f in files)
    assert rows_about(kept.pk, scope) != {}
    assert [int(r.object_id) for r in deletions(scope)] == [due.pk]


# --- the LA administrator's setting ------------------------------------------------------------


@pytest.fixture
def la_admin(client, tenant):
    return sign_in(client, tenant.users["la_admin"], tenant.memberships["la_admin"])


def test_the_la_admin_sees_and_sets_the_retention_years(la_admin, tenant, other):
    page = la_admin.get("/schools/la/").content.decode()
    assert "Years pupils&#x27; records are kept after their date of birth" in page
    assert 'value="31"' in page and "SEN records are commonly kept for 31 years" in page
    response = la_admin.post("/schools/la/", {"retention_years_after_birth": "25"})
    assert response.status_code == 302
    tenant.la.refresh_from_db()
    other.la.refresh_from_db()
    assert (tenant.la.retention_years_after_birth, other.la.retention_years_after_birth) == (25, 31)
    assert tenant.la.review_interval_weeks == 6  # the other form on the page is left alone
    with transaction.atomic(), tenant_scope(scope_for_membership(tenant.memberships["la_admin"])):
        [row] = AuditEvent._base_manager.filter(object_type="schools.localauthority", action="update")
    assert row.detail == {"fields": ["retention_years_after_birth"], "from": 31, "to": 25}
    assert row.user_id == tenant.users["la_admin"].pk


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "7",
            "Give at least 21 years: a claim about a child&#x27;s schooling can be brought until they "
            "are 21.",
        ),
        ("101", "Give at most 100 years."),
        ("thirty", "Give a whole number of years, such as 31."),
        ("", "Give the number of years records are kept after a pupil&#x27;s date of birth."),
    ],
)
def test_bad_retention_years_are_a_400_with_a_message_and_save_nothing(la_admin, tenant, value, message):
    response = la_admin.post("/schools/la/", {"retention_years_after_birth": value})
    assert response.status_code == 400
    assert message in response.content.decode()
    tenant.la.refresh_from_db()
    assert tenant.la.retention_years_after_birth == 31


def test_only_the_la_admin_sets_the_retention_years(client, tenant):
    sign_in(client, tenant.users["la_officer"], tenant.memberships["la_officer"])
    assert client.post("/schools/la/", {"retention_years_after_birth": "25"}).status_code == 403
    tenant.la.refresh_from_db()
    assert tenant.la.retention_years_after_birth == 31


# --- the headteacher's legal hold -------------------------------------------------------------


def test_the_headteacher_sets_and_lifts_a_legal_hold_from_the_pupil_page(client, tenant):
    sign_in(client, tenant.users["headteacher"], tenant.memberships["headteacher"])
    pupil = tenant.pupils[0]
    page = client.get(f"/pupils/{pupil.pk}/").content.decode()
    assert "Keeping this record" in page and f'action="/pupils/{pupil.pk}/legal-hold/"' in page
    reason = "Claim from the family's solicitor, letter of 3 March"
    response = client.post(
        f"/pupils/{pupil.pk}/legal-hold/", {"legal_hold": "on", "legal_hold_reason": reason}
    )
    assert response.status_code == 302 and response["Location"].endswith("#retention")
    with transaction.atomic(), at(tenant.school):
        saved = Pupil.objects.get(pk=pupil.pk)
        row = AuditEvent.objects.filter(object_type="pupils.pupil", action="update").latest("id")
    assert (saved.legal_hold, saved.legal_hold_reason) == (True, reason)
    assert row.detail == {"fields": ["legal_hold"], "from": False, "to": True, "event": "legal_hold"}
    assert "solicitor" not in json.dumps(row.detail)
    assert "Legal hold" in client.get(f"/pupils/{pupil.pk}/").content.decode()
    client.post(f"/pupils/{pupil.pk}/legal-hold/", {"legal_hold_reason": "ignored when lifting"})
    with transaction.atomic(), at(tenant.school):
        saved = Pupil.objects.get(pk=pupil.pk)
    assert (saved.legal_hold, saved.legal_hold_reason) == (False, "")


def test_a_hold_without_a_reason_is_refused_with_a_message(client, tenant):
    sign_in(client, tenant.users["headteacher"], tenant.memberships["headteacher"])
    pupil = tenant.pupils[0]
    response = client.post(f"/pupils/{pupil.pk}/legal-hold/", {"legal_hold": "on", "legal_hold_reason": "  "})
    assert response.status_code == 400
    assert "Say why the record must be kept" in response.content.decode()
    with transaction.atomic(), at(tenant.school):
        assert Pupil.objects.get(pk=pupil.pk).legal_hold is False


def test_only_the_pupils_own_headteacher_holds_a_record(client, tenant, other):
    pupil = tenant.pupils[0]
    body = {"legal_hold": "on", "legal_hold_reason": "Inquiry"}
    sign_in(client, tenant.users["senco"], tenant.memberships["senco"])
    page = client.get(f"/pupils/{pupil.pk}/").content.decode()
    assert "Keeping this record" in page and "legal-hold/" not in page  # the SENCO sees, not sets
    assert client.post(f"/pupils/{pupil.pk}/legal-hold/", body).status_code == 403
    sign_in(client, other.users["headteacher"], other.memberships["headteacher"])
    assert client.post(f"/pupils/{pupil.pk}/legal-hold/", body).status_code == 404
    with transaction.atomic(), at(tenant.school):
        assert Pupil.objects.get(pk=pupil.pk).legal_hold is False
        with pytest.raises(PermissionDenied):
            legal_hold_set(request=None, pupil=tenant.sibling_pupils[0], hold=True, reason="Inquiry")
        with pytest.raises(ValidationError):
            legal_hold_set(request=None, pupil=pupil, hold=True, reason="")


@pytest.mark.parametrize("years", [0, 20, 101])
def test_the_database_refuses_a_retention_period_out_of_range(tenant, years):
    """The form keeps it in 21–100; a shell or a bulk update is stopped by the database, as
    0 would remove every leaver of the LA the next night."""
    with pytest.raises(IntegrityError), transaction.atomic():
        LocalAuthority.objects.filter(pk=tenant.la.pk).update(retention_years_after_birth=years)
    tenant.la.refresh_from_db()
    assert tenant.la.retention_years_after_birth == 31
