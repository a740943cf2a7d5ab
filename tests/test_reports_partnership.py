"""Reports read outside a school: the behaviour provision's termly report, the partnership's
annual report to the LA, the quarterly financial report and the LA overview.

Each is asked for and built as the app does it (`request_report` then `run_build`), from data
made through the services. The key figures in the snapshot are checked against figures worked
out here from the database with plain queries; every count of pupils or placements must be
shown suppressed (1 to 4 as "<5"), small cells must not be recoverable from the totals, and no
pupil's name may reach the snapshot or the rendered report.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg, Count, Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone

from interventions import aggregates
from interventions.models import ProvisionPlacement
from interventions.placements import (
    kpi_target_set,
    placement_end,
    placement_progress,
    placement_refer,
    placement_start,
)
from pupils.models import Pupil
from reports.builders import build
from reports.models import ReportRequest
from reports.services import report_scope, request_report
from reports.tasks import run_build
from schools import budgets
from schools.models import Budget, BudgetLine, Role, SpendItem
from schools.partnership import narrative_save, sla_create
from schools.scopes import scope_for_membership
from schools.suppression import HIDDEN, SMALL, WITHHELD
from schools.tenancy import TenantScope, app_role, tenant_scope
from schools.terms import academic_year_label, academic_year_of
from tests.factories import MembershipFactory, PupilFactory, UserFactory
from tests.test_suppression import consistent_values

D = Decimal
TODAY = timezone.localdate()
Y = academic_year_of(TODAY) - 1  # last school year: all of it is past
YEAR = academic_year_label(Y)
AUTUMN = date(Y, 9, 1), date(Y, 12, 31)  # the usual bounds (the test LA has no term dates)

# The twelve chapters of the LA's annual report template (toolkit appendix 3).
APPENDIX_3 = (
    "Overall summary",
    "Budget",
    "Staffing",
    "Service delivery",
    "Curriculum and resources",
    "KPIs",
    "Reporting and evaluation",
    "Quality assurance and safeguarding",
    "Partnerships",
    "Communication and feedback",
    "Contingency",
    "Future proofing",
)


# --- the world ------------------------------------------------------------------------------


def as_member(tenant, role: str):
    return tenant_scope(scope_for_membership(tenant.memberships[role]))


def everything(tenant) -> TenantScope:
    """For the test's own plain queries: both schools, the provision and the partnership."""
    return TenantScope.system(
        schools=[tenant.school.pk, tenant.sibling.pk],
        provisions=[tenant.provision.pk],
        partnerships=[tenant.partnership.pk],
        local_authorities=[tenant.la.pk],
    )


def place(
    tenant,
    pupil,
    *,
    start: date,
    end: date | None = None,
    outcome: str = "returned",
    pattern: str = "full_time",
    attendance: str = "80",
    suspensions: int = 0,
    ehc_exception: str = "",
    mdt_meeting_on: date | None = None,
):
    """A placement through the services, as the home school records it."""
    scope = TenantScope.for_school(pupil.school_id, la_id=tenant.la.pk)
    with transaction.atomic(), tenant_scope(scope):
        placement = placement_refer(
            None,
            pupil,
            provision=tenant.provision,
            referred_on=start - timedelta(days=7),
            referral_reason="Step 4 plan reviewed twice without enough progress.",
            consent_on=start - timedelta(days=8),
            consent_note="Parent, signed form",
            pattern=pattern,
            days_per_week=D(5) if pattern == "full_time" else D(2),
            mdt_meeting_on=mdt_meeting_on,
            mdt_note="Panel agreed the placement." if mdt_meeting_on else "",
            ehc_exception=ehc_exception,
        )
        placement_start(None, placement, start)
        if end is None:
            placement_progress(
                None,
                placement,
                attendance_percent=D(attendance),
                suspensions=suspensions,
                planned_end_on=None,
            )
        else:
            placement_end(
                None,
                placement,
                ends_on=end,
                exit_outcome=outcome,
                attendance_percent=D(attendance),
                suspensions=suspensions,
            )
    return placement


