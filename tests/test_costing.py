"""The cost and impact arithmetic against figures worked by hand, most of them from the costed
provision map in appendix 3c of the Kent secondary provision-mapping guide (Year 7: SENCO and
teachers at £50 an hour, TAs and learning mentors at £20)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from interventions import costing
from interventions.models import Attendance, Enrolment, InterventionGroup, Provision, Session
from pupils.models import Pupil
from schools.models import LocalAuthority, StaffRole, TermDates
from schools.tenancy import TenantScope, tenant_scope
from tests.factories import PupilFactory

YEAR = 2025
AUTUMN_START = dt.date(2025, 9, 1)
SUMMER_END = dt.date(2026, 7, 17)


class Build:
    """Rows of one school made straight through the ORM, inside the school's scope."""

    def __init__(self, tenant) -> None:
        self.tenant = tenant
        self.school = tenant.school

    def scope(self):
        return tenant_scope(TenantScope.for_school(self.school.pk, la_id=self.tenant.la.pk))

    def rate(self, kind: str, cost: str, *, school: bool = False) -> StaffRole:
        return StaffRole.objects.create(
            local_authority=self.tenant.la,
            school=self.school if school else None,
            kind=kind,
            hourly_cost=Decimal(cost),
        )

    def kent_rates(self) -> None:
        for kind, cost in (("senco", "50"), ("teacher", "50"), ("ta", "20"), ("mentor", "20"), ("lsa", "20")):
            self.rate(kind, cost)

    def provision(self, name: str, **fields) -> Provision:
        with transaction.atomic(), self.scope():
            return Provision.objects.create(school=self.school, name=name, **fields)

    def group(
        self,
        provision: Provision,
        *,
        weeks: str | int = 38,
        staff_kind: str = "ta",
        name: str = "",
        academic_year: int = YEAR,
        term: str = "",
        starts_on: dt.date = AUTUMN_START,
        ends_on: dt.date = SUMMER_END,
        **delivery,
    ) -> InterventionGroup:
        with transaction.atomic(), self.scope():
            return InterventionGroup.objects.create(
                school=self.school,
                provision=provision,
                name=name or f"{provision.name} group",
                staff_kind=staff_kind,
                academic_year=academic_year,
                term=term,
                starts_on=starts_on,
                ends_on=ends_on,
                weeks=Decimal(weeks),
                **delivery,
            )

    def groups(self, provision: Provision, n: int, **kwargs) -> list[InterventionGroup]:
        return [self.group(provision, name=f"{provision.name} {i + 1}", **kwargs) for i in range(n)]

    def pupil(self, **fields) -> Pupil:
        return PupilFactory(school=self.school, **fields)

    def enrol(self, group: InterventionGroup, pupil: Pupil, **fields) -> Enrolment:
        fields.setdefault("starts_on", group.starts_on)
        with transaction.atomic(), self.scope():
            return Enrolment.objects.create(school=self.school, group=group, pupil=pupil, **fields)

    def attendance(self, group: InterventionGroup, held_on: dt.date, present: dict[Enrolment, bool]) -> None:
        with transaction.atomic(), self.scope():
            session = Session.objects.create(school=self.school, group=group, held_on=held_on)
            for enrolment, came in present.items():
                Attendance.objects.create(
                    school=self.school, session=session, enrolment=enrolment, present=came
                )

    def term_dates(self, year: int = YEAR) -> None:
        """Whole weeks and no half-terms, so school days are easy to count by hand:
        autumn 16 weeks (80 days), spring 12 (60), summer 14 (70)."""
        for term, start, end in (
            ("autumn", dt.date(year, 9, 1), dt.date(year, 12, 19)),
            ("spring", dt.date(year + 1, 1, 5), dt.date(year + 1, 3, 27)),
            ("summer", dt.date(year + 1, 4, 13), dt.date(year + 1, 7, 17)),
        ):
            TermDates.objects.create(
                local_authority=self.tenant.la, academic_year=year, term=term, starts_on=start, ends_on=end
            )

    def map(self, **kwargs) -> costing.ProvisionMap:
        kwargs.setdefault("year", YEAR)
        with transaction.atomic(), self.scope():
            return costing.provision_map(self.school, **kwargs)

    def what_works(self, **kwargs) -> list[costing.ImpactRow]:
        with transaction.atomic(), self.scope():
            return costing.what_works(self.school, **kwargs)

    def pupil_map(self, pupil: Pupil, year: int = YEAR) -> costing.PupilProvisionMap:
        with transaction.atomic(), self.scope():
            return costing.pupil_provision_map(pupil, academic_year=year)


