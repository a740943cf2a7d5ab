"""The school's termly report and the pupil's three reports, built end to end: a request row,
a synchronous build, a PDF and its JSON snapshot.

The key figures of each snapshot are checked against the same figures worked out here
straight from the rows (plain ORM queries and arithmetic by hand), never by calling the
selector the builder uses. The pupil's reports are also rendered to HTML and searched for
every other child's name, which must not be there.
"""

from __future__ import annotations

import json
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from graduated_response.models import PlanTarget, Step, StepPlacement, Strategy, SupportPlan
from graduated_response.placements import step_exit, step_move, step_place
from graduated_response.plans import StrategyInput, TargetInput, plan_create, plan_review_record
from interventions.models import (
    Attendance,
    Enrolment,
    InterventionGroup,
    Provision,
    ProvisionPlacement,
    Session,
)
from pupils.models import OnePageProfile, OutcomeRecord, Pupil
from pupils.services import outcome_record, profile_update, pupil_update, score_record
from reports.builders import build
from reports.models import ReportRequest
from reports.services import request_report
from reports.tasks import run_build
from schools.models import StaffRole, TermDates
from schools.tenancy import TenantScope
from schools.terms import academic_year_of
from tests.conftest import _scoped
from tests.factories import PupilFactory
from tests.test_placements import nw  # noqa: F401  (fixture)

TODAY = date.today()
# The last complete school year, so every date below is in the past whatever today is.
YEAR = academic_year_of(TODAY) - 1
YEAR_CODE = f"{YEAR}-{(YEAR + 1) % 100:02d}"
AUTUMN = (date(YEAR, 9, 3), date(YEAR, 12, 19))
HALF_TERM = (date(YEAR, 10, 27), date(YEAR, 10, 31))
SPRING = (date(YEAR + 1, 1, 6), date(YEAR + 1, 3, 27))
SUMMER = (date(YEAR + 1, 4, 14), date(YEAR + 1, 7, 17))
TA_RATE, SCHOOL_TA_RATE, TEACHER_RATE = Decimal("21.50"), Decimal("24.00"), Decimal("50.00")
PENCE = Decimal("0.01")


def pounds(value: Decimal) -> Decimal:
    return value.quantize(PENCE, rounding=ROUND_HALF_UP)


def school_days(first: date, last: date, breaks: tuple[date, date] | None = None) -> int:
    """Weekdays from `first` to `last`, leaving out a half-term: counted one day at a time."""
    n, day = 0, first
    while day <= last:
        if day.weekday() < 5 and not (breaks and breaks[0] <= day <= breaks[1]):
            n += 1
        day += timedelta(days=1)
    return n


@dataclass
class World:
    """One school's term, built through the services where they exist."""

    t: object
    steps: dict[int, Step]
    subject: Pupil = None
    others: list[Pupil] = field(default_factory=list)
    leaver: Pupil = None
    groups: dict[str, InterventionGroup] = field(default_factory=dict)

    def scope(self) -> TenantScope:
        return TenantScope.for_school(self.t.school.pk, la_id=self.t.la.pk)

    def scoped(self):
        return _scoped(self.scope())


def _group(school, provision, name, *, term, first, last, weeks, **delivery) -> InterventionGroup:
    return InterventionGroup.objects.create(
        school=school,
        provision=provision,
        name=name,
        academic_year=YEAR,
        term=term,
        starts_on=first,
        ends_on=last,
        weeks=Decimal(weeks),
        **delivery,
    )


def _enrol(group, pupil, **fields) -> Enrolment:
    fields.setdefault("starts_on", group.starts_on)
    return Enrolment.objects.create(school_id=group.school_id, group=group, pupil=pupil, **fields)


