"""Dashboards: every role's home page, the pages one level down, the filters and the
figures API.

The figures a dashboard shows and `GET /api/v1/figures/` returns are meant to be the very
dicts the reports keep in their snapshots. Here the reports are built the way a scheduled
build builds them (the builder, under the system scope `report_scope` gives the row) and
compared key by key with what the API answers for the same scope and period. Counts the
filters narrow are checked against plain ORM queries written here, never against the
selectors the app uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from graduated_response.models import BehaviourObservation, Step, StepPlacement, SupportPlan
from graduated_response.placements import step_exit, step_move, step_place
from graduated_response.plans import TargetInput, plan_create
from interventions.models import (
    Attendance,
    Enrolment,
    GroupStaff,
    InterventionGroup,
    Provision,
    ProvisionPlacement,
    Session,
)
from interventions.placements import kpi_target_set, placement_refer
from interventions.services import session_record
from pupils.codes import in_area
from pupils.models import Pupil
from reports.builders import build
from reports.services import report_scope, request_report
from schools import budgets
from schools.audit import Action, audit
from schools.models import AuditEvent, StaffRole, TermDates
from schools.scopes import scope_for_membership
from schools.tenancy import TenantScope, app_role, tenant_scope
from schools.terms import academic_year_label, academic_year_of
from tests.conftest import Tenant, _scoped, sign_in
from tests.factories import ProvisionFactory, PupilFactory
from tests.test_placements import nw  # noqa: F401  (fixture)
from tests.test_reports_partnership import place

ROLES_WITH_DASHBOARDS = ("senco", "headteacher", "provision_lead", "partnership_lead", "la_officer")
ALL_ROLES = (*ROLES_WITH_DASHBOARDS, "practitioner", "la_admin", "platform_admin")
SCOPE_TYPES = ("school", "provision", "partnership", "local_authority")

TODAY = timezone.localdate()
THIS_YEAR = academic_year_of(TODAY)
LAST = THIS_YEAR - 1  # the last school year: every day of it is past
LAST_LABEL = academic_year_label(LAST)
TERM = f"{LAST_LABEL}-autumn"
# The LA's own dates for last year's terms, so both the report and the dashboard must read
# them (the usual bounds would be 1 September to 31 December).
AUTUMN = (date(LAST, 9, 3), date(LAST, 12, 19))
SPRING = (date(LAST + 1, 1, 6), date(LAST + 1, 3, 27))
SUMMER = (date(LAST + 1, 4, 14), date(LAST + 1, 7, 17))
API = "/api/v1/figures/"
# Keys the report adds to the shared figures that the API has no reason to carry.
REPORT_ONLY = {"kind", "built_on"}


def in_autumn(month: int, day: int) -> date:
    return date(LAST, month, day)


def term_under_way() -> tuple[str, str]:
    """The term today falls in by the usual English bounds (the tenant has no dates for this
    year): its code and the label a dashboard prints for it."""
    if TODAY.month >= 9:
        term, year = "autumn", TODAY.year
    elif (TODAY.month, TODAY.day) < (4, 15):
        term, year = "spring", TODAY.year - 1
    else:
        term, year = "summer", TODAY.year - 1
    label = academic_year_label(year)
    return f"{label}-{term}", f"{term.capitalize()} term {label}"


# --- making data --------------------------------------------------------------------------------


def school_scope(school):
    return _scoped(TenantScope.for_school(school.pk, la_id=school.local_authority_id))


def everywhere(*tenants: Tenant) -> TenantScope:
    """For the test's own reads: every school of the tenants, and their LAs' rows that name
    no school (refusals by LA roles)."""
    schools = [s.pk for t in tenants for s in (t.school, t.sibling, t.neighbour)]
    return TenantScope.system(schools=schools, local_authorities=[t.la.pk for t in tenants])


def read(scope: TenantScope, fn):
    with transaction.atomic(), tenant_scope(scope):
        return fn()


def audit_rows(*tenants: Tenant, **filters) -> list[AuditEvent]:
    return read(everywhere(*tenants), lambda: list(AuditEvent._base_manager.filter(**filters).order_by("id")))


def new_pupil(school, last_name: str, *, year: int = 5, sen: str = "N", need: str = "", **extra) -> Pupil:
    return PupilFactory(
        school=school, last_name=last_name, nc_year=year, sen_status=sen, primary_need=need, **extra
    )


def on_step(pupil: Pupil, step: Step, placed_on: date) -> None:
    with school_scope(pupil.school):
        step_place(request=None, pupil=pupil, step=step, reason="Concerns raised", placed_on=placed_on)


def open_plan(pupil: Pupil, starts_on: date, review_due: date) -> SupportPlan:
    with school_scope(pupil.school):
        return plan_create(
            request=None,
            pupil=pupil,
            data={"title": "Calmer mornings"},
            starts_on=starts_on,
            review_due=review_due,
            targets=[TargetInput("Stays in class for the first lesson", "4 days of 5")],
        )


def make_group(school, provision, name: str, first: date, last: date, **extra) -> InterventionGroup:
    with school_scope(school):
        return InterventionGroup.objects.create(
            school=school,
            provision=provision,
            name=name,
            academic_year=academic_year_of(first),
            term=extra.pop("term", ""),
            starts_on=first,
            ends_on=last,
            weeks=Decimal(extra.pop("weeks", 10)),
            staff_kind="ta",
            staff_count=1,
            group_size=6,
            session_minutes=45,
            sessions_per_week=Decimal(2),
            **extra,
        )


def enrol(group, pupil, **scores) -> Enrolment:
    with school_scope(group.school):
        return Enrolment.objects.create(
            school_id=group.school_id, group=group, pupil=pupil, starts_on=group.starts_on, **scores
        )


def sessions(group, enrolments, days: list[date]) -> None:
    """A session on each day, every enrolled pupil marked (the first of each day absent)."""
    with school_scope(group.school):
        for day in days:
            session = Session.objects.create(school_id=group.school_id, group=group, held_on=day)
            for i, e in enumerate(enrolments):
                Attendance.objects.create(
                    school_id=group.school_id, session=session, enrolment=e, present=i > 0
                )


def observe(pupil, day: date, n: int = 1) -> None:
    with school_scope(pupil.school):
        for i in range(n):
            BehaviourObservation.objects.create(
                school_id=pupil.school_id,
                pupil=pupil,
                observed_at=timezone.make_aware(datetime.combine(day, time(10 + i))),
                setting="lesson",
                behaviour="Left the classroom",
                intensity=2,
            )


def refer(t: Tenant, pupil, on: date) -> ProvisionPlacement:
    """A referral waiting for a start (no placement yet)."""
    with school_scope(pupil.school):
        return placement_refer(
            None,
            pupil,
            provision=t.provision,
            referred_on=on,
            referral_reason="Step 4 plan reviewed twice without enough progress.",
            consent_on=on,
            consent_note="Parent, signed form",
            pattern="part_time",
            days_per_week=Decimal(2),
        )


def record_import(school, user, created: int, updated: int, unchanged: int) -> None:
    """The row an import of pupils from the MIS leaves in the school's log."""
    with school_scope(school):
        audit(
            None,
            Action.CREATE,
            object_type="pupils.import",
            school_id=school.pk,
            user=user,
            detail={"source": "sims.csv", "created": created, "updated": updated, "unchanged": unchanged},
        )