@pytest.fixture
def build(tenant) -> Build:
    return Build(tenant)


def row_named(pmap: costing.ProvisionMap, name: str) -> costing.MapRow:
    [row] = [r for r in pmap.rows if r.name == name]
    return row


def pounds(value) -> str:
    return str(costing.money(value))


# --- appendix 3c, worked by hand -------------------------------------------------------------


def test_individual_literacy_four_groups_of_one_hour_for_38_weeks_at_50_is_7600(build):
    build.kent_rates()
    literacy = build.provision("Individual literacy programmes", step_number=3, area_of_need="cognition")
    for group in build.groups(literacy, 4, weeks=38, staff_kind="senco", group_size=1):
        build.enrol(group, build.pupil())
    row = row_named(build.map(), "Individual literacy programmes")
    assert pounds(row.cost) == "7600.00"
    assert row.ratio == "1:1"
    assert row.weekly_time == "4 × 1 hour"
    assert row.weekly_hours == 4
    assert row.weeks == "38"
    assert row.staff_involved == "SENCO"
    assert (row.pupils, pounds(row.per_pupil_cost)) == (4, "1900.00")


def test_literacy_workshops_cost_1500_for_the_senco_beside_600_for_the_ta(build):
    build.kent_rates()
    workshops = build.provision("Literacy workshops", step_number=2, area_of_need="cognition")
    for kind in ("senco", "ta"):
        build.groups(workshops, 2, weeks=10, staff_kind=kind, session_minutes=90, group_size=10)
    row = row_named(build.map(), "Literacy workshops")
    lines = {line.kind: line for line in row.staff}
    assert pounds(lines["senco"].cost) == "1500.00"
    assert pounds(lines["ta"].cost) == "600.00"
    assert lines["senco"].weekly_time == lines["ta"].weekly_time == "2 × 1.5 hours"
    assert row.staff_involved == "Teaching assistant, SENCO"
    assert pounds(row.cost) == "2100.00"
    assert row.pupils == 0 and row.per_pupil_cost is None


def test_besd_support_for_14_pupils_an_hour_a_week_with_a_learning_mentor_is_10640(build):
    build.kent_rates()
    besd = build.provision("BESD support", step_number=3, area_of_need="semh")
    build.groups(besd, 14, weeks=38, staff_kind="mentor", group_size=1)
    row = row_named(build.map(), "BESD support")
    assert pounds(row.cost) == "10640.00"
    assert row.weekly_time == "14 × 1 hour"


def test_the_rest_of_the_year_7_map_and_its_totals(build):
    build.kent_rates()
    spelling = build.provision("Spelling workshops", step_number=2, area_of_need="cognition")
    build.groups(spelling, 4, weeks=20, staff_kind="senco", group_size=6)
    booster = build.provision("Literacy booster class", step_number=2, area_of_need="cognition")
    build.groups(booster, 4, weeks=10, staff_kind="teacher", session_minutes=120, group_size=16)
    numeracy = build.provision("Numeracy set 5", step_number=2, area_of_need="cognition")
    build.group(numeracy, weeks=38, staff_kind="teacher", sessions_per_week=4, staff_count=1, group_size=15)
    build.group(numeracy, weeks=38, staff_kind="ta", sessions_per_week=4, group_size=15)
    transition = build.provision("Individual transition programmes", step_number=3, area_of_need="semh")
    build.groups(transition, 4, weeks=10, staff_kind="mentor", session_minutes=120)
    pmap = build.map()
    assert pounds(row_named(pmap, "Spelling workshops").cost) == "4000.00"
    assert pounds(row_named(pmap, "Literacy booster class").cost) == "4000.00"
    numeracy_row = row_named(pmap, "Numeracy set 5")
    assert {line.kind: pounds(line.cost) for line in numeracy_row.staff} == {
        "teacher": "7600.00",
        "ta": "3040.00",
    }
    assert numeracy_row.ratio == "1:15"
    assert pounds(row_named(pmap, "Individual transition programmes").cost) == "1600.00"
    # Subtotals by wave/step and by area of need, and the total.
    assert {t.label: pounds(t.cost) for t in pmap.by_step} == {
        "Wave or step 2": "18640.00",
        "Wave or step 3": "1600.00",
    }
    assert {t.key: pounds(t.cost) for t in pmap.by_area} == {"cognition": "18640.00", "semh": "1600.00"}
    assert pounds(pmap.total.cost) == "20240.00" and pmap.total.complete
    assert pmap.total.groups == 14