@pytest.fixture
def world(tenant, nw, settings, tmp_path) -> World:  # noqa: F811
    settings.MEDIA_ROOT = tmp_path
    t = tenant
    w = World(t=t, steps=nw)
    for term, (first, last), breaks in (
        ("autumn", AUTUMN, HALF_TERM),
        ("spring", SPRING, None),
        ("summer", SUMMER, None),
    ):
        TermDates.objects.create(
            local_authority=t.la,
            academic_year=YEAR,
            term=term,
            starts_on=first,
            ends_on=last,
            half_term_starts_on=breaks[0] if breaks else None,
            half_term_ends_on=breaks[1] if breaks else None,
        )
    StaffRole.objects.create(local_authority=t.la, kind="ta", hourly_cost=TA_RATE)
    StaffRole.objects.create(local_authority=t.la, school=t.school, kind="ta", hourly_cost=SCHOOL_TA_RATE)
    StaffRole.objects.create(local_authority=t.la, kind="teacher", hourly_cost=TEACHER_RATE)

    w.subject = PupilFactory(school=t.school, first_name="Ottoline", last_name="Lovelock", nc_year=6)
    w.leaver = PupilFactory(school=t.school, first_name="Lenny", last_name="Leftearly")
    w.others = list(t.pupils)
    p0, p1, p2 = w.others
    step = w.steps
    with w.scoped():
        pupil_update(
            request=None,
            pupil=w.subject,
            data={"sen_status": "K", "primary_need": "SEMH", "secondary_need": "SLCN"},
            sen_change_date=date(YEAR, 5, 20),
        )
        Pupil.objects.filter(pk=p0.pk).update(sen_status="E", primary_need="ASD")
        Pupil.objects.filter(pk=p1.pk).update(sen_status="K", primary_need="SEMH")
        Pupil.objects.filter(pk=w.leaver.pk).update(sen_status="K", primary_need="MLD")
        for p in (p0, p1, w.leaver):
            p.refresh_from_db()

        # Steps. The subject: step 1, a plan there closed at review, then up to step 2 in
        # the autumn term with a new plan. p0 starts at step 2 in the autumn; p1 leaves the
        # framework in the autumn; p2 moves down in the spring (outside the term); the
        # leaver asks to move up early (an override still awaiting approval).
        step_place(request=None, pupil=w.subject, step=step[1], reason="Concerns", placed_on=date(YEAR, 6, 1))
        first_plan = plan_create(
            request=None,
            pupil=w.subject,
            data={"title": "Settling in class"},
            starts_on=date(YEAR, 6, 2),
            review_due=date(YEAR, 7, 10),
            targets=[TargetInput("Joins the carpet at the start", "4 days of 5")],
        )
        plan_review_record(
            request=None,
            plan=first_plan,
            reviewed_on=date(YEAR, 9, 20),
            decision="step_up",
            outcomes={target.pk: ("partly", "") for target in PlanTarget.objects.filter(plan=first_plan)},
        )
        step_move(
            request=None, pupil=w.subject, to_step=step[2], reason="Review", placed_on=date(YEAR, 10, 1)
        )
        plan_create(
            request=None,
            pupil=w.subject,
            data={
                "title": "Calmer mornings",
                "key_adult": "Ms Rivers",
                "concerns": "Leaves class when noisy",
            },
            starts_on=date(YEAR, 10, 2),
            review_due=TODAY + timedelta(days=5),
            targets=[
                TargetInput("Uses the calm card to ask for a break", "3 times a week for 2 weeks"),
                TargetInput("Stays in class for the first lesson", "4 days of 5"),
            ],
            strategies=[
                StrategyInput(strategy=Strategy.objects.filter(step=step[2]).order_by("order").first())
            ],
        )
        step_place(request=None, pupil=p0, step=step[2], reason="New concern", placed_on=date(YEAR, 9, 15))
        plan_create(
            request=None,
            pupil=p0,
            data={"title": "Playtimes"},
            starts_on=date(YEAR, 9, 16),
            review_due=date(YEAR, 11, 1),
            targets=[TargetInput("Plays a game with a partner", "3 playtimes a week")],
        )
        step_place(request=None, pupil=p1, step=step[1], reason="Concerns", placed_on=date(YEAR, 5, 1))
        step_exit(request=None, pupil=p1, reason="Needs met", placed_on=date(YEAR, 11, 3))
        step_place(request=None, pupil=p2, step=step[2], reason="Concerns", placed_on=date(YEAR, 5, 1))
        plan_create(
            request=None,
            pupil=p2,
            data={"title": "Reading with confidence"},
            starts_on=date(YEAR, 5, 2),
            review_due=date(YEAR + 1, 1, 10),
            targets=[TargetInput("Reads aloud to an adult", "Twice a week")],
        )
        step_move(request=None, pupil=p2, to_step=step[1], reason="Review", placed_on=date(YEAR + 1, 2, 2))
        step_place(request=None, pupil=w.leaver, step=step[2], reason="Concerns", placed_on=date(YEAR, 5, 1))
        plan_create(
            request=None,
            pupil=w.leaver,
            data={"title": "Before leaving"},
            starts_on=date(YEAR, 5, 2),
            review_due=date(YEAR, 6, 1),
            targets=[TargetInput("Attends every day", "95% attendance")],
        )
        step_move(
            request=None,
            pupil=w.leaver,
            to_step=step[3],
            reason="Escalating",
            placed_on=date(YEAR, 10, 10),
            override_justification="Risk to others",
        )
        Pupil.objects.filter(pk=w.leaver.pk).update(is_active=False, left_on=date(YEAR + 1, 3, 1))

        # Interventions: a nurture group in the autumn term, reading all year (a share of it
        # falls in the autumn), a calm club in the spring only.
        school = t.school
        nurture = Provision.objects.create(
            school=school,
            name="Nurture group",
            area_of_need="semh",
            step_number=2,
            measure="boxall_developmental",
        )
        reading = Provision.objects.create(
            school=school,
            name="Reading catch-up",
            area_of_need="cognition",
            step_number=3,
            measure="reading_age_months",
        )
        calm = Provision.objects.create(
            school=school, name="Calm club", area_of_need="semh", step_number=2, measure="sdq_total"
        )
        g = w.groups
        g["nurture"] = _group(
            school,
            nurture,
            "Nurture autumn",
            term="autumn",
            first=AUTUMN[0],
            last=AUTUMN[1],
            weeks=12,
            staff_kind="ta",
            staff_count=2,
            group_size=6,
            session_minutes=60,
            sessions_per_week=Decimal(2),
        )
        g["reading"] = _group(
            school,
            reading,
            "Reading all year",
            term="",
            first=AUTUMN[0],
            last=SUMMER[1],
            weeks=36,
            staff_kind="teacher",
            staff_count=1,
            group_size=2,
            session_minutes=30,
            sessions_per_week=Decimal(1),
        )
        g["calm"] = _group(
            school,
            calm,
            "Calm club spring",
            term="spring",
            first=SPRING[0],
            last=SPRING[1],
            weeks=10,
            staff_kind="ta",
            staff_count=1,
            group_size=4,
            session_minutes=45,
            sessions_per_week=Decimal(1),
        )
        mine = _enrol(g["nurture"], w.subject, entry_score=40, exit_score=52)
        theirs = _enrol(g["nurture"], p0, entry_score=30, exit_score=33)
        _enrol(g["nurture"], p1, entry_score=20, exit_score=18)
        _enrol(g["nurture"], p2, starts_on=date(YEAR, 10, 6))
        _enrol(g["reading"], w.subject, entry_score=100, exit_score=106)
        _enrol(g["reading"], p2, entry_score=90)
        _enrol(g["calm"], p0, entry_score=20, exit_score=14)
        _enrol(g["calm"], w.leaver, outcome_rating=1)
        for held_on, present in ((date(YEAR, 9, 10), True), (date(YEAR, 9, 17), False)):
            session = Session.objects.create(school=school, group=g["nurture"], held_on=held_on)
            Attendance.objects.create(school=school, session=session, enrolment=mine, present=present)
            Attendance.objects.create(school=school, session=session, enrolment=theirs, present=True)

        profile_update(
            request=None,
            pupil=w.subject,
            data={
                "strengths": "Kind to younger children",
                "what_helps": "A calm start to the day",
                "what_does_not_help": "Sudden loud noises",
                "pupil_voice": "I like building things",
                "parent_voice": "Mornings are hard at home",
            },
        )
        for term, pct, suspensions, days in (("autumn", "91.5", 1, "0.5"), ("spring", "95", 0, "0")):
            outcome_record(
                request=None,
                pupil=w.subject,
                data={
                    "academic_year": YEAR,
                    "term": term,
                    "attendance_pct": Decimal(pct),
                    "suspensions": suspensions,
                    "suspension_days": Decimal(days),
                },
            )
        score_record(
            request=None,
            pupil=w.subject,
            data={"measure": "sdq_total", "assessed_on": date(YEAR, 9, 10), "score": Decimal(18)},
        )
        ProvisionPlacement.objects.create(
            school=school,
            pupil=w.subject,
            provision=t.provision,
            status=ProvisionPlacement.Status.ENDED,
            referred_on=date(YEAR, 1, 10),
            referral_reason="Strategies at steps 1 and 2 tried",
            consent_on=date(YEAR, 1, 10),
            consent_note="Mother, signed form",
            pattern="part_time",
            days_per_week=Decimal(2),
            starts_on=date(YEAR, 2, 2),
            ends_on=date(YEAR, 4, 2),
            exit_outcome="returned",
            attendance_percent=Decimal("93.0"),
        )
    # Another school of the same partnership runs a group of its own: never in this report.
    with _scoped(TenantScope.for_school(t.sibling.pk, la_id=t.la.pk)):
        theirs = Provision.objects.create(school=t.sibling, name="Sibling lego club", step_number=2)
        group = _group(
            t.sibling,
            theirs,
            "Lego",
            term="autumn",
            first=AUTUMN[0],
            last=AUTUMN[1],
            weeks=12,
            staff_kind="ta",
        )
        _enrol(group, t.sibling_pupils[0])
    return w