@dataclass
class World:
    t: Tenant
    steps: dict[int, Step]
    named: dict[str, Pupil] = field(default_factory=dict)
    running: InterventionGroup | None = None
    other_running: InterventionGroup | None = None
    provision: Provision | None = None


@pytest.fixture
def world(tenant, nw, settings, tmp_path) -> World:  # noqa: F811
    """Last school year's autumn at the tenant's first school (A), with its sibling and the
    partnership's provision, and a little of today:

    - A: a pupil with an EHC plan at step 1 whose plan review is 20 days overdue; one at
      step 2 with no plan; one at step 3 with a plan due in 5 days, placed in the provision
      since October (still there) and observed twice; a year 3 pupil at step 2 whose plan is
      50 days overdue and who waits for a headteacher to approve a move up to step 3; one at
      step 4 with a plan due next month; one who left the framework in November; a pupil at
      no step. A nurture group ran in the autumn with sessions recorded; a lunch club runs
      now with none recorded (a practitioner runs it), and so does a maths club.
    - The sibling: a pupil at step 1 whose placement ended in November, and one referred and
      waiting to start.
    - The partnership: a KPI target and a budget for the year with spend recorded.
    - One import of pupils in A's log.
    """
    settings.MEDIA_ROOT = str(tmp_path)
    t = tenant
    t.provision.key_stages = "KS2"
    t.provision.save()
    for term, (first, last) in (("autumn", AUTUMN), ("spring", SPRING), ("summer", SUMMER)):
        TermDates.objects.create(
            local_authority=t.la, academic_year=LAST, term=term, starts_on=first, ends_on=last
        )
    StaffRole.objects.create(local_authority=t.la, kind="ta", hourly_cost=Decimal("21.50"))
    w = World(t=t, steps=nw)
    step = w.steps
    a0, a1, a2 = t.pupils
    with school_scope(t.school):
        Pupil.objects.filter(pk=a0.pk).update(sen_status="E", primary_need="ASD")
        Pupil.objects.filter(pk=a1.pk).update(sen_status="K", primary_need="SEMH")
        Pupil.objects.filter(pk=a2.pk).update(sen_status="K", primary_need="SLCN")
        for p in (a0, a1, a2):
            p.refresh_from_db()
    a3 = new_pupil(t.school, "Dashwood", year=3, sen="K", need="SEMH")
    a4 = new_pupil(t.school, "Nostep", year=3)
    a5 = new_pupil(t.school, "Fourstep", year=6, sen="K", need="SEMH")
    a6 = new_pupil(t.school, "Leftframe", year=4, sen="K", need="MLD")
    w.named = {"overdue": a0, "no_plan": a1, "placed": a2, "waiting": a3, "no_step": a4, "step4": a5}

    on_step(a0, step[1], in_autumn(9, 10))
    open_plan(a0, in_autumn(9, 11), TODAY - timedelta(days=20))
    on_step(a1, step[2], in_autumn(10, 1))
    on_step(a2, step[3], in_autumn(9, 15))
    open_plan(a2, in_autumn(9, 16), TODAY + timedelta(days=5))
    on_step(a3, step[2], in_autumn(9, 12))
    open_plan(a3, in_autumn(9, 13), TODAY - timedelta(days=50))
    with school_scope(t.school):
        step_move(
            request=None,
            pupil=a3,
            to_step=step[3],
            reason="Escalating",
            placed_on=in_autumn(11, 3),
            override_justification="Risk to others",
        )
    on_step(a5, step[4], in_autumn(9, 20))
    open_plan(a5, in_autumn(9, 21), TODAY + timedelta(days=30))
    on_step(a6, step[1], in_autumn(9, 5))
    with school_scope(t.school):
        step_exit(request=None, pupil=a6, reason="Needs met", placed_on=in_autumn(11, 14))
    observe(a2, in_autumn(10, 20), n=2)

    with school_scope(t.school):
        w.provision = Provision.objects.create(
            school=t.school, name="Nurture group", area_of_need="semh", step_number=2, measure="sdq_total"
        )
    nurture = make_group(t.school, w.provision, "Nurture autumn", *AUTUMN, term="autumn", weeks=12)
    mine = [enrol(nurture, p, entry_score=20, exit_score=14) for p in (a1, a2, a3)]
    sessions(nurture, mine, [in_autumn(9, 17), in_autumn(9, 24), in_autumn(10, 1)])
    w.running = make_group(
        t.school, w.provision, "Lunch club", TODAY - timedelta(days=30), TODAY + timedelta(days=30)
    )
    enrol(w.running, a1)
    w.other_running = make_group(
        t.school, w.provision, "Maths club", TODAY - timedelta(days=20), TODAY + timedelta(days=40)
    )
    enrol(w.other_running, a4)
    with school_scope(t.school):
        GroupStaff.objects.create(school=t.school, group=w.running, user=t.users["practitioner"])

    s0, s1 = t.sibling_pupils
    with school_scope(t.sibling):
        Pupil.objects.filter(pk__in=[s0.pk, s1.pk]).update(sen_status="K", primary_need="SEMH")
        for p in (s0, s1):
            p.refresh_from_db()
    on_step(s0, step[1], in_autumn(9, 8))
    place(t, a2, start=in_autumn(10, 6), attendance="85", suspensions=1)
    place(t, s0, start=in_autumn(9, 22), end=in_autumn(11, 28), attendance="70")
    refer(t, s1, TODAY - timedelta(days=3))
    record_import(t.school, t.users["senco"], created=3, updated=1, unchanged=2)

    lead = t.memberships["partnership_lead"]
    with transaction.atomic(), tenant_scope(scope_for_membership(lead)):
        kpi_target_set(None, t.provision, LAST, "attendance_rate", Decimal("90"))
        budget = budgets.budget_create(
            request=None,
            user=lead.user,
            partnership=t.partnership,
            financial_year=LAST,
            allocation=Decimal(50000),
        )
        line = budgets.line_add(
            request=None, budget=budget, category="staffing", name="Teacher", planned=Decimal(40000)
        )
        budgets.spend_add(
            request=None,
            user=lead.user,
            budget=budget,
            line=line,
            description="Autumn salary",
            supplier="Supplier Ltd",
            amount=Decimal("12000.50"),
            spent_on=in_autumn(11, 1),
        )
    return w


