"""Builders of the provisions', partnerships' and LA's reports (registered in reports/builders.py).

Every kind here is read outside a school, so no count of pupils or placements leaves a builder
unsuppressed: single counts go through `suppress_count`, tables through `suppress_table`
(schools/suppression.py), KPIs through the suppressed KPI selector. The figures returned are
the snapshot kept beside the PDF, so they hold the values as shown ("<5", "x"), never the raw
small counts behind them.

Reads of the home schools' rows (placements, pupils) happen inside `counting()` and leave as
counts only; the figures themselves come from the selectors that pages and the API use
(interventions/aggregates.py, interventions/placements.py, schools/budgets.py,
schools/partnership.py). What is computed here is only how those figures are grouped into
the tables a report shows: placements in a term or year by home school, pattern and outcome,
and the placed pupils by SEN status, gender and ethnic group.

Periods: a termly report covers the term's days; the annual report and the LA overview cover
the school year (September to August) for placements and KPIs, and the financial year with the
same label (April to March: 2025-26 for the school year 2025-26) for money.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Avg, Count, Prefetch, Q, QuerySet
from django.utils import timezone

from interventions.aggregates import Overview, ShownTable, la_overview, partnership_overview
from interventions.models import ExitOutcome, PlacementPattern, ProvisionPlacement
from interventions.placements import KpiRow, kpis_of_provisions
from provisionmap.charts import bar_chart, horizontal_bar_chart
from pupils.codes import Gender, SenStatus
from pupils.models import Pupil
from reports.builders import period_of, register
from reports.models import ReportKind, ReportRequest
from reports.periods import Period
from schools.budgets import BudgetFigures, budget_figures
from schools.models import (
    BehaviourProvision,
    Budget,
    BudgetCategory,
    BudgetLine,
    LocalAuthority,
    NarrativeSection,
    NarrativeStatus,
    Partnership,
    ReportNarrative,
    School,
    SlaReview,
    SpendItem,
)
from schools.partnership import agreements_for, narratives_of_year, partnerships_for, review_state
from schools.suppression import TOTAL, SuppressedTable, suppress_count, suppress_table
from schools.tenancy import TenantScope, counting, require_scope, tenant_scope
from schools.terms import academic_year_label

Status = ProvisionPlacement.Status

# Short column headings for the ways a placement is delivered.
PATTERN_HEADINGS = {
    PlacementPattern.FULL_TIME: "Full-time",
    PlacementPattern.PART_TIME: "Part-time",
    PlacementPattern.OUTREACH: "Outreach",
    PlacementPattern.IN_REACH: "In-reach",
}
OUTCOME_HEADINGS = {
    ExitOutcome.RETURNED: "Back to home school",
    ExitOutcome.MANAGED_MOVE: "Managed move",
    ExitOutcome.PRU: "Pupil referral unit",
    ExitOutcome.SPECIALIST: "Specialist placement",
}
NOT_KNOWN = "Not known"
# Census ethnicity codes grouped as the DfE's published tables group them: small groups of
# single codes would be almost all suppressed.
ETHNIC_GROUPS = (
    ("W", "White"),
    ("M", "Mixed or multiple"),
    ("A", "Asian or Asian British"),
    ("B", "Black or Black British"),
    ("CHNE", "Chinese"),
    ("OOTH", "Any other ethnic group"),
)
ETHNICITY_UNRECORDED = "Refused or not yet obtained"
# How long ended placements lasted, in bands of weeks (upper bound in days, heading).
STAY_BANDS = ((42, "Up to 6 weeks"), (84, "7 to 12 weeks"), (140, "13 to 20 weeks"), (None, "Over 20 weeks"))
PERCENT_KPIS = ("attendance_rate", "reintegration_rate")
# The termly report's counts per home school: the query's names and the tables' headings.
TERM_COLUMNS = {
    "referrals": "Referrals",
    "started": "Started",
    **{f"ended_{o.value}": heading for o, heading in OUTCOME_HEADINGS.items()},
    **{f"ran_{p.value}": heading for p, heading in PATTERN_HEADINGS.items()},
}


# --- pieces every kind uses ---------------------------------------------------------------


def _table(caption: str, label_heading: str, table: SuppressedTable, *, total_heading: str = TOTAL) -> dict:
    """A suppressed table as the snapshot keeps it and the templates show it: strings only."""
    columns = table.headings
    headings = [total_heading if c == TOTAL else c for c in columns]
    return {
        "caption": caption,
        "label_heading": label_heading,
        "headings": headings,
        "rows": [[row[table.label_key], *(row[c] for c in columns)] for row in table.rows],
        "totals": [table.totals[c] for c in columns] if table.totals is not None else None,
        "withheld": table.withheld,
        "suppressed": table.suppressed,
    }


def _shown_table(table: ShownTable, caption: str | None = None) -> dict:
    """An overview table from interventions/aggregates.py, in the same shape as `_table`."""
    return {
        "caption": caption or table.section.title,
        "label_heading": table.label_heading,
        "headings": table.headings,
        "rows": [[row.label, *row.cells] for row in table.rows],
        "row_ids": [row.pk for row in table.rows],  # the partnership a row opens, if any
        "totals": list(table.totals),
        "withheld": table.withheld,
        "suppressed": table.suppressed,
    }


def _figure(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.normalize():f}"


def _kpi_rows(rows: Sequence[KpiRow]) -> list[dict]:
    return [
        {
            "kpi": row.kpi,
            "label": row.label,
            "target": _figure(row.target),
            "actual": row.shown,
            "met": row.met_label,
            "rests_on": row.basis_shown,
            "lower_is_better": row.lower_is_better,
        }
        for row in rows
    ]


def _kpi_chart(rows: Sequence[KpiRow], *, title: str, chart_id: str) -> str:
    """Targets beside actuals for the percentage KPIs that can be shown (same unit, one axis)."""
    categories: list[str] = []
    values: list[Decimal] = []
    for row in rows:
        if row.kpi not in PERCENT_KPIS or row.actual is None:
            continue
        name = row.label.replace(" (%)", "")
        if row.target is not None:
            categories.append(f"{name}: target")
            values.append(row.target)
        categories.append(f"{name}: actual")
        values.append(row.actual)
    return horizontal_bar_chart(categories, values, title=title, value_label="Per cent", chart_id=chart_id)


def _ran_in(first: date, last: date) -> Q:
    """Placements that ran on at least one day from `first` to `last` (the KPIs' rule)."""
    return Q(starts_on__isnull=False, starts_on__lte=last) & (Q(ends_on__isnull=True) | Q(ends_on__gte=first))


def _school_rows(
    schools: Sequence[School], counts: dict[int, dict[str, int]], columns: Iterable[str]
) -> list:
    """One table row per school (schools with nothing still get their row of zeros)."""
    columns = list(columns)
    rows = []
    for school in schools:
        mine = counts.get(school.pk, {})
        rows.append({"label": school.name, **{c: mine.get(c, 0) for c in columns}})
    return rows


def _home_schools(partnership_id: int, seen: Iterable[int]) -> list[School]:
    """The partnership's schools, and any other school a placement came from (a school that
    left the partnership since), by name."""
    return list(
        School.objects.filter(Q(partnership_id=partnership_id) | Q(pk__in=set(seen))).order_by("name", "pk")
    )


def _budget(partnership_ids: Iterable[int], year: int) -> QuerySet[Budget]:
    """Budgets for the financial year starting in April of `year`, with what `budget_figures`
    reads loaded (three queries). Read directly rather than through `budgets_for`, whose role
    rule is for people: a scheduled build runs as the system and still needs them."""
    return (
        Budget.objects.filter(partnership_id__in=list(partnership_ids), financial_year=year)
        .select_related("partnership")
        .prefetch_related(
            Prefetch("lines", queryset=BudgetLine.objects.order_by("category", "name", "id")),
            Prefetch("spend", queryset=SpendItem.objects.select_related("line").order_by("spent_on", "id")),
        )
    )


def _money(budget: Budget | None, figures: BudgetFigures | None) -> dict | None:
    """A budget's figures for the snapshot: totals, lines grouped by category, quarters."""
    if budget is None or figures is None:
        return None
    categories = []
    for category, label in BudgetCategory.choices:
        lines = [f for f in figures.lines if f.line.category == category]
        if not lines:
            continue
        categories.append(
            {
                "category": label,
                "lines": [
                    {
                        "name": f.line.name,
                        "planned": f.planned,
                        "committed": f.committed,
                        "forecast": f.forecast,
                        "remaining": f.remaining,
                    }
                    for f in lines
                ],
                "planned": sum((f.planned for f in lines), Decimal(0)),
                "committed": sum((f.committed for f in lines), Decimal(0)),
                "forecast": sum((f.forecast for f in lines), Decimal(0)),
                "remaining": sum((f.remaining for f in lines), Decimal(0)),
            }
        )
    return {
        "financial_year": budget.year_label,
        "allocation": figures.allocation,
        "carried_forward": figures.carried_forward,
        "surplus_plan": budget.surplus_plan,
        "available": figures.available,
        "planned": figures.planned,
        "committed": figures.committed,
        "paid": figures.paid,
        "awaiting_approval": figures.proposed,
        "forecast": figures.forecast,
        "variance": figures.variance,
        "categories": categories,
        "quarters": [
            {
                "quarter": q.quarter,
                "label": q.label,
                "months": q.months,
                "spend": q.spend,
                "spend_to_date": q.cumulative,
                "forecast_to_date": q.forecast,
                "variance_to_date": q.variance,
            }
            for q in figures.quarters
        ],
        "pending": [
            {
                "description": item.description,
                "supplier": item.supplier,
                "line": item.line.name,
                "amount": item.amount,
                "spent_on": item.spent_on,
                "quarter": item.quarter,
                "host_school_signed": item.host_school_approved_by_id is not None,
                "partnership_signed": item.partnership_approved_by_id is not None,
            }
            for item in figures.pending
        ],
    }


def spend_chart(money: dict | None, *, upto: int = 4, chart_id: str) -> str:
    quarters = (money or {}).get("quarters", [])[:upto]
    return bar_chart(
        [f"{q['label']} ({q['months']})" for q in quarters],
        [q["spend"] for q in quarters],
        title="Spend committed in each quarter",
        value_label="Pounds",
        chart_id=chart_id,
    )


def budget_chart(positions: list[dict]) -> str:
    """Each partnership's spend committed in the financial year (those with a budget)."""
    recorded = [b for b in positions if b["recorded"]]
    if not recorded:
        return ""
    return horizontal_bar_chart(
        [b["partnership"] for b in recorded],
        [b["committed"] for b in recorded],
        title="Spend committed by each partnership this financial year",
        value_label="Pounds",
        chart_id="budgets",
    )


def _context(*, title: str, scope_name: str, period: Period | None, **more) -> dict:
    return {
        "title": title,
        "scope_name": scope_name,
        "period_label": period.label if period else "",
        "built_at": timezone.now(),
        "suppressed": True,
        **more,
    }


# --- behaviour provision termly report ----------------------------------------------------


def _term_counts(provision: BehaviourProvision, first: date, last: date) -> dict[int, dict[str, int]]:
    """The term's placement events at the provision, per home school (one grouped query,
    inside `counting()`: the partnership lead reaches the placements only there)."""
    in_term = Q(referred_on__gte=first, referred_on__lte=last)
    started = Q(starts_on__gte=first, starts_on__lte=last)
    ended = Q(status=Status.ENDED, ends_on__gte=first, ends_on__lte=last)
    ran = _ran_in(first, last)
    # Annotation names must be plain identifiers: the keys of TERM_COLUMNS, not headings.
    counts = {
        "referrals": Count("pk", filter=in_term),
        "started": Count("pk", filter=started),
        **{f"ended_{o}": Count("pk", filter=ended & Q(exit_outcome=o)) for o in ExitOutcome.values},
        **{f"ran_{p}": Count("pk", filter=ran & Q(pattern=p)) for p in PlacementPattern.values},
        "outside": Count("pk", filter=ran & Q(outside_key_stage=True)),
        "ehc": Count("pk", filter=ran & ~Q(ehc_exception="")),
    }
    with counting():
        rows = (
            ProvisionPlacement.objects.filter(provision_id=provision.pk)
            .order_by()
            .values("school_id")
            .annotate(**counts)
        )
        out = {}
        for row in rows:
            school = row.pop("school_id")
            out[school] = {TERM_COLUMNS.get(key, key): n for key, n in row.items()}
        return out


def provision_term(provision: BehaviourProvision, period: Period) -> tuple[dict, list[KpiRow]]:
    """The term's figures for a provision, suppressed, as its termly report and the
    dashboards show them; with the KPI rows its charts are drawn from.
    `provision.partnership` and `provision.host_school` should be loaded."""
    counts = _term_counts(provision, period.first, period.last)
    schools = _home_schools(provision.partnership_id, counts)
    outcomes = list(OUTCOME_HEADINGS.values())
    patterns = list(PATTERN_HEADINGS.values())

    referrals = suppress_table(
        _school_rows(schools, counts, ["Referrals", "Started"]), ["Referrals", "Started"], row_totals=False
    )
    ended = suppress_table(_school_rows(schools, counts, outcomes), outcomes)
    running = suppress_table(_school_rows(schools, counts, patterns), patterns)
    outside = sum(c["outside"] for c in counts.values())
    ehc = sum(c["ehc"] for c in counts.values())
    kpis = kpis_of_provisions([provision], period.year, suppress=True)[provision.pk]
    by_kpi = {k["kpi"]: k for k in _kpi_rows(kpis)}
    figures = {
        "period": period.code,
        "first_day": period.first,
        "last_day": period.last,
        "provision": provision.name,
        "host_school": provision.host_school.name,
        "partnership": provision.partnership.name,
        "referrals_and_starts": _table(
            "Referrals made and placements started in the term, by home school", "Home school", referrals
        ),
        "ended": _table(
            "Placements that ended in the term, by home school and where the pupil went next",
            "Home school",
            ended,
            total_heading="All that ended",
        ),
        "running": _table(
            "Placements that ran in the term, by home school and pattern of support",
            "Home school",
            running,
            total_heading="All that ran",
        ),
        "outside_key_stage": suppress_count(outside),
        "ehc_exceptions": suppress_count(ehc),
        "kpi_year": academic_year_label(period.year),
        "attendance": by_kpi["attendance_rate"],
        "suspensions": by_kpi["suspensions"],
        "kpis": list(by_kpi.values()),
    }
    return figures, kpis


@register(ReportKind.PROVISION_TERMLY)
def build_provision_termly(row: ReportRequest) -> tuple[dict, str, dict]:
    period = period_of(row)
    provision = BehaviourProvision.objects.select_related("partnership", "host_school").get(
        pk=row.provision_id
    )
    shared, kpis = provision_term(provision, period)
    figures = {"kind": row.kind, **shared}
    context = _context(
        title="Behaviour provision termly report",
        scope_name=f"{provision.name}, {provision.partnership.name}",
        period=period,
        kpi_chart=_kpi_chart(kpis, title="Attendance and reintegration: target and actual", chart_id="kpis"),
        contents=[
            ("term", "The term's placements"),
            ("flags", "Placements needing a recorded decision"),
            ("attendance", "Attendance and suspensions"),
            ("kpis", "KPIs: targets and actuals"),
        ],
    )
    return figures, "reports/provision_termly.html", context


# --- partnership annual report to the LA ---------------------------------------------------


@dataclass(frozen=True)
class Chapter:
    anchor: str
    heading: str
    narrative: str | None  # the NarrativeSection key the lead writes for it, if the app has one


# The chapters of the LA's annual report template (toolkit appendix 3), in its order.
CHAPTERS = (
    Chapter("summary", "Overall summary", NarrativeSection.SUMMARY),
    Chapter("budget", "Budget summary for the financial year", None),
    Chapter("staffing", "Staffing", None),
    Chapter("delivery", "Service delivery: pupils and schools supported", None),
    Chapter("curriculum", "Curriculum and resources", None),
    Chapter("kpis", "Performance monitoring and KPIs", None),
    Chapter("evaluation", "Reporting and evaluation", NarrativeSection.EVALUATION),
    Chapter(
        "quality",
        "Quality assurance and safeguarding",
        NarrativeSection.QUALITY_ASSURANCE_SAFEGUARDING,
    ),
    Chapter("partnerships", "Partnerships", NarrativeSection.PARTNERSHIPS),
    Chapter("communication", "Communication and feedback", NarrativeSection.COMMUNICATION_FEEDBACK),
    Chapter("contingency", "Contingency", NarrativeSection.CONTINGENCY),
    Chapter("future", "Future proofing", NarrativeSection.FUTURE_PROOFING),
)


def _narrative(chapter: Chapter, saved: dict[str, ReportNarrative | None]) -> dict:
    if chapter.narrative is None:
        return {
            "status": "none",
            "text": "",
            "note": "Provision Map has no written section for this chapter yet: it shows the "
            "recorded figures only.",
        }
    narrative = saved.get(chapter.narrative)
    if narrative is None or not narrative.text.strip():
        return {"status": "missing", "text": "", "note": "The partnership lead has not written this section."}
    final = narrative.status == NarrativeStatus.FINAL
    return {
        "status": narrative.status,
        "text": narrative.text,
        "note": "" if final else "A draft: the partnership lead has not marked this section final.",
    }


def _year_delivery(provision_ids: list[int], period: Period) -> dict:
    """Placements that ran in the school year at these provisions, as counts per home school
    and pattern, the placed pupils by SEN status, gender and ethnic group, and how long the
    placements that ended lasted (inside `counting()`; counts leave, rows do not)."""
    ran = _ran_in(period.first, period.last)
    with counting():
        placements = ProvisionPlacement.objects.filter(ran, provision_id__in=provision_ids).order_by()
        by_school: dict[int, dict[str, int]] = {}
        for item in placements.values("school_id", "pattern").annotate(n=Count("pk")):
            heading = PATTERN_HEADINGS[PlacementPattern(item["pattern"])]
            by_school.setdefault(item["school_id"], {})[heading] = item["n"]
        pupil_ids = set(placements.values_list("pupil_id", flat=True))
        # Leavers included: a pupil placed during the year counts even if they left since. A
        # pupil whose record moved outside the schools this report counts is "not known".
        people = list(Pupil.objects.filter(pk__in=pupil_ids).values_list("sen_status", "gender", "ethnicity"))
        ended = list(
            placements.filter(status=Status.ENDED, ends_on__gte=period.first, ends_on__lte=period.last).only(
                "pk", "starts_on", "ends_on", "school_id"
            )
        )
    unknown = len(pupil_ids) - len(people)
    sen = Counter(status for status, _, _ in people)
    gender = Counter(g for _, g, _ in people)
    ethnicity = Counter(_ethnic_group(e) for _, _, e in people)
    stays = Counter(_stay_band(p.length_of_stay_days or 0) for p in ended)
    return {
        "by_school": by_school,
        "sen": [(label, sen.get(code, 0)) for code, label in SenStatus.choices] + [(NOT_KNOWN, unknown)],
        "gender": [(label, gender.get(code, 0)) for code, label in Gender.choices]
        + [("Not recorded", gender.get("", 0)), (NOT_KNOWN, unknown)],
        "ethnicity": [(label, ethnicity.get(label, 0)) for _, label in ETHNIC_GROUPS]
        + [(ETHNICITY_UNRECORDED, ethnicity.get(ETHNICITY_UNRECORDED, 0)), (NOT_KNOWN, unknown)],
        "stays": [(label, stays.get(label, 0)) for _, label in STAY_BANDS],
    }


def _ethnic_group(code: str) -> str:
    for prefix, label in ETHNIC_GROUPS:
        if code == prefix or (len(prefix) == 1 and code.startswith(prefix)):
            return label
    return ETHNICITY_UNRECORDED


def _stay_band(days: int) -> str:
    for most, label in STAY_BANDS:
        if most is None or days <= most:
            return label
    return STAY_BANDS[-1][1]


def _column(caption: str, label_heading: str, column: str, counts: list[tuple[str, int]]) -> dict:
    """A one-column table of counts with its total (the column is the whole)."""
    rows = [{"label": label, column: n} for label, n in counts]
    return _table(caption, label_heading, suppress_table(rows, [column], row_totals=False))


def _agreements(partnership: Partnership, year: int) -> tuple[list[dict], dict]:
    scope = require_scope()
    agreements = list(agreements_for(scope).filter(partnership=partnership))
    rows = [
        {
            "provision": a.provision.name,
            "status": a.get_status_display(),
            "starts_on": a.starts_on,
            "review_on": a.review_on,
            "review": review_state(a).label,
            "last_reviewed_on": a.last_reviewed_on,
            "staffing": a.staffing,
            "curriculum": a.curriculum,
            "partnerships": a.partnerships,
            "quality_safeguarding": a.quality_safeguarding,
            "communication": a.communication,
        }
        for a in agreements
    ]
    survey = SlaReview.objects.filter(partnership=partnership, academic_year=year).aggregate(
        responses=Count("pk"),
        vision=Avg("reflects_vision"),
        provision=Avg("reflects_provision"),
        practice=Avg("reflects_practice"),
    )
    for key in ("vision", "provision", "practice"):
        value = survey[key]
        survey[key] = None if value is None else Decimal(value).quantize(Decimal("0.1"))
    return rows, survey


def partnership_year(
    scope: TenantScope, partnership: Partnership, period: Period, schools_now: Overview | None = None
) -> tuple[dict, list[BehaviourProvision], dict[int, list[KpiRow]]]:
    """The school year's figures for a partnership, suppressed, as its annual report and the
    dashboards show them; with the provisions and KPI rows the report's charts are drawn
    from. `partnership.local_authority` should be loaded.

    `schools_now` replaces the schools' table as the partnership's lead sees it (suppressed
    on its own): an LA officer reads it as part of the LA's linked tables (`la_overview`),
    which may hide more, so that it cannot undo the LA page's suppression."""
    year = period.year
    provisions = list(
        BehaviourProvision.objects.filter(partnership=partnership)
        .select_related("partnership", "host_school")
        .order_by("name", "pk")
    )
    budget = _budget([partnership.pk], year).first()
    money = _money(budget, budget_figures(budget) if budget else None)
    kpis = kpis_of_provisions(provisions, year, suppress=True)
    delivery = _year_delivery([p.pk for p in provisions], period)
    schools = _home_schools(partnership.pk, delivery["by_school"])
    patterns = list(PATTERN_HEADINGS.values())
    placements = suppress_table(_school_rows(schools, delivery["by_school"], patterns), patterns)
    overview = schools_now or partnership_overview(scope, partnership)
    figures = {
        "period": period.code,
        "school_year": academic_year_label(year),
        "financial_year": academic_year_label(year),
        "partnership": partnership.name,
        "local_authority": partnership.local_authority.name,
        "provisions": [
            {"id": p.pk, "name": p.name, "host_school": p.host_school.name, "places": p.places}
            for p in provisions
        ],
        "budget": money,
        "placements_by_school": _table(
            "Placements that ran in the school year, by home school and pattern of support",
            "Home school",
            placements,
            total_heading="All placements",
        ),
        "pupils_by_sen": _column(
            "Pupils placed in the year, by SEN provision (as recorded now)",
            "SEN provision",
            "Pupils",
            delivery["sen"],
        ),
        "pupils_by_gender": _column(
            "Pupils placed in the year, by gender", "Gender", "Pupils", delivery["gender"]
        ),
        "pupils_by_ethnicity": _column(
            "Pupils placed in the year, by ethnic group", "Ethnic group", "Pupils", delivery["ethnicity"]
        ),
        "length_of_stay": _column(
            "Placements that ended in the year, by how long they lasted",
            "Length of stay",
            "Placements",
            delivery["stays"],
        ),
        "schools_now": [_shown_table(t) for t in overview.tables],
        "kpis": [
            {"provision": p.name, "host_school": p.host_school.name, "rows": _kpi_rows(kpis[p.pk])}
            for p in provisions
        ],
    }
    return figures, provisions, kpis


def schools_as_the_la_reads_them(partnership: Partnership) -> Overview:
    """The partnership's schools' tables as its LA's officers read them, in the LA's linked
    tables (`la_overview`), with the partnership's row of the LA table hidden where it is.

    The annual report goes to the LA, whose officers also read the LA table. A schools' table
    suppressed on its own could show a partnership's totals that the LA table hides, and with
    the LA's column totals those pin another partnership's "<5". The LA's decision hides at
    least what the lead's own page hides, and every figure in it is of the partnership's own
    schools, so its lead learns no count from the report it did not have."""
    la_id = partnership.local_authority_id
    scope = TenantScope.system(
        partnerships=Partnership.objects.filter(local_authority_id=la_id).values_list("pk", flat=True),
        local_authorities=[la_id],
        count_schools=School.objects.filter(local_authority_id=la_id).values_list("pk", flat=True),
    )
    with tenant_scope(scope):
        partnerships = list(partnerships_for(scope).filter(local_authority_id=la_id))
        return la_overview(scope, partnerships).partnerships[partnership.pk]


@register(ReportKind.PARTNERSHIP_ANNUAL)
def build_partnership_annual(row: ReportRequest) -> tuple[dict, str, dict]:
    period = period_of(row)
    year = period.year
    partnership = Partnership.objects.select_related("local_authority").get(pk=row.partnership_id)
    shared, provisions, kpis = partnership_year(
        require_scope(), partnership, period, schools_as_the_la_reads_them(partnership)
    )
    money = shared["budget"]
    saved = {key: narrative for key, _, narrative in narratives_of_year(partnership, year)}
    agreements, survey = _agreements(partnership, year)
    lines = money["categories"] if money else []
    figures = {
        "kind": row.kind,
        **shared,
        "narratives": {c.anchor: _narrative(c, saved) for c in CHAPTERS},
        "staffing_lines": [
            c
            for c in lines
            if c["category"] in (BudgetCategory.STAFFING.label, BudgetCategory.TRAINING.label)
        ],
        "resource_lines": [c for c in lines if c["category"] == BudgetCategory.RESOURCES.label],
        "agreements": agreements,
        "sla_survey": survey,
    }
    charts = {
        p.pk: _kpi_chart(
            kpis[p.pk],
            title=f"{p.name}: attendance and reintegration, target and actual",
            chart_id=f"kpis-{p.pk}",
        )
        for p in provisions
    }
    context = _context(
        title="Behaviour provision: annual report to the local authority",
        scope_name=partnership.name,
        period=period,
        contents=[(c.anchor, c.heading) for c in CHAPTERS],
        chapters={c.anchor: c for c in CHAPTERS},
        spend_chart=spend_chart(money, chart_id="spend"),
        kpi_charts=[charts[p.pk] for p in provisions],
    )
    return figures, "reports/partnership_annual.html", context


# --- quarterly financial report ------------------------------------------------------------


@register(ReportKind.FINANCIAL_QUARTERLY)
def build_financial_quarterly(row: ReportRequest) -> tuple[dict, str, dict]:
    period = period_of(row)
    partnership = Partnership.objects.get(pk=row.partnership_id)
    hosts = list(
        BehaviourProvision.objects.filter(partnership=partnership)
        .select_related("host_school")
        .order_by("name", "pk")
    )
    budget = _budget([partnership.pk], period.year).first()
    money = _money(budget, budget_figures(budget) if budget else None)
    quarter = money["quarters"][period.quarter - 1] if money else None
    figures = {
        "kind": row.kind,
        "period": period.code,
        "financial_year": academic_year_label(period.year),
        "quarter": period.quarter,
        "first_day": period.first,
        "last_day": period.last,
        "partnership": partnership.name,
        "host_schools": sorted({p.host_school.name for p in hosts}),
        "budget": money,
        "this_quarter": quarter,
        "quarters_to_date": money["quarters"][: period.quarter] if money else [],
    }
    context = _context(
        title="Quarterly financial report",
        scope_name=partnership.name,
        period=period,
        spend_chart=spend_chart(money, upto=period.quarter, chart_id="spend"),
    )
    return figures, "reports/financial_quarterly.html", context


# --- LA overview across partnerships -------------------------------------------------------


def _kpi_matrix(provisions: Sequence[BehaviourProvision], kpis: dict[int, list[KpiRow]]) -> dict:
    """One row per provision, one column per KPI: the actual as shown, with the target."""
    headings = [row.label for row in next(iter(kpis.values()), [])]
    rows = []
    for p in provisions:
        cells = []
        for k in kpis[p.pk]:
            target = _figure(k.target)
            cells.append(k.shown if target is None else f"{k.shown} (target {target})")
        rows.append([f"{p.name} ({p.partnership.name})", *cells])
    return {
        "caption": "Each provision's KPIs for the school year: actual, with the target in brackets",
        "label_heading": "Provision",
        "headings": headings,
        "rows": rows,
        "totals": None,
        "withheld": False,
        "suppressed": 0,
    }


def la_year(scope: TenantScope, la: LocalAuthority, period: Period) -> dict:
    """The school year's figures across an LA's partnerships, suppressed, as the LA overview
    report and the LA officer's dashboard show them."""
    year = period.year
    partnerships = list(partnerships_for(scope).filter(local_authority=la))
    overview = la_overview(scope, partnerships)
    provisions = list(
        BehaviourProvision.objects.filter(partnership__in=partnerships)
        .select_related("partnership", "host_school")
        .order_by("partnership__name", "name", "pk")
    )
    kpis = kpis_of_provisions(provisions, year, suppress=True)
    budgets = {b.partnership_id: b for b in _budget([p.pk for p in partnerships], year)}
    positions = []
    for p in partnerships:
        budget = budgets.get(p.pk)
        money = _money(budget, budget_figures(budget) if budget else None)
        positions.append(
            {
                "partnership": p.name,
                "partnership_id": p.pk,
                "recorded": money is not None,
                **{
                    key: money[key] if money else None
                    for key in ("available", "committed", "awaiting_approval", "forecast", "variance")
                },
            }
        )
    return {
        "period": period.code,
        "school_year": academic_year_label(year),
        "financial_year": academic_year_label(year),
        "local_authority": la.name,
        "partnership_tables": [_shown_table(t) for t in overview.la.tables],
        "schools_by_partnership": [
            {
                "partnership": p.name,
                "partnership_id": p.pk,
                "tables": [
                    _shown_table(t, f"{p.name}: {t.section.title[:1].lower()}{t.section.title[1:]}")
                    for t in overview.partnerships[p.pk].tables
                ],
            }
            for p in partnerships
        ],
        "kpis": _kpi_matrix(provisions, kpis),
        "budgets": positions,
    }


@register(ReportKind.LA_OVERVIEW)
def build_la_overview(row: ReportRequest) -> tuple[dict, str, dict]:
    period = period_of(row)
    la = LocalAuthority.objects.get(pk=row.for_local_authority_id)
    figures = {"kind": row.kind, **la_year(require_scope(), la, period)}
    context = _context(
        title="Local authority overview across partnerships",
        scope_name=la.name,
        period=period,
        budget_chart=budget_chart(figures["budgets"]),
        contents=[
            ("partnerships", "Pupils by partnership"),
            ("kpis", "Behaviour provision KPIs"),
            ("budgets", "Budget position"),
            ("schools", "Schools in each partnership"),
        ],
    )
    return figures, "reports/la_overview.html", context