def build_one(w: World, kind: str, scope_type: str, scope_id: int, period: str = "") -> tuple:
    """Ask for a report, build it here and now, and read back the row, its snapshot and PDF."""
    scope = w.scope()
    with w.scoped():
        row = request_report(
            None, kind=kind, scope_type=scope_type, scope_id=scope_id, period=period, queue=False
        )
    assert run_build(row.pk, scope) == "done"
    with w.scoped():
        row = ReportRequest.objects.get(pk=row.pk)
    assert row.status == ReportRequest.Status.DONE, row.error
    with row.pdf.open("rb") as f:
        pdf = f.read()
    with row.snapshot.open("rb") as f:
        snapshot = json.loads(f.read())
    assert pdf.startswith(b"%PDF") and row.pages >= 1
    return row, snapshot, pdf


def pdf_strings(pdf: bytes) -> bytes:
    """Every compressed stream of the PDF, inflated: its outline (a bookmark per heading) and
    metadata read as plain text there; the page text is glyph codes, so the HTML is searched
    for that instead."""
    inflated = []
    for match in re.finditer(rb"stream\r?\n", pdf):
        try:
            inflated.append(zlib.decompressobj().decompress(pdf[match.end() :]))
        except zlib.error:
            continue
    return b"\n".join(inflated)