# --- asking the API, building the reports --------------------------------------------------------


def as_role(client, t: Tenant, role: str):
    return sign_in(client, t.users[role], t.memberships[role])


def figures(client, scope_type: str, scope_id: int, **params):
    return client.get(API, {"scope_type": scope_type, "scope_id": scope_id, **params})


def report_snapshot(t: Tenant, role: str, kind: str, scope_type: str, scope_id: int, period: str) -> dict:
    """Ask for the report as `role`, then run its builder as a scheduled build does (under the
    scope `report_scope` gives the row) and encode the figures as the snapshot is encoded."""
    with transaction.atomic(), tenant_scope(scope_for_membership(t.memberships[role])):
        row = request_report(
            None, kind=kind, scope_type=scope_type, scope_id=scope_id, period=period, queue=False
        )
    with transaction.atomic(), app_role():
        system = report_scope(row)
    with transaction.atomic(), tenant_scope(system):
        built, _template, _context = build(row)
    return json.loads(json.dumps(built, cls=DjangoJSONEncoder, sort_keys=True))


def assert_same_figures(api: dict, snapshot: dict, must_share: set[str]) -> None:
    shared = (set(api) & set(snapshot)) - REPORT_ONLY
    assert must_share <= shared, must_share - shared
    for key in sorted(shared):
        assert api[key] == snapshot[key], key


def table_rows(table: dict) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in table["rows"]}


# --- 1. the dashboard's figures are the report's ------------------------------------------------


def test_school_figures_are_the_school_termly_reports(client, world):
    t = world.t
    as_role(client, t, "senco")
    response = figures(client, "school", t.school.pk, period=TERM)
    assert response.status_code == 200, response.content
    api = response.json()
    snapshot = report_snapshot(t, "senco", "school_termly", "school", t.school.pk, TERM)
    assert_same_figures(
        api,
        snapshot,
        {"school", "period", "filters", "register", "provision_map", "pupils", "movements"}
        | {"impact", "watched", "approvals", "reviews"},
    )
    # The figures are not empty ones that would agree whatever the code did.
    assert api["period"]["first"] == AUTUMN[0].isoformat()
    assert api["pupils"]["on_roll"] == 7 and len(api["pupils"]["by_step"]) == 5
    assert api["movements"]["total"] >= 5 and api["movements"]["awaiting_approval"] == 1
    assert api["reviews"]["overdue"] == 2 and api["reviews"]["due_within_14_days"] == 1
    assert api["watched"]["pupils"] == 2 and api["watched"]["placements"] == 1  # steps 3 and 4
    assert api["watched"]["incidents"] == 2 and api["watched"]["suspensions"] == 1
    assert [r["name"] for r in api["provision_map"]["rows"]] == ["Nurture group"]
    assert Decimal(api["provision_map"]["total"]["cost"]) > 0  # a Decimal, sent as a string
    assert api["approvals"]["overrides"] == 1
    # The headteacher asks for the same and gets the same.
    client.logout()
    as_role(client, t, "headteacher")
    assert figures(client, "school", t.school.pk, period=TERM).json() == api


@pytest.mark.parametrize(
    ("role", "asker"),
    [
        ("provision_lead", "provision_lead"),
        ("partnership_lead", "partnership_lead"),
        ("la_officer", "partnership_lead"),
    ],
)
def test_provision_figures_are_the_provision_termly_reports(client, world, role, asker):
    """The provision's lead, its partnership's lead and the LA's officer read the figures of
    the report (which only the first two may ask for)."""
    t = world.t
    as_role(client, t, role)
    response = figures(client, "provision", t.provision.pk, period=TERM)
    assert response.status_code == 200, response.content
    api = response.json()
    snapshot = report_snapshot(t, asker, "provision_termly", "provision", t.provision.pk, TERM)
    assert_same_figures(
        api,
        snapshot,
        {"period", "first_day", "last_day", "provision", "referrals_and_starts", "ended", "running"}
        | {"outside_key_stage", "ehc_exceptions", "kpi_year", "attendance", "suspensions", "kpis"},
    )
    assert api["suppressed"] is True
    assert (api["first_day"], api["last_day"]) == (AUTUMN[0].isoformat(), AUTUMN[1].isoformat())
    assert table_rows(api["running"])[t.school.name][-1] == "<5"  # one placement ran: shown as "<5"
    assert any(k["actual"] not in (None, "–", "") for k in api["kpis"])