@pytest.fixture
def world(tenant, settings, tmp_path):
    """Last school year at the partnership's provision (which takes key stage 2 only):

    - the first school (A): three full-time placements from September, two of them back home
      in November, one still running;
    - the second school (S): six part-time from September (five back home in February, one to a
      PRU), a pupil with an EHC plan placed as an exception (managed move in December), a year 7
      pupil placed outside the key stage after a multidisciplinary meeting (specialist placement
      in March), and one outreach and one in-reach from January (PRU, specialist; May).

    So in the autumn term school A had 3 placements (a small count) and school S 8; over the year
    13 pupils were placed and 12 placements ended, 7 of them with a return home.
    """
    settings.MEDIA_ROOT = str(tmp_path)
    tenant.provision.key_stages = "KS2"
    tenant.provision.save()
    a = tenant.pupils
    s = list(tenant.sibling_pupils)
    people = [
        {"gender": "F", "ethnicity": "WBRI", "sen_status": "K", "primary_need": "SEMH"},
        {"gender": "M", "ethnicity": "APKN", "sen_status": "K", "primary_need": "SEMH"},
        {"gender": "M", "ethnicity": "BCRB", "sen_status": "K", "primary_need": "MLD"},
        {"gender": "F", "ethnicity": "MWBC", "sen_status": "K", "primary_need": "SLCN"},
        {"gender": "M", "ethnicity": "", "sen_status": "N"},
        {"gender": "M", "ethnicity": "WBRI", "sen_status": "K", "primary_need": "SEMH"},
        {"gender": "M", "ethnicity": "WBRI", "sen_status": "E", "primary_need": "ASD"},
        {"gender": "M", "ethnicity": "WBRI", "sen_status": "K", "primary_need": "SEMH", "nc_year": 7},
    ]
    for i, extra in enumerate(people):
        s.append(PupilFactory(school=tenant.sibling, last_name=f"AlphaExtra{i}", **extra))
    tenant.sibling_pupils = s
    ehc, older = s[8], s[9]

    for i, pupil in enumerate(a):
        end = date(Y, 11, 28) if i < 2 else None
        place(tenant, pupil, start=date(Y, 9, 8), end=end, attendance=str(90 - 10 * i), suspensions=i)
    for i, pupil in enumerate(s[:6]):
        place(
            tenant,
            pupil,
            start=date(Y, 9, 15),
            end=date(Y + 1, 2, 10),
            outcome="returned" if i < 5 else "pru",
            pattern="part_time",
            attendance=str(70 + i),
            suspensions=1 if i % 2 else 0,
        )
    place(
        tenant,
        ehc,
        start=date(Y, 10, 1),
        end=date(Y, 12, 12),
        outcome="managed_move",
        ehc_exception="Emergency annual review agreed a short placement.",
        attendance="60",
        suspensions=3,
    )
    place(
        tenant,
        older,
        start=date(Y, 10, 1),
        end=date(Y + 1, 3, 20),
        outcome="specialist",
        mdt_meeting_on=date(Y, 9, 20),
        attendance="85",
    )
    place(tenant, s[6], start=date(Y + 1, 1, 12), end=date(Y + 1, 5, 15), outcome="pru", pattern="outreach")
    place(
        tenant,
        s[7],
        start=date(Y + 1, 1, 12),
        end=date(Y + 1, 5, 15),
        outcome="specialist",
        pattern="in_reach",
    )

    lead = tenant.memberships["partnership_lead"]
    with transaction.atomic(), as_member(tenant, "partnership_lead"):
        for kpi, target in (("reintegration_rate", "75"), ("attendance_rate", "90"), ("pupils_placed", "10")):
            kpi_target_set(None, tenant.provision, Y, kpi, D(target))
        narrative_save(
            request=None,
            partnership=tenant.partnership,
            academic_year=Y,
            section="summary",
            text="A steady year: most pupils went back to their own school.",
            final=True,
        )
        narrative_save(
            request=None,
            partnership=tenant.partnership,
            academic_year=Y,
            section="evaluation",
            text="Learning walks each half term; data reviewed by the partnership.",
            final=False,
        )
        narrative_save(
            request=None,
            partnership=tenant.partnership,
            academic_year=Y,
            section="contingency",
            text="A reserve covers a term of supply cover.",
            final=True,
        )
        sla_create(
            request=None,
            provision=tenant.provision,
            starts_on=date(Y, 9, 1),
            review_on=date(Y + 1, 7, 1),
            sections={"staffing": "A teacher and two teaching assistants."},
        )
        budget = budgets.budget_create(
            request=None,
            user=lead.user,
            partnership=tenant.partnership,
            financial_year=Y,
            allocation=D("100000.00"),
            carried_forward=D("12500.50"),
            surplus_plan="Training for the partnership's teaching assistants.",
        )
        staffing = budgets.line_add(
            request=None, budget=budget, category="staffing", name="Teacher", planned=D(80000)
        )
        resources = budgets.line_add(
            request=None, budget=budget, category="resources", name="Kit", planned=D(10000)
        )
        training = budgets.line_add(
            request=None, budget=budget, category="training", name="Courses", planned=D(5000)
        )

        def spend(line, amount, day, what):
            return budgets.spend_add(
                request=None,
                user=lead.user,
                budget=budget,
                line=line,
                description=what,
                supplier="Supplier Ltd",
                amount=D(amount),
                spent_on=day,
            )

        spend(staffing, "10000.00", date(Y, 5, 1), "Summer term salary")
        kit = spend(resources, "5000.00", date(Y, 8, 15), "Calm room furniture")
        budgets.spend_mark_paid(request=None, item=kit)
        spend(staffing, "40000.00", date(Y, 11, 3), "Outreach worker contract")  # awaits both approvals
        spend(training, "2500.50", date(Y, 12, 1), "Trauma-informed practice course")
        large = spend(staffing, "35000.00", date(Y + 1, 2, 2), "Spring and summer salaries")
        budgets.spend_approve(request=None, user=lead.user, item=large)
    host = MembershipFactory(
        user=UserFactory(username="alpha-host-head"), role=Role.HEADTEACHER, school=tenant.sibling
    )
    with transaction.atomic(), tenant_scope(scope_for_membership(host)):
        budgets.spend_approve(request=None, user=host.user, item=large)
    return tenant