def html_of(w: World, row: ReportRequest) -> str:
    """The HTML the PDF is made from (WeasyPrint compresses the PDF's text)."""
    with w.scoped():
        figures, template, context = build(row)
    return render_to_string(template, {**context, "figures": figures, "report": row})


def other_children(w: World, subject: Pupil) -> list[str]:
    with w.scoped():
        pupils = list(Pupil.objects.exclude(pk=subject.pk))
    with _scoped(TenantScope.for_school(w.t.sibling.pk)):
        pupils += list(Pupil.objects.all())
    names = {n for p in pupils for n in (p.first_name, p.last_name, p.preferred_name) if n}
    assert len(names) >= 10
    return sorted(names)


def senco_name(w: World) -> str:
    return w.t.users["senco"].get_full_name()


def keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


# --- the school's termly report --------------------------------------------------------------


def test_school_termly_figures_match_the_records(world):
    w, t = world, world.t
    _row, snap, _ = build_one(w, "school_termly", "school", t.school.pk, f"{YEAR_CODE}-autumn")
    assert (
        snap["period"]["first"] == AUTUMN[0].isoformat() and snap["period"]["last"] == AUTUMN[1].isoformat()
    )

    # Cost: weekly staff hours × the school's (else the LA's) rate × weeks; a whole-year group
    # counts the share of its school days that fall in the autumn.
    autumn_days = school_days(*AUTUMN, HALF_TERM)
    year_days = autumn_days + school_days(*SPRING) + school_days(*SUMMER)
    with w.scoped():
        g = {k: InterventionGroup.objects.get(pk=v.pk) for k, v in w.groups.items()}
    nurture = g["nurture"].sessions_per_week * g["nurture"].session_minutes / 60 * g["nurture"].staff_count
    nurture_cost = nurture * SCHOOL_TA_RATE * g["nurture"].weeks
    reading = g["reading"].sessions_per_week * g["reading"].session_minutes / 60 * g["reading"].staff_count
    reading_cost = reading * TEACHER_RATE * g["reading"].weeks * autumn_days / year_days
    assert nurture_cost == Decimal(1152)
    pm = snap["provision_map"]
    rows = {r["name"]: r for r in pm["rows"]}
    assert set(rows) == {"Nurture group", "Reading catch-up"}  # not the spring club, not the sibling's
    assert Decimal(rows["Nurture group"]["cost"]) == pounds(nurture_cost)
    assert Decimal(rows["Reading catch-up"]["cost"]) == pounds(reading_cost)
    assert Decimal(pm["total"]["cost"]) == pounds(nurture_cost + reading_cost)
    with w.scoped():
        in_term = set(
            Enrolment.objects.filter(group__in=[g["nurture"], g["reading"]]).values_list(
                "pupil_id", flat=True
            )
        )
    assert pm["total"]["pupils"] == len(in_term) == 4
    assert rows["Nurture group"]["pupils"] == 4 and rows["Reading catch-up"]["pupils"] == 2

    # Pupils on roll by their active step, and the SEN register by need.
    with w.scoped():
        on_roll = list(Pupil.objects.filter(school=t.school, is_active=True))
        active = dict(
            StepPlacement.objects.filter(status="active", pupil__in=on_roll).values_list(
                "pupil_id", "step__number"
            )
        )
    by_step = Counter(active.get(p.pk) for p in on_roll)
    assert {s["step"]: s["pupils"] for s in snap["pupils"]["by_step"]} == dict(by_step)
    assert by_step == Counter({2: 2, 1: 1, None: 1})
    assert snap["pupils"]["on_roll"] == len(on_roll) == 4
    by_need = Counter((p.primary_need, p.sen_status) for p in on_roll if p.sen_status != "N")
    shown = Counter()
    for n in snap["pupils"]["by_need"]:
        shown[(n["need"], "E")] += n["ehc_plan"]
        shown[(n["need"], "K")] += n["sen_support"]
    assert +shown == by_need
    assert snap["pupils"]["ehc_plan"] == 1 and snap["pupils"]["sen_support"] == 2

    # Step changes dated in the autumn term; a pending override is counted apart.
    with w.scoped():
        in_term = StepPlacement.objects.filter(school=t.school, placed_on__range=AUTUMN)
        kinds = Counter(in_term.exclude(status="pending_approval").values_list("kind", flat=True))
        pending = in_term.filter(status="pending_approval").count()
    assert {k["kind"]: k["count"] for k in snap["movements"]["by_kind"] if k["count"]} == dict(kinds)
    assert kinds == Counter({"start": 1, "up": 1, "exit": 1})
    assert snap["movements"]["awaiting_approval"] == pending == 1
    assert snap["movements"]["total"] == 3

    # Impact over the school year: exit − entry (entry − exit for SDQ, where a fall is progress).
    with w.scoped():
        nurture_scores = list(
            Enrolment.objects.filter(group=g["nurture"], exit_score__isnull=False).values_list(
                "entry_score", "exit_score"
            )
        )
        calm_scores = list(
            Enrolment.objects.filter(group=g["calm"], exit_score__isnull=False).values_list(
                "entry_score", "exit_score"
            )
        )
    impact = {r["name"]: r for r in snap["impact"]["rows"]}
    gains = [b - a for a, b in nurture_scores]
    assert Decimal(impact["Nurture group"]["average_improvement"]) == pounds(sum(gains) / len(gains))
    assert impact["Nurture group"]["improved"] == sum(1 for x in gains if x > 0) == 2
    assert impact["Calm club"]["average_improvement"] == str(pounds(sum(a - b for a, b in calm_scores)))
    assert impact["Calm club"]["improved"] == 2  # the score that fell, and the rating of +1

    # Open plans of pupils on roll whose review date has passed (the leaver's does not count).
    with w.scoped():
        overdue = SupportPlan.objects.filter(
            school=t.school, status="open", review_due__lt=TODAY, pupil__is_active=True
        ).count()
        soon = SupportPlan.objects.filter(
            school=t.school,
            status="open",
            review_due__gte=TODAY,
            review_due__lte=TODAY + timedelta(days=14),
            pupil__is_active=True,
        ).count()
    reviews = snap["reviews"]
    assert reviews["overdue"] == overdue == 2
    assert reviews["due_within_14_days"] == soon == 1
    assert sum(b["plans"] for b in reviews["overdue_by"]) == overdue