def test_partnership_figures_are_the_annual_reports(client, world):
    t = world.t
    as_role(client, t, "partnership_lead")
    response = figures(client, "partnership", t.partnership.pk, period=LAST_LABEL)
    assert response.status_code == 200, response.content
    api = response.json()
    snapshot = report_snapshot(
        t, "partnership_lead", "partnership_annual", "partnership", t.partnership.pk, LAST_LABEL
    )
    assert_same_figures(
        api,
        snapshot,
        {"period", "school_year", "financial_year", "partnership", "provisions", "budget"}
        | {"placements_by_school", "pupils_by_sen", "length_of_stay", "schools_now", "kpis"},
    )
    assert Decimal(api["budget"]["committed"]) + Decimal(api["budget"]["awaiting_approval"]) == Decimal(
        "12000.50"
    )
    assert {r[0] for r in api["schools_now"][0]["rows"]} == {t.school.name, t.sibling.name}
    assert api["provisions"][0]["id"] == t.provision.pk


def test_la_figures_are_the_la_overviews(client, world):
    t = world.t
    as_role(client, t, "la_officer")
    response = figures(client, "local_authority", t.la.pk, period=LAST_LABEL)
    assert response.status_code == 200, response.content
    api = response.json()
    snapshot = report_snapshot(t, "la_officer", "la_overview", "local_authority", t.la.pk, LAST_LABEL)
    assert_same_figures(
        api,
        snapshot,
        {"period", "school_year", "financial_year", "local_authority", "partnership_tables"}
        | {"schools_by_partnership", "kpis", "budgets"},
    )
    east = t.neighbour.partnership.name
    assert {r[0] for r in api["partnership_tables"][0]["rows"]} == {t.partnership.name, east}
    recorded = {b["partnership"]: b["recorded"] for b in api["budgets"]}
    assert recorded == {t.partnership.name: True, east: False}
    # The officer's own page links each partnership to a page of its own, which opens.
    home = client.get("/", {"period": LAST_LABEL}).content.decode()
    for pk in (t.partnership.pk, t.neighbour.partnership_id):
        assert f'href="/dashboard/partnership/{pk}/"' in home
        assert client.get(f"/dashboard/partnership/{pk}/").status_code == 200


def test_the_dashboard_page_shows_the_figures_the_api_returns(client, world):
    """The partnership lead's page (the scope of the report above) prints the same cells."""
    t = world.t
    as_role(client, t, "partnership_lead")
    api = figures(client, "partnership", t.partnership.pk, period=LAST_LABEL).json()
    page = client.get(f"/dashboard/partnership/{t.partnership.pk}/", {"period": LAST_LABEL})
    assert page.status_code == 200
    body = page.content.decode()
    assert f"School year {LAST_LABEL}" in body
    for table in api["schools_now"] + [api["placements_by_school"]]:
        assert table["caption"] in body
    assert t.provision.name in body and f'href="/dashboard/provision/{t.provision.pk}/"' in body


# --- 2. what the API refuses ---------------------------------------------------------------------