# --- asking, building, reading ---------------------------------------------------------------


def ask_and_build(
    scope: TenantScope, *, kind: str, scope_type: str, scope_id: int, period: str
) -> ReportRequest:
    with transaction.atomic(), tenant_scope(scope):
        row = request_report(
            None, kind=kind, scope_type=scope_type, scope_id=scope_id, period=period, queue=False
        )
    assert run_build(row.pk, scope) == "done"
    with transaction.atomic(), tenant_scope(scope):
        return ReportRequest.objects.get(pk=row.pk)


def snapshot_of(row: ReportRequest) -> dict:
    with row.snapshot.open("rb") as f:
        return json.loads(f.read())


def pdf_of(row: ReportRequest) -> bytes:
    with row.pdf.open("rb") as f:
        return f.read()


def html_of(row: ReportRequest, scope: TenantScope) -> str:
    """The report's HTML as the PDF was made from it (built again under the same scope)."""
    with transaction.atomic(), tenant_scope(scope):
        figures, template, context = build(row)
    return render_to_string(template, {**context, "figures": figures, "report": row})


def assert_done(row: ReportRequest) -> None:
    assert row.status == ReportRequest.Status.DONE, row.error
    assert pdf_of(row).startswith(b"%PDF")
    assert row.pages and row.pages >= 1


def assert_no_pupil_named(tenant, *texts: str) -> None:
    with transaction.atomic(), tenant_scope(everything(tenant)):
        names = [n for p in Pupil.objects.all() for n in (p.first_name, p.last_name, p.upn)]
    assert len(names) >= 3 * 13
    for text in texts:
        for name in names:
            assert not re.search(rf"\b{re.escape(name)}\b", text), f"{name} appears in the report"