def test_school_termly_names_no_pupil_and_lays_out_its_tables(world):
    w, t = world, world.t
    row, _, pdf = build_one(w, "school_termly", "school", t.school.pk, f"{YEAR_CODE}-autumn")
    strings = pdf_strings(pdf)
    for heading in ("School provision report for the term", "Costed provision map", "Plan reviews overdue"):
        assert heading.encode() in strings
    assert t.school.name.encode() in strings
    html = html_of(w, row)
    for name in other_children(w, Pupil(pk=0)):
        assert name not in html
    assert "Sibling lego club" not in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"' in html
    assert html.count("<caption>") >= 8 and 'scope="col"' in html and 'scope="row"' in html
    assert 'href="#provision-map"' in html and 'id="provision-map"' in html


def test_school_termly_costs_a_fixed_number_of_queries(world):
    """More groups, pupils and plans do not add queries to the build."""
    w, t = world, world.t
    with w.scoped():
        row = request_report(
            None,
            kind="school_termly",
            scope_type="school",
            scope_id=t.school.pk,
            period=f"{YEAR_CODE}-autumn",
            queue=False,
        )

    def queries() -> int:
        with w.scoped(), CaptureQueriesContext(connection) as ctx:
            build(row)
        return len(ctx.captured_queries)

    before = queries()
    with w.scoped():
        provision = Provision.objects.create(
            school=t.school, name="Extra", step_number=4, area_of_need="semh"
        )
        for i in range(3):
            group = _group(
                t.school,
                provision,
                f"Extra {i}",
                term="autumn",
                first=AUTUMN[0],
                last=AUTUMN[1],
                weeks=10,
                staff_kind="hlta",  # no rate: an unknown cost is shown as such
            )
            for _ in range(3):
                pupil = PupilFactory(school=t.school, sen_status="K", primary_need="SLD")
                step_place(
                    request=None, pupil=pupil, step=w.steps[4], reason="x", placed_on=date(YEAR, 9, 20)
                )
                plan_create(
                    request=None,
                    pupil=pupil,
                    data={"title": "More"},
                    starts_on=date(YEAR, 9, 21),
                    review_due=date(YEAR, 10, 21),
                    targets=[TargetInput("A", "B")],
                )
                _enrol(group, pupil, entry_score=1, exit_score=2)
    assert queries() == before