def writes(ctx) -> list[str]:
    """Statements of a request that changed something other than the audit log."""
    changed = []
    for q in ctx.captured_queries:
        sql = q["sql"].lstrip().upper()
        if sql.startswith(("INSERT", "UPDATE", "DELETE")) and '"SCHOOLS_AUDITEVENT"' not in sql:
            changed.append(q["sql"][:200])
    return changed


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"scope_type": None}, "scope_type", "This field is required."),
        (
            {"scope_type": "pupil"},
            "scope_type",
            "Give one of: school, provision, partnership, local_authority.",
        ),
        ({"scope_type": ""}, "scope_type", "Give one of"),
        ({"scope_id": None}, "scope_id", "This field is required."),
        ({"scope_id": "abc"}, "scope_id", "A valid integer is required."),
        ({"scope_id": "1.5"}, "scope_id", "A valid integer is required."),
        ({"scope_id": "0"}, "scope_id", "greater than or equal to 1"),
        ({"scope_id": str(2**63)}, "scope_id", "less than or equal to"),
        ({"scope_id": "9" * 40}, "scope_id", "less than or equal to"),
        ({"period": "autumn-2025"}, "period", "Write the period like 2025-26-autumn"),
        ({"period": LAST_LABEL}, "period", "Write the period like 2025-26-autumn"),
        ({"period": f"{LAST}-99-autumn"}, "period", "is not a year followed by the next"),
        ({"period": "x" * 21}, "period", "no more than 20 characters"),
        ({"period": f"{academic_year_label(THIS_YEAR + 1)}-autumn"}, "period", "has not begun yet."),
        ({"year_group": "99"}, "year_group", "not a valid choice"),
        ({"year_group": "year 3"}, "year_group", "not a valid choice"),
        ({"area": "happiness"}, "area", "not a valid choice"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(client, tenant, params, field, words):
    as_role(client, tenant, "senco")
    query = {"scope_type": "school", "scope_id": str(tenant.school.pk), **params}
    query = {k: v for k, v in query.items() if v is not None}
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(API, query)
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {field}, body
    assert any(words in message for message in body[field]), body
    assert writes(ctx) == []


def test_a_year_not_begun_is_refused_for_the_partnership_and_the_la(client, tenant):
    later = academic_year_label(THIS_YEAR + 1)
    for role, scope_type, scope_id in (
        ("partnership_lead", "partnership", tenant.partnership.pk),
        ("la_officer", "local_authority", tenant.la.pk),
    ):
        client.logout()
        as_role(client, tenant, role)
        response = figures(client, scope_type, scope_id, period=later)
        assert response.status_code == 400
        assert response.json() == {"period": [f"School year {later} has not begun yet."]}
        # A term is not a period of these scopes.
        assert figures(client, scope_type, scope_id, period=TERM).status_code == 400


@pytest.mark.parametrize(
    ("role", "scope_type", "which"),
    [
        ("senco", "school", "sibling"),
        ("headteacher", "school", "neighbour"),
        ("senco", "provision", "provision"),
        ("partnership_lead", "school", "school"),
        ("la_officer", "school", "school"),
        ("provision_lead", "partnership", "partnership"),
        ("provision_lead", "school", "sibling"),
        ("partnership_lead", "local_authority", "la"),
        ("la_admin", "local_authority", "la"),
        ("la_admin", "school", "school"),
        ("practitioner", "school", "school"),
        ("senco", "school", "other school"),
        ("la_officer", "partnership", "other partnership"),
    ],
)
def test_a_scope_the_role_may_not_see_is_not_found_and_audited(
    client, tenant, other, role, scope_type, which
):
    ids = {
        "school": tenant.school.pk,
        "sibling": tenant.sibling.pk,
        "neighbour": tenant.neighbour.pk,
        "provision": tenant.provision.pk,
        "partnership": tenant.partnership.pk,
        "la": tenant.la.pk,
        "other school": other.school.pk,
        "other partnership": other.partnership.pk,
    }
    as_role(client, tenant, role)
    with CaptureQueriesContext(connection) as ctx:
        response = figures(client, scope_type, ids[which])
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert writes(ctx) == []
    denied = audit_rows(tenant, action="denied", user=tenant.users[role])
    assert [(e.object_type, e.object_id, e.path) for e in denied] == [
        (f"figures.{scope_type}", str(ids[which]), API)
    ]
    assert denied[0].membership_id == tenant.memberships[role].pk


def test_a_made_up_id_is_the_same_404(client, tenant):
    as_role(client, tenant, "senco")
    for scope_id in (999_999_999, 2**63 - 1):
        response = figures(client, "school", scope_id)
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."})
    # The pages take any number in the address: a huge one is the same 404, not an error.
    for scope_id in (999_999_999, 10**30):
        assert client.get(f"/dashboard/school/{scope_id}/").status_code == 404
    assert [e.object_id for e in audit_rows(tenant, action="denied")] == [
        "999999999",
        str(2**63 - 1),
        "999999999",
        str(10**30),
    ]


def test_a_partnership_lead_cannot_open_another_partnerships_provision(client, tenant):
    """The LA's other partnership runs a provision: its officer opens it, the first
    partnership's lead gets the 404 a made-up id gets."""
    east = ProvisionFactory(
        host_school=tenant.neighbour, partnership=tenant.neighbour.partnership, name="Alpha East Base"
    )
    as_role(client, tenant, "partnership_lead")
    assert figures(client, "provision", east.pk).status_code == 404
    assert client.get(f"/dashboard/provision/{east.pk}/").status_code == 404
    client.logout()
    as_role(client, tenant, "la_officer")
    assert figures(client, "provision", east.pk).status_code == 200
    assert client.get(f"/dashboard/provision/{east.pk}/").status_code == 200


def test_no_role_reaches_another_las_figures(client, tenant, other):
    """Every role of one LA, every scope type, every id of the other LA: 404, and nothing of
    the other LA in the answer, on the API and on the dashboard pages alike."""
    ids = [
        other.school.pk,
        other.sibling.pk,
        other.neighbour.pk,
        other.provision.pk,
        other.partnership.pk,
        other.neighbour.partnership_id,
        other.la.pk,
    ]
    names = [other.marker, *other.pupil_names()]
    # Ids of different tables may coincide: an id of the other LA's that is also one of this
    # LA's own of the type asked for is left out (the role may well see that one).
    own = {
        "school": {tenant.school.pk, tenant.sibling.pk, tenant.neighbour.pk},
        "provision": {tenant.provision.pk},
        "partnership": {tenant.partnership.pk, tenant.neighbour.partnership_id},
        "local_authority": {tenant.la.pk},
    }
    asked = 0
    paths = {"school": "school", "provision": "provision", "partnership": "partnership"}
    paths["local_authority"] = "local-authority"
    for role in ALL_ROLES:
        client.logout()
        as_role(client, tenant, role)
        for scope_type in SCOPE_TYPES:
            for scope_id in ids:
                if scope_id in own[scope_type]:
                    continue
                asked += 1
                for response in (
                    figures(client, scope_type, scope_id),
                    figures(client, scope_type, scope_id, period=LAST_LABEL, year_group="5"),
                    client.get(f"/dashboard/{paths[scope_type]}/{scope_id}/"),
                ):
                    assert response.status_code == 404, (role, scope_type, scope_id, response.status_code)
                    body = response.content.decode()
                    for name in names:
                        assert name not in body, (role, scope_type, scope_id, name)
    # Every refusal is in the log. (The platform administrator's name no school and no LA,
    # so no tenant's scope reads them back; the other roles' are counted here.)
    denied = audit_rows(tenant, action="denied")
    for role in ALL_ROLES[:-1]:
        mine = [e for e in denied if e.user_id == tenant.users[role].pk]
        assert len(mine) == asked // len(ALL_ROLES) * 3, role


# --- 3. filters ----------------------------------------------------------------------------------


@pytest.fixture
def classes(tenant, nw):  # noqa: F811
    """Pupils in two year groups and two areas of need at both schools of the partnership,
    enough in each that no count of them is small (so none is suppressed):

    - A: six year 3 pupils with SEMH needs (three at step 1, three at step 2) and five year 4
      pupils with a learning difficulty (cognition and learning), at step 3;
    - the sibling: five year 3 pupils with SEMH needs and six year 4 with speech and language
      needs (communication and interaction).
    """
    made = []
    for i in range(6):
        p = new_pupil(tenant.school, f"ClassA3x{i}", year=3, sen="K", need="SEMH")
        on_step(p, nw[1 if i < 3 else 2], in_autumn(9, 10))
        made.append(p)
    for i in range(5):
        p = new_pupil(tenant.school, f"ClassA4x{i}", year=4, sen="K", need="MLD")
        on_step(p, nw[3], in_autumn(9, 10))
        made.append(p)
    made += [new_pupil(tenant.sibling, f"ClassS3x{i}", year=3, sen="K", need="SEMH") for i in range(5)]
    made += [new_pupil(tenant.sibling, f"ClassS4x{i}", year=4, sen="K", need="SLCN") for i in range(6)]
    return made


def counted(t: Tenant, school, year: int | None = None, area: str = "") -> dict:
    """Pupils on roll at `school` by SEN status and by active step, straight from the tables."""

    def work():
        pupils = Pupil.objects.filter(school=school, is_active=True)
        if year is not None:
            pupils = pupils.filter(nc_year=year)
        if area:
            pupils = pupils.filter(in_area(area))
        ids = list(pupils.values_list("pk", flat=True))
        steps = dict(
            StepPlacement.objects.filter(pupil_id__in=ids, status="active").values_list(
                "pupil_id", "step__number"
            )
        )
        by_step: dict = {}
        for pk in ids:
            by_step[steps.get(pk)] = by_step.get(steps.get(pk), 0) + 1
        statuses = list(pupils.values_list("sen_status", flat=True))
        return {
            "on_roll": len(ids),
            "K": statuses.count("K"),
            "E": statuses.count("E"),
            "by_step": by_step,
        }

    return read(everywhere(t), work)


@pytest.mark.parametrize(
    ("year", "area"), [(3, ""), (4, ""), (None, "semh"), (None, "cognition"), (3, "semh")]
)
def test_filters_narrow_the_schools_figures(client, tenant, classes, year, area):
    as_role(client, tenant, "senco")
    params = {"year_group": "" if year is None else str(year), "area": area}
    api = figures(client, "school", tenant.school.pk, **params).json()
    want = counted(tenant, tenant.school, year, area)
    everyone = counted(tenant, tenant.school)
    assert want["on_roll"] < everyone["on_roll"]  # the filter does narrow
    assert api["filters"] == {"year_group": year, "area": area or None}
    assert api["pupils"]["on_roll"] == api["register"]["on_roll"] == want["on_roll"]
    register = {r["code"]: r["pupils"] for r in api["register"]["rows"]}
    assert register == {"K": want["K"], "E": want["E"], "N": want["on_roll"] - want["K"] - want["E"]}
    assert {s["step"]: s["pupils"] for s in api["pupils"]["by_step"]} == want["by_step"]


def register_cells(table: dict) -> dict[str, tuple[str, str]]:
    """{school: (SEN support, EHC plan)} from the "Pupils on the SEN register" table."""
    assert table["caption"] == "Pupils on the SEN register"
    k = table["headings"].index("SEN support (K)") + 1
    e = table["headings"].index("EHC plan (E)") + 1
    return {row[0]: (row[k], row[e]) for row in table["rows"]}


@pytest.mark.parametrize(
    ("role", "scope_type", "params"),
    [
        ("partnership_lead", "partnership", {"year_group": "3"}),
        ("la_officer", "local_authority", {"area": "semh"}),
        ("provision_lead", "provision", {"year_group": "4", "area": "cognition"}),
    ],
)
def test_only_a_schools_figures_take_filters(client, tenant, classes, role, scope_type, params):
    """Outside a school the figures are suppressed: a filtered table beside the unfiltered one
    would give small counts away by difference, so the filters are refused, not ignored."""
    as_role(client, tenant, role)
    ids = {
        "partnership": tenant.partnership.pk,
        "local_authority": tenant.la.pk,
        "provision": tenant.provision.pk,
    }
    period = TERM if scope_type == "provision" else LAST_LABEL
    plain = figures(client, scope_type, ids[scope_type], period=period)
    assert plain.status_code == 200
    assert plain.json()["filters"] == {"year_group": None, "area": None}
    refused = figures(client, scope_type, ids[scope_type], period=period, **params)
    assert refused.status_code == 400
    field = "year_group" if "year_group" in params else "area"
    assert refused.json() == {field: ["Only a school's figures take a year group or an area of need."]}
    # The page offers the period alone, and a year group in its address changes nothing.
    page = client.get("/?year_group=3&area=semh").content.decode()
    assert 'name="period"' in page and 'name="year_group"' not in page and 'name="area"' not in page


# --- 4. htmx -------------------------------------------------------------------------------------


def test_htmx_gets_the_figures_alone(client, world):
    t = world.t
    as_role(client, t, "senco")
    code, label = term_under_way()
    assert code != TERM  # so the default and the chosen term below are told apart
    full = client.get("/").content.decode()
    assert "<html" in full and 'id="today-heading"' in full and 'id="figures"' in full
    response = client.get("/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and "<body" not in body and 'id="figures"' not in body
    assert label in body and "The SEN register" in body
    assert 'id="today-heading"' not in body
    last = client.get("/", {"period": TERM}, HTTP_HX_REQUEST="true").content.decode()
    assert f"Autumn term {LAST_LABEL}" in last and AUTUMN[0].strftime("%-d %b %Y") in last


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"year_group": "99"}, "Year group: Choose a year group from the list."),
        ({"area": "happiness"}, "Area of need: Choose an area of need from the list."),
        ({"period": "2099-00-autumn"}, "Period: Choose one of the periods in the list."),
        ({"period": TERM, "year_group": "x"}, "Year group: Choose a year group from the list."),
    ],
)
def test_a_bad_filter_is_a_400_with_the_default_figures(client, world, params, message):
    t = world.t
    as_role(client, t, "senco")
    _code, label = term_under_way()
    for headers in ({"HTTP_HX_REQUEST": "true"}, {}):
        response = client.get("/", params, **headers)
        assert response.status_code == 400
        body = response.content.decode()
        assert message in body, body[:3000]
        assert f"these figures are of {label} for every pupil" in body
        on_roll = counted(t, t.school)["on_roll"]
        assert f"{on_roll} pupils on roll" in body