def shown_as(raw: int) -> set[str]:
    """What a count may be shown as outside a school: 0 as itself, 1 to 4 as "<5", 5 or more
    as itself or hidden ("x") to protect a small count beside it."""
    if raw == 0:
        return {"0"}
    if raw < 5:
        return {SMALL}
    return {str(raw), HIDDEN}


def assert_table_matches(table: dict, raw: dict[str, dict[str, int]], columns: list[str]) -> None:
    """Every cell of a snapshot table is an allowed showing of the count worked out here."""
    if table["withheld"]:
        assert {c for row in grid(table) for c in row} == {"–"}
        return
    index = {heading: i + 1 for i, heading in enumerate(table["headings"])}
    for row in table["rows"]:
        counts = raw.get(row[0], {})
        for column in columns:
            assert row[index[column]] in shown_as(counts.get(column, 0)), (row, column, counts)


def grid(table: dict) -> list[list[str]]:
    return [r[1:] for r in table["rows"]] + [table["totals"]]


def assert_small_cells_not_recoverable(table: dict) -> None:
    """Brute force, as tests/test_suppression.py does: every "<5" could be two values at least."""
    if table["withheld"]:
        return
    shown = grid(table)
    n, m = len(table["rows"]), len(table["headings"]) - 1
    for cell, values in consistent_values(shown, 40, n, m).items():
        assert len(values) >= 2, f"cell {cell} of {table['caption']} can only be {values}"


def rounded(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP).normalize():f}"


def ran_in(first: date, last: date) -> Q:
    return Q(starts_on__isnull=False, starts_on__lte=last) & (Q(ends_on__isnull=True) | Q(ends_on__gte=first))


def year_kpis(tenant) -> dict[str, str]:
    """Last school year's KPI actuals, worked out here from the placements."""
    first, last = date(Y, 9, 1), date(Y + 1, 8, 31)
    with transaction.atomic(), tenant_scope(everything(tenant)):
        ran = ProvisionPlacement.objects.filter(ran_in(first, last), provision=tenant.provision)
        ended = ran.filter(status="ended", ends_on__gte=first, ends_on__lte=last)
        returned = ended.filter(exit_outcome="returned").count()
        return {
            "pupils": ran.values("pupil").distinct().count(),
            "ended": ended.count(),
            "returned": returned,
            "reintegration": rounded(D(100 * returned) / ended.count()),
            "attendance": rounded(ran.aggregate(a=Avg("attendance_percent"))["a"]),
            "suspensions": ran.aggregate(s=Sum("suspensions"))["s"],
        }


# --- the behaviour provision's termly report -------------------------------------------------