# --- the pupil's reports ---------------------------------------------------------------------


def test_pupil_provision_map_is_for_parents_without_costs_or_other_children(world):
    w = world
    row, snap, _ = build_one(w, "pupil_provision_map", "pupil", w.subject.pk, YEAR_CODE)
    with w.scoped():
        mine = list(
            Enrolment.objects.filter(pupil=w.subject, group__academic_year=YEAR).select_related(
                "group__provision"
            )
        )
        came = Attendance.objects.filter(enrolment__pupil=w.subject, enrolment__group=w.groups["nurture"])
        present, recorded = came.filter(present=True).count(), came.count()
    assert len(snap["help"]) == len(mine) == 2
    assert {h["what"] for h in snap["help"]} == {e.group.provision.name for e in mine}
    nurture = next(h for h in snap["help"] if h["what"] == "Nurture group")
    assert nurture["attendance"] == f"Came to {present} of the {recorded} sessions so far."
    assert nurture["how_often"].startswith("twice a week, 1 hour each time")
    assert [p["title"] for p in snap["working_on"]] == ["Calmer mornings", "Settling in class"]
    assert not {k for k in keys(snap) if "cost" in k or "rate" in k}
    html = html_of(w, row)
    assert "£" not in html and "Ottoline Lovelock" in html
    for name in other_children(w, w.subject):
        assert name not in html, name
    assert senco_name(w) in html