def test_a_filter_shows_what_it_narrowed_to(client, tenant, classes):
    as_role(client, tenant, "senco")
    body = client.get("/", {"period": TERM, "year_group": "3"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Year 3" in body
    assert f"{counted(tenant, tenant.school, 3)['on_roll']} pupils on roll" in body


# --- 5. query counts -----------------------------------------------------------------------------


def grow(w: World) -> None:
    """Much more of everything the dashboards count or list."""
    t, step = w.t, w.steps
    group = make_group(t.school, w.provision, "Nurture spring", *AUTUMN, term="autumn", weeks=12)
    enrolments, pupils = [], []
    for i in range(12):
        p = new_pupil(
            t.school, f"Grown{i}", year=3 + i % 4, sen="KE"[i % 2], need=("SEMH", "MLD", "ASD")[i % 3]
        )
        on_step(p, step[2 + i % 4], in_autumn(9, 10))
        pupils.append(p)
        if i % 3:
            open_plan(p, in_autumn(9, 11), TODAY - timedelta(days=i))
        enrolments.append(enrol(group, p, entry_score=10, exit_score=10 + i))
        observe(p, in_autumn(10, 1 + i), n=2)
        if i < 4:
            exception = "Agreed at an emergency annual review." if p.sen_status == "E" else ""
            place(
                t, p, start=in_autumn(10, 6), attendance=str(60 + i), suspensions=i, ehc_exception=exception
            )
    sessions(group, enrolments, [in_autumn(9, 17 + i) for i in range(5)])
    for i in range(4):
        running = make_group(
            t.school, w.provision, f"Club {i}", TODAY - timedelta(days=9), TODAY + timedelta(days=9)
        )
        enrol(running, pupils[i])
        with school_scope(t.school):
            GroupStaff.objects.create(school=t.school, group=running, user=t.users["practitioner"])
    for i in range(6):
        s = new_pupil(t.sibling, f"GrownS{i}", sen="K", need="SEMH")
        on_step(s, step[1 + i % 5], in_autumn(9, 9))
        if i < 3:
            place(t, s, start=in_autumn(9, 29), end=in_autumn(11, 20 + i), outcome="returned")
        else:
            refer(t, s, TODAY - timedelta(days=i))
    for i in range(4):
        record_import(t.school, t.users["senco"], created=i, updated=i, unchanged=i)


def test_query_counts_do_not_grow_with_the_data(client, world):
    t = world.t
    urls = {role: ["/"] for role in ROLES_WITH_DASHBOARDS}
    urls["senco"] += [f"{API}?scope_type=school&scope_id={t.school.pk}&period={TERM}"]
    urls["senco"] += [f"/?period={TERM}&year_group=3"]
    urls["provision_lead"] += [f"{API}?scope_type=provision&scope_id={t.provision.pk}&period={TERM}"]
    urls["partnership_lead"] += [
        f"{API}?scope_type=partnership&scope_id={t.partnership.pk}&period={LAST_LABEL}"
    ]
    urls["la_officer"] += [f"{API}?scope_type=local_authority&scope_id={t.la.pk}&period={LAST_LABEL}"]
    urls["la_officer"] += [
        f"/dashboard/partnership/{t.partnership.pk}/",
        f"/dashboard/provision/{t.provision.pk}/",
    ]
    urls["practitioner"] = ["/"]
    clients = {}
    for role in urls:
        clients[role] = as_role(client.__class__(), t, role)
        for url in urls[role]:
            assert clients[role].get(url).status_code == 200, (role, url)  # warm up

    def counts() -> dict[tuple[str, str], int]:
        out = {}
        for role, mine in urls.items():
            for url in mine:
                with CaptureQueriesContext(connection) as ctx:
                    response = clients[role].get(url)
                assert response.status_code == 200, (role, url)
                out[(role, url)] = len(ctx.captured_queries)
        return out

    before = counts()
    grow(world)
    assert counts() == before
    # The lists did grow: more to name on the SENCO's page and the provision lead's.
    senco = clients["senco"].get("/").content.decode()
    assert "Grown" in senco and "And 1" not in senco
    lead = clients["provision_lead"].get("/").content.decode()
    assert "Grown0" in lead and "Grown3" in lead  # placed there now, so named


# --- 6. today's work -----------------------------------------------------------------------------


def test_sencos_work_names_whom_to_act_on(client, world):
    t, named = world.t, world.named
    as_role(client, t, "senco")
    body = client.get("/").content.decode()
    overdue = named["overdue"]
    assert f"{overdue.first_name} {overdue.last_name}</a>: review <strong>20 days overdue</strong>" in body
    waiting = named["waiting"]
    assert f"{waiting.first_name} {waiting.last_name}</a>: review <strong>50 days overdue</strong>" in body
    assert "3 open plans overdue or due within two weeks: <strong>2 overdue</strong>" in body
    no_plan = named["no_plan"]
    assert f"Write a plan for {no_plan.first_name} {no_plan.last_name}" in body
    # At step 4 with an open plan, or at no step: not on the list.
    for pupil in (named["step4"], named["no_step"]):
        assert f"Write a plan for {pupil.first_name} {pupil.last_name}" not in body
    assert "3 added, 1 changed, 2 unchanged" in body
    assert "Record a session of Lunch club" in body and "Record a session of Maths club" in body
    assert "Record a session of Nurture autumn" not in body  # it is over
    assert "2 groups running now with no session recorded" in body

    with school_scope(t.school):
        session_record(request=None, group=world.running, held_on=TODAY, marks={})
    body = client.get("/").content.decode()
    assert "Record a session of Lunch club" not in body and "Record a session of Maths club" in body
    # Another school's pupils and groups are never on the list.
    for name in t.sibling_pupils:
        assert name.last_name not in body


def test_a_session_more_than_a_week_ago_still_leaves_the_group_to_record(client, world):
    """Eight days ago is too long; seven days ago is within the week."""
    t = world.t
    with school_scope(t.school):
        session_record(request=None, group=world.running, held_on=TODAY - timedelta(days=8), marks={})
    as_role(client, t, "senco")
    body = client.get("/").content.decode()
    eight = (TODAY - timedelta(days=8)).strftime("%-d %b")
    assert f"Record a session of Lunch club</a>: last recorded {eight}" in body
    with school_scope(t.school):
        session_record(request=None, group=world.running, held_on=TODAY - timedelta(days=7), marks={})
    assert "Record a session of Lunch club" not in client.get("/").content.decode()


def test_the_headteacher_sees_the_approvals_waiting(client, world):
    t = world.t
    as_role(client, t, "headteacher")
    body = client.get("/").content.decode()
    assert "1 move up a step waits for your approval" in body
    assert f"the oldest from {in_autumn(11, 3).strftime('%-d %b %Y')}" in body
    client.logout()
    as_role(client, t, "senco")
    assert "waits for your approval" not in client.get("/").content.decode()


def test_the_headteacher_sees_none_waiting_when_none_is(client, tenant):
    as_role(client, tenant, "headteacher")
    assert "No move up a step is waiting for your approval." in client.get("/").content.decode()


def test_a_practitioner_sees_only_their_own_groups_to_record(client, world):
    t = world.t
    as_role(client, t, "practitioner")
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Record a session of Lunch club" in body
    assert "1 of your groups running now has no session recorded" in body
    assert "Maths club" not in body
    # No pupil is named on their home page, and no figures are shown.
    for pupil in world.named.values():
        assert pupil.last_name not in body
    assert "The SEN register" not in body


# --- 7. audit ------------------------------------------------------------------------------------


def test_the_sencos_dashboard_audits_the_pupils_it_names(client, world):
    t = world.t
    as_role(client, t, "senco")
    client.get("/")

    def expected():
        on_roll = Pupil.objects.filter(school=t.school, is_active=True)
        due = SupportPlan.objects.filter(
            status="open", pupil__in=on_roll, review_due__lte=TODAY + timedelta(days=14)
        ).values_list("pupil_id", flat=True)
        stepped = StepPlacement.objects.filter(
            status="active", step__number__gte=2, pupil__in=on_roll
        ).values_list("pupil_id", flat=True)
        planned = SupportPlan.objects.filter(status="open").values_list("pupil_id", flat=True)
        return sorted(set(due) | (set(stepped) - set(planned)))

    want = read(everywhere(t), expected)
    assert want == sorted(
        p.pk for k, p in world.named.items() if k in ("overdue", "no_plan", "placed", "waiting")
    )
    [row] = audit_rows(t, action="list", object_type="pupils.pupil", detail__page="dashboard")
    assert row.detail["pupils"] == want and row.detail["shown"] == len(want)
    assert (row.user_id, row.school_id, row.membership_id) == (
        t.users["senco"].pk,
        t.school.pk,
        t.memberships["senco"].pk,
    )
    # The figures alone (htmx) name nobody, so they add no such row.
    client.get("/", {"period": TERM}, HTTP_HX_REQUEST="true")
    assert len(audit_rows(t, action="list", object_type="pupils.pupil", detail__page="dashboard")) == 1


def test_the_provision_leads_placements_list_is_audited(client, world):
    t = world.t
    as_role(client, t, "provision_lead")
    body = client.get("/").content.decode()
    placed = world.named["placed"]
    assert f"{placed.first_name} {placed.last_name}" in body  # placed there now: named
    assert f"Referral from {t.sibling.name}" in body

    def shown():
        return list(
            ProvisionPlacement.objects.filter(
                provision=t.provision, status__in=["active", "referred"]
            ).values_list("pk", "pupil_id", "school_id")
        )

    placements = read(everywhere(t), shown)
    assert len(placements) == 2
    rows = audit_rows(
        t, action="list", object_type="interventions.provisionplacement", detail__page="dashboard"
    )
    assert sorted((int(r.object_id), r.detail["pupil"], r.school_id) for r in rows) == sorted(placements)
    assert all(r.user_id == t.users["provision_lead"].pk for r in rows)
    assert {r.detail["pupil"] for r in rows if r.detail["named"]} == {placed.pk}


@pytest.mark.parametrize("role", [*ROLES_WITH_DASHBOARDS, "practitioner", "la_admin"])
def test_home_answers_for_every_role(client, tenant, role):
    sign_in(client, tenant.users[role])
    response = client.get("/")
    assert response.status_code == 200, response.content[:2000]


# --- found in review -------------------------------------------------------------------------------


def test_an_la_officers_partnership_page_hides_what_the_la_page_hides(client, tenant, classes):
    """An LA officer reads each partnership's schools twice: on the LA page (suppressed with
    every other partnership, linked) and on the partnership's own page. Both show the table
    as the linked decision made it, so the second cannot undo the first."""
    as_role(client, tenant, "la_officer")
    la = figures(client, "local_authority", tenant.la.pk, period=LAST_LABEL).json()
    mine = next(p for p in la["schools_by_partnership"] if p["partnership_id"] == tenant.partnership.pk)
    page = figures(client, "partnership", tenant.partnership.pk, period=LAST_LABEL).json()
    assert len(page["schools_now"]) == len(mine["tables"])
    for shown, linked in zip(page["schools_now"], mine["tables"], strict=True):
        for key in ("rows", "totals", "withheld", "suppressed"):
            assert shown[key] == linked[key], key


def test_other_area_includes_pupils_with_no_need_recorded(client, tenant):
    """Counted under "other or not yet assessed" on the tables, so filtered there too."""
    for i in range(3):
        new_pupil(tenant.school, f"Unassessed{i}", sen="K", need="")
    new_pupil(tenant.school, "OtherNeed", sen="K", need="OTH")
    as_role(client, tenant, "senco")
    every = figures(client, "school", tenant.school.pk).json()
    other = next(a for a in every["pupils"]["by_area"] if a["area"] == "other")
    narrowed = figures(client, "school", tenant.school.pk, area="other").json()
    assert narrowed["register"]["on_roll"] >= other["pupils"] >= 4
    assert sum(a["pupils"] for a in narrowed["pupils"]["by_area"]) == other["pupils"]
    listed = client.get("/pupils/?area=other").content.decode()
    assert all(f"Unassessed{i}" in listed for i in range(3)) and "OtherNeed" in listed


def test_a_history_restore_gets_the_whole_page(client, tenant):
    """Back or Forward after htmx's history cache misses asks for the whole page again."""
    as_role(client, tenant, "headteacher")
    response = client.get("/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200 and "<h1>" in body and 'name="period"' in body