def test_ratio_text_lists_each_ratio_once(build):
    build.kent_rates()
    mixed = build.provision("Reading groups")
    build.group(mixed, group_size=6)
    build.group(mixed, group_size=6)
    build.group(mixed, staff_count=2, group_size=10)
    row = row_named(build.map(), "Reading groups")
    assert row.ratio == "1:6, 2:10"
    assert row.weekly_time == "2 × 1 hour, 1 × 2 hours"  # two staff for an hour is two staff hours


def test_weekly_time_and_hours_in_words():
    assert costing.weekly_time_text([Decimal(2)]) == "2 hours"
    assert costing.weekly_time_text([Decimal("0.75")] * 3) == "3 × 45 minutes"
    assert costing.hours_text(Decimal("1.5")) == "1.5 hours"
    assert costing.weeks_text([Decimal(10), Decimal(20), Decimal(10)]) == "10–20"


# --- rates ------------------------------------------------------------------------------------


def test_a_schools_own_rate_beats_the_las(build, other):
    build.rate("ta", "20")
    build.rate("ta", "25", school=True)
    build.rate("teacher", "50")
    # Another school's override and another LA's rates change nothing here.
    StaffRole.objects.create(
        local_authority=build.tenant.la, school=build.tenant.sibling, kind="ta", hourly_cost=99
    )
    StaffRole.objects.create(local_authority=other.la, kind="mentor", hourly_cost=99)
    with CaptureQueriesContext(connection) as ctx:
        rates = costing.hourly_rates(build.school)
    assert len(ctx.captured_queries) == 1
    assert rates == {"ta": Decimal("25.00"), "teacher": Decimal("50.00")}
    group = build.group(build.provision("Nurture"), weeks=10)
    assert pounds(row_named(build.map(), "Nurture").cost) == "250.00"
    assert costing.group_cost(group, rates) == Decimal(250)


def test_a_missing_rate_makes_the_cost_unknown_and_names_the_staff_kind(build):
    build.rate("ta", "20")
    build.rate("external", "0")  # a free LA service costs £0, which is not unknown
    mentoring = build.provision("Mentoring", step_number=3)
    build.group(mentoring, staff_kind="mentor", weeks=10)
    build.group(mentoring, staff_kind="ta", weeks=10)
    hi = build.provision("HI support", step_number=3, area_of_need="sensory_physical")
    build.group(hi, staff_kind="external", weeks=18)
    pmap = build.map()
    row = row_named(pmap, "Mentoring")
    assert row.cost is None and row.per_pupil_cost is None
    assert row.missing_rates == ["mentor"]
    assert {line.kind: line.cost for line in row.staff} == {"ta": Decimal(200), "mentor": None}
    assert row_named(pmap, "HI support").cost == 0
    assert pmap.missing_rate_labels == ["Learning mentor"]
    assert not pmap.total.complete and pmap.total.per_pupil_cost is None
    assert pmap.total.cost == 0  # only what is known is added up; `complete` says it is partial


# --- part-term enrolments -----------------------------------------------------------------------


def test_part_term_pupils_share_a_1000_group_by_days_enrolled(build):
    build.rate("ta", "20")
    start = dt.date(2025, 9, 8)
    group = build.group(
        build.provision("Social skills"),
        weeks=10,
        sessions_per_week=5,
        starts_on=start,
        ends_on=start + dt.timedelta(days=69),  # ten weeks
    )
    whole, half = build.pupil(), build.pupil()
    build.enrol(group, whole, starts_on=dt.date(2025, 8, 1))  # clipped to the group's start
    build.enrol(group, half, starts_on=start + dt.timedelta(days=35))
    pmap = build.map()
    row = row_named(pmap, "Social skills")
    assert pounds(row.cost) == "1000.00"
    assert (row.pupils, pounds(row.per_pupil_cost)) == (2, "500.00")
    mine, theirs = build.pupil_map(whole), build.pupil_map(half)
    assert pounds(mine.total_cost) == "666.67"
    assert pounds(theirs.total_cost) == "333.33"
    assert mine.entries[0].cost_share + theirs.entries[0].cost_share == Decimal(1000)