@pytest.mark.parametrize("role", ["provision_lead", "partnership_lead"])
def test_the_termly_report_counts_the_terms_placements_suppressed(world, role):
    scope = scope_for_membership(world.memberships[role])
    row = ask_and_build(
        scope,
        kind="provision_termly",
        scope_type="provision",
        scope_id=world.provision.pk,
        period=f"{YEAR}-autumn",
    )
    assert_done(row)
    figures = snapshot_of(row)
    first, last = AUTUMN
    assert (figures["first_day"], figures["last_day"]) == (str(first), str(last))

    names = {world.school.pk: world.school.name, world.sibling.pk: world.sibling.name}
    with transaction.atomic(), tenant_scope(everything(world)):
        mine = ProvisionPlacement.objects.filter(provision=world.provision)
        referrals, ran, ended = {}, {}, {}
        for p in mine:
            school = names[p.school_id]
            if first <= p.referred_on <= last:
                referrals.setdefault(school, {"Referrals": 0, "Started": 0})["Referrals"] += 1
            if p.starts_on and first <= p.starts_on <= last:
                referrals.setdefault(school, {"Referrals": 0, "Started": 0})["Started"] += 1
            if p.starts_on and p.starts_on <= last and (p.ends_on is None or p.ends_on >= first):
                heading = {"full_time": "Full-time", "part_time": "Part-time"}.get(p.pattern, p.pattern)
                ran.setdefault(school, {}).setdefault(heading, 0)
                ran[school][heading] += 1
            if p.status == "ended" and first <= p.ends_on <= last:
                heading = {"returned": "Back to home school", "managed_move": "Managed move"}[p.exit_outcome]
                ended.setdefault(school, {}).setdefault(heading, 0)
                ended[school][heading] += 1
        outside = mine.filter(ran_in(first, last), outside_key_stage=True).count()
        exceptions = mine.filter(ran_in(first, last)).exclude(ehc_exception="").count()

    assert referrals == {
        world.school.name: {"Referrals": 3, "Started": 3},
        world.sibling.name: {"Referrals": 8, "Started": 8},
    }
    assert_table_matches(figures["referrals_and_starts"], referrals, ["Referrals", "Started"])
    assert_table_matches(figures["ended"], ended, ["Back to home school", "Managed move"])
    running = figures["running"]
    assert_table_matches(running, ran, ["Full-time", "Part-time", "Outreach", "In-reach"])
    # The first school's three full-time placements: a 3, shown as "<5" and not recoverable.
    assert ran[world.school.name] == {"Full-time": 3}
    school_a = next(r for r in running["rows"] if r[0] == world.school.name)
    assert school_a[1] == SMALL and school_a[-1] == SMALL
    assert running["totals"][-1] == "11"  # 3 + 8 placements ran in the term
    assert_small_cells_not_recoverable(running)
    assert_small_cells_not_recoverable(figures["ended"])
    assert (outside, exceptions) == (1, 1)
    assert figures["outside_key_stage"] == SMALL
    assert figures["ehc_exceptions"] == SMALL

    expected = year_kpis(world)
    kpis = {k["kpi"]: k for k in figures["kpis"]}
    assert kpis["pupils_placed"]["actual"] == str(expected["pupils"]) == "13"
    assert kpis["reintegration_rate"]["actual"] == expected["reintegration"] == "58.3"
    assert figures["attendance"]["actual"] == expected["attendance"]
    assert figures["suspensions"]["actual"] == str(expected["suspensions"])
    assert kpis["reintegration_rate"]["target"] == "75"

    assert_no_pupil_named(world, json.dumps(figures), html_of(row, scope))


# --- the partnership's annual report ---------------------------------------------------------


def annual(world, scope: TenantScope) -> ReportRequest:
    return ask_and_build(
        scope, kind="partnership_annual", scope_type="partnership", scope_id=world.partnership.pk, period=YEAR
    )