def test_pupil_profile_shows_the_profile_needs_and_step(world):
    w = world
    row, snap, _ = build_one(w, "pupil_profile", "pupil", w.subject.pk)
    with w.scoped():
        profile = OnePageProfile.objects.get(pupil=w.subject)
        step = StepPlacement.objects.get(pupil=w.subject, status="active").step
        pupil = Pupil.objects.get(pk=w.subject.pk)
    sections = {s["field"]: s["text"] for s in snap["profile"]["sections"]}
    assert sections == {
        f: getattr(profile, f)
        for f in ("strengths", "what_helps", "what_does_not_help", "pupil_voice", "parent_voice")
    }
    assert snap["step"]["number"] == step.number == 2 and snap["step"]["label"] == step.tier_label
    assert (snap["sen"]["sen_status"], snap["sen"]["primary_need"], snap["sen"]["secondary_need"]) == (
        pupil.sen_status,
        pupil.primary_need,
        pupil.secondary_need,
    )
    html = html_of(w, row)
    assert "What I want people to know" in html and "I like building things" in html
    for name in other_children(w, w.subject):
        assert name not in html, name


def test_transition_record_carries_the_history_a_receiving_school_needs(world):
    w = world
    row, snap, pdf = build_one(w, "transition_record", "pupil", w.subject.pk)
    strings = pdf_strings(pdf)
    assert b"Ottoline Lovelock" in strings and b"Planning the move together" in strings
    with w.scoped():
        history = StepPlacement.objects.filter(pupil=w.subject).count()
        enrolments = Enrolment.objects.filter(pupil=w.subject).count()
        outcomes = list(OutcomeRecord.objects.filter(pupil=w.subject).order_by("term"))
        open_targets = list(
            PlanTarget.objects.filter(plan__pupil=w.subject, plan__status="open")
            .order_by("order")
            .values_list("description", flat=True)
        )
        placements = ProvisionPlacement.objects.filter(pupil=w.subject).count()
    assert len(snap["step_history"]) == history == 2
    assert [(h["kind"], h["to_step"]) for h in snap["step_history"]] == [
        ("First placement", 1),
        ("Moved up", 2),
    ]
    assert snap["step"]["number"] == 2
    assert len(snap["interventions"]) == enrolments == 2
    nurture = next(i for i in snap["interventions"] if i["provision"] == "Nurture group")
    assert nurture["improvement"] == "12.00" and "(12 better)" in nurture["result"]
    assert [(o["term"], Decimal(o["attendance_pct"])) for o in snap["outcomes"]] == [
        (o.get_term_display(), o.attendance_pct)
        for o in outcomes  # autumn sorts before spring
    ]
    assert [t["description"] for p in snap["current_plans"] for t in p["targets"]] == open_targets
    assert [p["title"] for p in snap["past_plans"]] == ["Settling in class"]
    assert len(snap["placements"]) == placements == 1
    assert snap["placements"][0]["exit_outcome"] == "Returned to the home school"
    assert [e["status"] for e in snap["sen_history"]] == ["SEN support"]
    assert {c["name"] for c in snap["contacts"]} >= {senco_name(w), "Ms Rivers"}
    assert snap["pupil"]["upn"] == w.subject.upn
    assert not {k for k in keys(snap) if "cost" in k}
    html = html_of(w, row)
    assert "Ottoline Lovelock" in html and "Planning the move together" in html
    for name in other_children(w, w.subject):
        assert name not in html, name