def test_shares_add_up_to_the_group_cost_exactly():
    shares = costing.cost_shares(Decimal(1000), {1: 70, 2: 35, 3: 13, 4: 0})
    assert set(shares) == {1, 2, 3}
    assert sum(shares.values()) == Decimal(1000)
    assert costing.cost_shares(Decimal(1000), {}) == {}


def test_a_pupil_who_left_before_the_group_began_gets_no_share():
    assert (
        costing.enrolled_days(
            dt.date(2025, 9, 1), dt.date(2025, 9, 5), dt.date(2025, 10, 1), dt.date(2025, 12, 1)
        )
        == 0
    )
    assert costing.enrolled_days(dt.date(2025, 9, 1), None, dt.date(2025, 9, 1), dt.date(2025, 9, 7)) == 7


# --- term, financial year and year-group views -----------------------------------------------------


def test_a_termly_group_counts_in_its_term_and_a_whole_year_group_pro_rata(build):
    """Whole-year group: 42 weeks × 1 hour × £20 = £840, met on all 210 school days of the
    year; autumn has 80 of them (£320), spring 60 (£240), summer 70 (£280)."""
    build.rate("ta", "20")
    build.term_dates()
    termly = build.provision("Autumn lunch club")
    build.group(termly, term="autumn", weeks=12, starts_on=dt.date(2025, 9, 8), ends_on=dt.date(2025, 12, 12))
    yearly = build.provision("Nurture group")
    group = build.group(yearly, weeks=42, starts_on=AUTUMN_START, ends_on=SUMMER_END)
    late_joiner, all_year = build.pupil(), build.pupil()
    build.enrol(group, all_year)
    build.enrol(group, late_joiner, starts_on=dt.date(2026, 4, 13))  # summer term only

    year = build.map()
    assert pounds(row_named(year, "Nurture group").cost) == "840.00"
    assert pounds(row_named(year, "Autumn lunch club").cost) == "240.00"

    autumn = build.map(term="autumn")
    assert {r.name: pounds(r.cost) for r in autumn.rows} == {
        "Autumn lunch club": "240.00",
        "Nurture group": "320.00",
    }
    assert row_named(autumn, "Nurture group").pupils == 1  # the late joiner was not there yet
    assert row_named(autumn, "Nurture group").weeks == "16"
    spring, summer = build.map(term="spring"), build.map(term="summer")
    assert {r.name: pounds(r.cost) for r in spring.rows} == {"Nurture group": "240.00"}
    nurture_summer = row_named(summer, "Nurture group")
    assert (pounds(nurture_summer.cost), nurture_summer.pupils) == ("280.00", 2)
    # The terms add up to the year.
    assert autumn.total.cost + spring.total.cost + summer.total.cost == year.total.cost
    assert autumn.period.label == "Autumn term 2025-26"


def test_a_financial_year_is_the_summer_term_before_and_autumn_and_spring(build):
    LocalAuthority.objects.filter(pk=build.tenant.la.pk).update(costing_year="financial")
    build.school.local_authority.refresh_from_db()
    build.rate("ta", "20")
    build.term_dates(YEAR - 1)
    build.term_dates(YEAR)
    p = build.provision("Anger management")
    build.group(  # summer 2025, in school year 2024-25: £100
        p,
        academic_year=YEAR - 1,
        term="summer",
        weeks=5,
        starts_on=dt.date(2025, 4, 14),
        ends_on=dt.date(2025, 5, 16),
    )
    build.group(
        p, term="autumn", weeks=10, starts_on=dt.date(2025, 9, 8), ends_on=dt.date(2025, 11, 14)
    )  # £200
    build.group(  # summer 2026 belongs to the next financial year
        p, term="summer", weeks=10, starts_on=dt.date(2026, 4, 13), ends_on=dt.date(2026, 6, 19)
    )
    build.group(p, weeks=42)  # the whole school year 2025-26: £840, of which autumn and spring £560
    pmap = build.map()
    assert pmap.period.kind == "financial"
    assert pounds(pmap.total.cost) == "860.00"  # £100 + £200 + £560
    assert pmap.period.year_label == "financial year 2025-26 (April 2025 to March 2026)"
    summer = build.map(term="summer")
    assert pounds(summer.total.cost) == "100.00" and summer.period.label == "Summer term 2024-25"