def test_the_annual_report_has_every_chapter_and_the_right_figures(world):
    scope = scope_for_membership(world.memberships["partnership_lead"])
    row = annual(world, scope)
    assert_done(row)
    figures = snapshot_of(row)
    html = html_of(row, scope)

    # Every chapter of the LA's template, in the contents and as a chapter starting a page.
    chapters = re.findall(r'<section class="chapter" id="[^"]+">\s*<h2>([^<]+)</h2>', html)
    assert len(chapters) == 12
    contents = re.search(r'<nav class="contents".*?</nav>', html, re.S).group(0)
    for heading in APPENDIX_3:
        assert any(heading.lower() in c.lower() for c in chapters), heading
        assert heading.lower() in contents.lower(), heading
    assert row.pages >= 13  # the cover and contents, then a page or more per chapter

    # Written sections: final, draft, not written, and chapters the app has no section for.
    narratives = figures["narratives"]
    assert narratives["summary"]["text"].startswith("A steady year")
    assert narratives["summary"]["status"] == "final"
    assert (
        narratives["evaluation"]["status"] == "draft" and "draft" in narratives["evaluation"]["note"].lower()
    )
    assert narratives["partnerships"]["status"] == "missing"
    assert "not written" in narratives["partnerships"]["note"]
    assert narratives["staffing"]["status"] == "none"
    assert "Not written." in html and "Draft." in html

    # Money for the financial year with the same label (April to March).
    with transaction.atomic(), tenant_scope(everything(world)):
        budget = Budget.objects.get(partnership=world.partnership, financial_year=Y)
        items = SpendItem.objects.filter(budget=budget)
        committed = items.filter(status__in=["committed", "paid"]).aggregate(s=Sum("amount"))["s"]
        proposed = items.filter(status="proposed").aggregate(s=Sum("amount"))["s"]
        planned = BudgetLine.objects.filter(budget=budget).aggregate(s=Sum("planned"))["s"]
        available = budget.allocation + budget.carried_forward
    money = figures["budget"]
    assert D(money["committed"]) == committed == D("52500.50")
    assert D(money["awaiting_approval"]) == proposed == D("40000.00")
    assert D(money["forecast"]) == committed + proposed
    assert D(money["variance"]) == available - committed - proposed == D("20000.00")
    assert D(money["planned"]) == planned
    assert D(money["quarters"][3]["spend_to_date"]) == committed
    assert [c["category"] for c in figures["staffing_lines"]] == ["Staffing", "Training"]

    # Service delivery: pupils placed in the year by SEN provision, gender and ethnic group.
    expected = year_kpis(world)
    first, last = date(Y, 9, 1), date(Y + 1, 8, 31)
    with transaction.atomic(), tenant_scope(everything(world)):
        ran = ProvisionPlacement.objects.filter(ran_in(first, last), provision=world.provision)
        pupils = Pupil.objects.filter(pk__in=ran.values("pupil"))
        sen = dict(pupils.values_list("sen_status").annotate(n=Count("pk")))
        gender = dict(pupils.values_list("gender").annotate(n=Count("pk")))
        by_school = {}
        for school, pattern, n in ran.values_list("school__name", "pattern").annotate(n=Count("pk")):
            heading = {"full_time": "Full-time", "part_time": "Part-time", "outreach": "Outreach"}.get(
                pattern, "In-reach"
            )
            by_school.setdefault(school, {})[heading] = n
    labels = {"E": "EHC plan", "K": "SEN support", "N": "No SEN"}
    assert_table_matches(
        figures["pupils_by_sen"], {labels[k]: {"Pupils": n} for k, n in sen.items()}, ["Pupils"]
    )
    assert figures["pupils_by_sen"]["totals"] == [str(expected["pupils"])]
    assert_table_matches(
        figures["pupils_by_gender"],
        {{"F": "Female", "M": "Male", "": "Not recorded"}[k]: {"Pupils": n} for k, n in gender.items()},
        ["Pupils"],
    )
    assert figures["pupils_by_ethnicity"]["totals"] == ["13"]
    assert_table_matches(
        figures["placements_by_school"], by_school, ["Full-time", "Part-time", "Outreach", "In-reach"]
    )
    assert_small_cells_not_recoverable(figures["placements_by_school"])
    assert_small_cells_not_recoverable(figures["schools_now"][0])

    kpis = {k["kpi"]: k for k in figures["kpis"][0]["rows"]}
    assert kpis["pupils_placed"]["actual"] == "13" and kpis["pupils_placed"]["met"] == "Met"
    assert kpis["reintegration_rate"]["actual"] == expected["reintegration"]
    assert kpis["reintegration_rate"]["met"] == "Not met"  # 58.3 against a target of 75
    assert kpis["attendance_rate"]["actual"] == expected["attendance"]
    assert figures["length_of_stay"]["totals"] == [str(expected["ended"])]
    assert figures["agreements"][0]["staffing"] == "A teacher and two teaching assistants."
    assert "<svg" in html

    assert_no_pupil_named(world, json.dumps(figures), html)


def test_the_annual_report_says_the_same_built_by_the_schedule(world):
    """A scheduled build runs under the report's own scope, not the lead's: same figures."""
    lead = scope_for_membership(world.memberships["partnership_lead"])
    by_lead = snapshot_of(annual(world, lead))
    with transaction.atomic(), app_role():
        probe = ReportRequest(partnership=world.partnership, local_authority_id=world.la.pk)
        scheduled = report_scope(probe)
    by_schedule = snapshot_of(annual(world, scheduled))
    assert by_schedule == by_lead


def test_a_year_with_nothing_recorded_says_so(world):
    scope = scope_for_membership(world.memberships["partnership_lead"])
    row = ask_and_build(
        scope,
        kind="partnership_annual",
        scope_type="partnership",
        scope_id=world.partnership.pk,
        period=academic_year_label(Y - 3),
    )
    assert_done(row)
    figures = snapshot_of(row)
    assert figures["budget"] is None
    assert all(n["status"] in ("missing", "none") for n in figures["narratives"].values())
    assert figures["pupils_by_sen"]["totals"] == ["0"]
    html = html_of(row, scope)
    assert "No budget is recorded for the financial year" in html
    assert html.count("The partnership lead has not written this section.") == 7


# --- the quarterly financial report ----------------------------------------------------------


def test_the_quarterly_financial_report_matches_the_spend_recorded(world):
    scope = scope_for_membership(world.memberships["partnership_lead"])
    row = ask_and_build(
        scope,
        kind="financial_quarterly",
        scope_type="partnership",
        scope_id=world.partnership.pk,
        period=f"{YEAR}-q3",
    )
    assert_done(row)
    figures = snapshot_of(row)
    q3_first, q3_last = date(Y, 10, 1), date(Y, 12, 31)
    with transaction.atomic(), tenant_scope(everything(world)):
        budget = Budget.objects.get(partnership=world.partnership, financial_year=Y)
        items = SpendItem.objects.filter(budget=budget)
        counted = items.filter(status__in=["committed", "paid"])
        in_quarter = counted.filter(spent_on__gte=q3_first, spent_on__lte=q3_last).aggregate(s=Sum("amount"))[
            "s"
        ]
        to_date = counted.filter(spent_on__lte=q3_last).aggregate(s=Sum("amount"))["s"]
        forecast_to_date = items.filter(spent_on__lte=q3_last).aggregate(s=Sum("amount"))["s"]
        available = budget.allocation + budget.carried_forward
        waiting = list(items.filter(status="proposed").values_list("description", "amount"))

    quarter = figures["this_quarter"]
    assert quarter["quarter"] == 3
    assert D(quarter["spend"]) == in_quarter == D("2500.50")
    assert D(quarter["spend_to_date"]) == to_date == D("17500.50")
    assert D(quarter["forecast_to_date"]) == forecast_to_date == D("57500.50")
    assert D(quarter["variance_to_date"]) == available - forecast_to_date == D("55000.00")
    assert D(figures["budget"]["allocation"]) == D("100000.00")
    assert D(figures["budget"]["carried_forward"]) == D("12500.50")
    assert figures["budget"]["surplus_plan"].startswith("Training")
    assert [(i["description"], D(i["amount"])) for i in figures["budget"]["pending"]] == waiting
    assert figures["budget"]["pending"][0]["partnership_signed"] is False
    assert [q["label"] for q in figures["quarters_to_date"]] == ["Q1", "Q2", "Q3"]
    categories = {c["category"]: D(c["planned"]) for c in figures["budget"]["categories"]}
    assert categories == {"Staffing": D(80000), "Resources": D(10000), "Training": D(5000)}
    html = html_of(row, scope)
    assert "Outreach worker contract" in html and "<svg" in html
    assert "£17,500.50" in html


# --- the LA overview -------------------------------------------------------------------------