def test_the_costing_year_follows_the_la(build):
    la = build.tenant.la
    assert costing.current_costing_year(la, dt.date(2026, 5, 1)) == 2025
    la.costing_year = "financial"
    assert costing.current_costing_year(la, dt.date(2026, 5, 1)) == 2026
    assert costing.current_costing_year(la, dt.date(2026, 3, 31)) == 2025


def test_a_year_group_view_counts_only_its_pupils_and_their_shares(build):
    build.rate("ta", "20")
    group = build.group(build.provision("Reading group"), weeks=10, group_size=4)  # £200
    # The view is of 2025-26: pupils then in years 5 and 6 have moved up since.
    up = costing.academic_year_of(dt.date.today()) - YEAR
    year5, year6a, year6b = (
        build.pupil(nc_year=5 + up),
        build.pupil(nc_year=6 + up),
        build.pupil(nc_year=6 + up),
    )
    for pupil in (year5, year6a, year6b):
        build.enrol(group, pupil)
    only5 = build.group(build.provision("Phonics"), weeks=10)
    build.enrol(only5, year5)
    pmap = build.map(year_group=6)
    assert [r.name for r in pmap.rows] == ["Reading group"]
    row = pmap.rows[0]
    assert row.pupils == 2
    assert pounds(row.cost) == "133.33"  # two thirds of £200
    assert pounds(row.per_pupil_cost) == "66.67"
    assert pmap.total.pupils == 2


# --- impact ------------------------------------------------------------------------------------------


def test_impact_figures_and_attendance_rate(build):
    build.rate("ta", "20")
    reading = build.provision("Reading recovery", measure="reading_age_months")
    group = build.group(reading, weeks=10, group_size=4)  # £200
    pupils = [build.pupil() for _ in range(4)]
    gain = build.enrol(group, pupils[0], entry_score=Decimal(90), exit_score=Decimal(96))  # +6
    fall = build.enrol(group, pupils[1], entry_score=Decimal(100), exit_score=Decimal(97))  # −3
    build.enrol(group, pupils[2], outcome_rating=1)  # no scores: rated better
    build.enrol(group, pupils[3])  # nothing recorded yet
    build.attendance(group, dt.date(2025, 9, 2), {gain: True, fall: True})
    build.attendance(group, dt.date(2025, 9, 9), {gain: True, fall: False})

    sdq = build.provision("Worry busters", measure="sdq_total", higher_is_better=False)
    calmer = build.enrol(
        build.group(sdq, weeks=5), pupils[0], entry_score=Decimal(22), exit_score=Decimal(17)
    )

    rows = {r.name: r for r in build.what_works()}
    r = rows["Reading recovery"]
    assert (r.enrolments, r.pupils, r.scored) == (4, 4, 2)
    assert r.average_improvement == Decimal("1.5")  # (6 − 3) ÷ 2
    assert r.improved_share == Decimal(2) / 3  # the +6 and the rating of +1, of three with an outcome
    assert r.mean_rating == 1
    assert r.attendance_rate == Decimal("0.75")  # 3 present of 4 marks
    assert pounds(r.cost_per_pupil) == "50.00"
    # Only the two scored pupils measured the gain: their shares (£50 each) ÷ 3 months gained.
    assert pounds(r.cost_per_improvement) == "33.33"
    w = rows["Worry busters"]
    assert w.average_improvement == 5  # SDQ fell from 22 to 17: a fall is progress
    assert w.attendance_rate is None and w.mean_rating is None
    assert costing.enrolment_improvement(calmer.entry_score, calmer.exit_score, higher_is_better=False) == 5


def test_no_cost_per_improvement_without_a_net_gain(build):
    build.rate("ta", "20")
    p = build.provision("Spelling")
    g = build.group(p, weeks=10)
    build.enrol(g, build.pupil(), entry_score=Decimal(5), exit_score=Decimal(4))
    [row] = build.what_works()
    assert row.cost_per_improvement is None and row.improved_share == 0


def test_what_works_sorts_by_any_column_with_blanks_last(build):
    build.rate("ta", "20")
    for name, entry, exit_score in (("A", 1, 5), ("B", 1, 2), ("C", None, None)):
        g = build.group(build.provision(name), weeks=10)
        build.enrol(g, build.pupil(), entry_score=entry, exit_score=exit_score)
    rows = build.what_works()
    assert [r.name for r in costing.sort_impact(rows, "-average_improvement")] == ["A", "B", "C"]
    assert [r.name for r in costing.sort_impact(rows, "average_improvement")] == ["B", "A", "C"]
    assert [r.name for r in costing.sort_impact(rows, "-name")] == ["C", "B", "A"]
    assert [r.name for r in costing.sort_impact(rows, "nonsense")] == ["A", "B", "C"]


def test_what_works_for_one_school_year(build):
    build.rate("ta", "20")
    p = build.provision("Lego therapy")
    build.enrol(build.group(p, weeks=10), build.pupil())
    build.enrol(
        build.group(
            p, weeks=10, academic_year=YEAR - 1, starts_on=dt.date(2024, 9, 2), ends_on=dt.date(2024, 11, 8)
        ),
        build.pupil(),
    )
    assert [r.enrolments for r in build.what_works(academic_year=YEAR)] == [1]
    assert [r.enrolments for r in build.what_works()] == [2]


# --- the pupil's map -----------------------------------------------------------------------------------


def test_pupil_map_shows_what_they_receive_and_the_parent_version_has_no_costs(build):
    build.rate("ta", "20")
    group = build.group(
        build.provision("Talk boost", description="Talking and listening games."),
        weeks=10,
        sessions_per_week=2,
        session_minutes=45,
        group_size=4,
        schedule="Tuesdays and Thursdays, 13:15",
        starts_on=dt.date(2025, 9, 8),
        ends_on=dt.date(2025, 11, 14),
    )
    pupil, classmate = build.pupil(), build.pupil(last_name="Classmate")
    mine = build.enrol(group, pupil)
    build.enrol(group, classmate)
    build.attendance(group, dt.date(2025, 9, 9), {mine: True})
    build.attendance(group, dt.date(2025, 9, 11), {mine: False})
    [entry] = build.pupil_map(pupil).entries
    assert (entry.sessions_attended, entry.sessions_recorded, entry.attendance_rate) == (1, 2, Decimal("0.5"))
    assert entry.how_often == "2 sessions a week of 45 minutes"
    assert pounds(entry.cost_share) == "150.00"  # 1.5 hours × £20 × 10 weeks, shared by two
    [parent] = [costing.parent_entry(entry, today=dt.date(2025, 12, 1))]
    assert parent.how_often == "twice a week, 45 minutes each time, in a small group"
    assert parent.who == "With a teaching assistant."
    assert parent.when == "From 8 September 2025 to 14 November 2025."
    assert parent.attendance == "Came to 1 of the 2 sessions so far."
    text = " ".join(str(v) for v in vars(parent).values())
    assert "£" not in text and "Classmate" not in text


# --- constant queries -------------------------------------------------------------------------------------


def test_query_counts_do_not_grow_with_groups_and_enrolments(build):
    build.rate("ta", "20")
    build.term_dates()
    pupil = build.pupil()

    names = itertools.count()

    def add(n: int) -> None:
        for i in range(n):
            p = build.provision(f"Provision {next(names)}")
            for term in ("", "autumn"):
                g = build.group(p, term=term, weeks=10)
                build.enrol(g, pupil if i == 0 else build.pupil())
                build.enrol(g, build.pupil(nc_year=6))

    def counts() -> tuple[int, ...]:
        out = []
        for call in (
            lambda: costing.provision_map(build.school, year=YEAR),
            lambda: costing.provision_map(build.school, year=YEAR, term="autumn", year_group=6),
            lambda: costing.what_works(build.school),
            lambda: costing.pupil_provision_map(pupil, academic_year=YEAR),
        ):
            with transaction.atomic(), build.scope(), CaptureQueriesContext(connection) as ctx:
                call()
            out.append(len(ctx.captured_queries))
        return tuple(out)

    add(1)
    small = counts()
    add(5)
    assert counts() == small


def test_known_measures_set_the_direction_of_progress(build):
    sdq = build.provision("Calm club", measure="sdq_total", higher_is_better=True)
    boxall = build.provision("Nurture", measure="boxall_developmental", higher_is_better=False)
    other = build.provision("Own scale", measure="other", higher_is_better=False)
    assert (sdq.higher_is_better, boxall.higher_is_better, other.higher_is_better) == (False, True, False)