def test_the_la_overview_gives_each_partnership_suppressed(world):
    scope = scope_for_membership(world.memberships["la_officer"])
    row = ask_and_build(
        scope, kind="la_overview", scope_type="local_authority", scope_id=world.la.pk, period=YEAR
    )
    assert_done(row)
    figures = snapshot_of(row)

    every_school = TenantScope.system(
        schools=[world.school.pk, world.sibling.pk, world.neighbour.pk], partnerships=[world.partnership.pk]
    )
    with transaction.atomic(), tenant_scope(every_school):
        register = {}
        for partnership, status, n in (
            Pupil.objects.filter(is_active=True)
            .values_list("school__partnership__name", "sen_status")
            .annotate(n=Count("pk"))
        ):
            heading = {"K": "SEN support (K)", "E": "EHC plan (E)"}.get(status)
            if heading:
                register.setdefault(partnership, {})[heading] = n
        committed = SpendItem.objects.filter(
            budget__partnership=world.partnership, budget__financial_year=Y, status__in=["committed", "paid"]
        ).aggregate(s=Sum("amount"))["s"]

    table = figures["partnership_tables"][0]
    east = f"{world.marker} East Partnership"
    assert sorted(r[0] for r in table["rows"]) == sorted([world.partnership.name, east])
    assert_table_matches(table, register, ["SEN support (K)", "EHC plan (E)"])
    alpha = next(r for r in table["rows"] if r[0] == world.partnership.name)
    assert register[world.partnership.name] == {"SEN support (K)": 6, "EHC plan (E)": 1}
    # One pupil with a plan: "<5", with the six on SEN support hidden beside it, so the row
    # total cannot give the 1 away.
    assert alpha[1:3] == [HIDDEN, SMALL]
    assert_small_cells_not_recoverable(table)

    kpis = figures["kpis"]
    assert kpis["rows"][0][0] == f"{world.provision.name} ({world.partnership.name})"
    index = kpis["headings"].index("Pupils placed") + 1
    assert kpis["rows"][0][index] == "13 (target 10)"
    reintegration = kpis["headings"].index("Reintegration rate (%)") + 1
    assert kpis["rows"][0][reintegration] == f"{year_kpis(world)['reintegration']} (target 75)"

    positions = {b["partnership"]: b for b in figures["budgets"]}
    assert D(positions[world.partnership.name]["committed"]) == committed
    assert positions[east]["recorded"] is False
    assert sorted(p["partnership"] for p in figures["schools_by_partnership"]) == sorted(
        [world.partnership.name, east]
    )
    assert_no_pupil_named(world, json.dumps(figures), html_of(row, scope))


def test_the_annual_reports_schools_tables_are_the_las_linked_ones(world):
    """The annual report goes to the LA: its schools' tables are suppressed as in the LA
    overview (where the partnership is a row of the LA table), not on their own, so an LA
    officer reading both cannot undo the LA table's suppression. The figures shown agree with
    the lead's own page wherever the LA's decision shows them."""
    lead = scope_for_membership(world.memberships["partnership_lead"])
    annual_figures = snapshot_of(annual(world, lead))
    officer = scope_for_membership(world.memberships["la_officer"])
    overview = snapshot_of(
        ask_and_build(
            officer, kind="la_overview", scope_type="local_authority", scope_id=world.la.pk, period=YEAR
        )
    )
    ours = next(p for p in overview["schools_by_partnership"] if p["partnership_id"] == world.partnership.pk)
    assert [t["rows"] for t in annual_figures["schools_now"]] == [t["rows"] for t in ours["tables"]]
    assert [t["totals"] for t in annual_figures["schools_now"]] == [t["totals"] for t in ours["tables"]]
    with transaction.atomic(), tenant_scope(lead):
        alone = aggregates.partnership_overview(lead, world.partnership)
    for linked, own in zip(annual_figures["schools_now"], alone.tables, strict=True):
        for row, own_row in zip(linked["rows"], own.rows, strict=True):
            for shown, own_cell in zip(row[1:], own_row.cells, strict=True):
                assert shown == own_cell or shown in (HIDDEN, WITHHELD), (shown, own_cell)


def test_a_partnership_lead_cannot_ask_for_the_la_overview_or_another_partnerships_report(world, other):
    scope = scope_for_membership(world.memberships["partnership_lead"])
    with transaction.atomic(), tenant_scope(scope):
        with pytest.raises(ValidationError):
            request_report(
                None, kind="la_overview", scope_type="local_authority", scope_id=world.la.pk, queue=False
            )
        with pytest.raises(ValidationError):
            request_report(
                None,
                kind="partnership_annual",
                scope_type="partnership",
                scope_id=other.partnership.pk,
                queue=False,
            )
