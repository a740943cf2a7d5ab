"""Figures for the roles over many schools: the KPIs of behaviour provisions, and a
partnership's and an LA's overview tables, with small-number suppression.

These live here rather than in `schools/` because they count pupils, steps on the graduated
response and placements in behaviour provisions, and this app builds on all three (schools
knows none of them). Every pupil-level read runs inside `counting()` and returns counts,
never rows: a partnership lead or LA officer reaches the schools it may only count there,
and nowhere else. Figures are made safe to show by schools/suppression.py, the one place
that rule lives.

Overview tables are linked: an LA officer sees each partnership as a row of the LA table
and, one level down, as the totals row of its schools' table. Suppressing each table on
its own lets one table's figures pin another's hidden cells (an LA column total less a
partnership's hidden schools leaves another partnership's "<5"), so `_linked` decides
suppression once over every table the LA officer reads together.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TypeVar

from django.core.cache import cache
from django.db.models import Count, FilteredRelation, Q, QuerySet
from redis.exceptions import RedisError

from interventions.placements import KpiRow, kpis_of_provisions
from pupils.codes import AreaOfNeed, SenStatus, in_area
from pupils.models import Pupil
from schools.cache import tenant_key
from schools.models import BehaviourProvision, Partnership, School
from schools.suppression import (
    TOTAL,
    SuppressedTable,
    suppress_linked,
    suppress_table,
)
from schools.tenancy import TenantScope, counting, current_scope

# --- KPIs -----------------------------------------------------------------------------------


def kpi_provisions(scope: TenantScope) -> QuerySet[BehaviourProvision]:
    """Provisions whose KPIs the scope sees: a provision lead its own, a partnership lead its
    partnership's, an LA officer every provision in the LA (no one else holds either set)."""
    return (
        BehaviourProvision.objects.filter(pk__in=scope.read_provision | scope.count_provision)
        .select_related("partnership", "host_school")
        .order_by("partnership__name", "name")
    )


def sees_exact_kpis(scope: TenantScope, provision: BehaviourProvision) -> bool:
    """The provision's own staff see its figures exactly; everyone else, suppressed.
    (Asked of the scope outside `counting()`, which widens the provisions it reads.)"""
    return provision.pk in scope.read_provision


@dataclass
class ProvisionKpis:
    provision: BehaviourProvision
    rows: list[KpiRow]
    suppressed: bool


@dataclass
class PartnershipKpis:
    partnership: Partnership
    provisions: list[ProvisionKpis] = field(default_factory=list)


def kpis_by_partnership(
    scope: TenantScope, year: int, provisions: list[BehaviourProvision] | None = None
) -> list[PartnershipKpis]:
    """Each provision's KPI table for the school year, grouped by partnership (three
    queries whatever the number of provisions: the provisions, placements and targets)."""
    if provisions is None:
        provisions = list(kpi_provisions(scope))
    exact = {p.pk for p in provisions if sees_exact_kpis(scope, p)}
    tables = kpis_of_provisions(provisions, year, suppress=lambda p: p.pk not in exact)
    groups: dict[int, PartnershipKpis] = {}
    for p in provisions:
        group = groups.setdefault(p.partnership_id, PartnershipKpis(p.partnership))
        group.provisions.append(ProvisionKpis(p, tables[p.pk], suppressed=p.pk not in exact))
    return list(groups.values())


# --- overview tables ------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One overview table: its columns are parts of one whole, so its row totals mean
    something (pupils on the register are those on SEN support and those with a plan)."""

    key: str
    title: str
    columns: tuple[tuple[str, str], ...]  # (count key, heading)
    total: str  # what a row total counts


SECTIONS = (
    Section(
        "register",
        "Pupils on the SEN register",
        (("sen_support", "SEN support (K)"), ("ehc_plan", "EHC plan (E)")),
        "On the register",
    ),
    Section(
        "needs",
        "Pupils on the SEN register by area of primary need",
        tuple((f"area_{a.value}", a.label) for a in AreaOfNeed),
        "On the register",
    ),
    Section(
        "steps",
        "Pupils at steps 4 to 6 of the graduated response (current step)",
        (("step_4", "Step 4"), ("step_5", "Step 5"), ("step_6", "Step 6 or above")),
        "Steps 4 to 6",
    ),
    Section(
        "placements",
        "Pupils placed in a behaviour provision now (by home school)",
        (("placed_in_stage", "In their key stage"), ("placed_outside", "Outside their key stage")),
        "Placed now",
    ),
)
COUNT_KEYS = tuple(key for section in SECTIONS for key, _ in section.columns)


def _area_counts() -> dict[str, Count]:
    """Pupils on the register per area of their primary need (none recorded: "other")."""
    on_register = ~Q(sen_status=SenStatus.NONE)
    counts = {}
    for area in AreaOfNeed:
        counts[f"area_{area.value}"] = Count("pk", filter=on_register & in_area(area), distinct=True)
    return counts


def school_counts(school_ids: Collection[int]) -> dict[int, dict[str, int]]:
    """Every overview count per school, for pupils on roll, in one grouped query inside
    `counting()`. A pupil has at most one current step and one current placement (database
    constraints), so the joins never repeat a pupil; counts are distinct all the same.

    There is no filter (by year group, say) on purpose: a filtered table suppressed on its
    own beside the unfiltered one would let small counts be worked out by difference."""
    if not school_ids:
        return {}
    with counting():
        rows = (
            Pupil.objects.filter(school_id__in=school_ids, is_active=True)
            .annotate(
                step=FilteredRelation("step_placements", condition=Q(step_placements__status="active")),
                placed=FilteredRelation(
                    "provision_placements", condition=Q(provision_placements__status="active")
                ),
            )
            .order_by()
            .values("school_id")
            .annotate(
                sen_support=Count("pk", filter=Q(sen_status=SenStatus.SEN_SUPPORT), distinct=True),
                ehc_plan=Count("pk", filter=Q(sen_status=SenStatus.EHC_PLAN), distinct=True),
                **_area_counts(),
                step_4=Count("pk", filter=Q(step__step__number=4), distinct=True),
                step_5=Count("pk", filter=Q(step__step__number=5), distinct=True),
                step_6=Count("pk", filter=Q(step__step__number__gte=6), distinct=True),
                placed_in_stage=Count("pk", filter=Q(placed__outside_key_stage=False), distinct=True),
                placed_outside=Count("pk", filter=Q(placed__outside_key_stage=True), distinct=True),
            )
        )
        return {row.pop("school_id"): row for row in rows}


@dataclass(frozen=True)
class ShownRow:
    label: str
    pk: int | None  # the partnership an LA row opens, if any
    cells: list[str]


@dataclass(frozen=True)
class ShownTable:
    """A suppressed table ready for a template or the API: strings only."""

    section: Section
    label_heading: str
    headings: list[str]  # the columns, then the row total's heading
    rows: list[ShownRow]
    totals: list[str]
    withheld: bool
    suppressed: int


@dataclass(frozen=True)
class _Row:
    label: str
    pk: int | None
    counts: dict[str, int]


Cell = tuple[int | str, str]  # (row index or TOTAL, heading or TOTAL), as suppress_table's `hide`


def _data(section: Section, rows: list[_Row]) -> list[dict]:
    return [
        {"label": row.label, **{heading: row.counts.get(key, 0) for key, heading in section.columns}}
        for row in rows
    ]


T = TypeVar("T")
# Bump when the suppression rule changes: what was remembered under the old rule is not used.
SUPPRESSION_VERSION = 1
REMEMBER_SECONDS = 24 * 60 * 60


def remembered(kind: str, inputs: object, decide: Callable[[], T]) -> T:
    """The suppression of these exact counts, decided once and then read from the cache.

    Suppressing an LA's linked tables is a search that takes a few hundred milliseconds at
    LA scale, while its answer depends on nothing but the counts, the headings and the rule.
    So the answer is kept under a hash of those inputs: new counts make a new key, and an
    answer is never stale. The key is the tenant's (schools/cache.py), so nothing is shared
    between scopes. With no scope active, or Redis unreachable, it is worked out afresh."""
    scope = current_scope()
    if scope is None:
        return decide()
    # Plain JSON only: an input of any other type fails here, in the tests, rather than
    # being turned into a key that two different inputs could share.
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
    key = tenant_key(scope, kind, f"v{SUPPRESSION_VERSION}", digest[:32])
    try:
        found = cache.get(key)
    except Exception:  # Redis away, or an answer pickled by older code: a miss
        found = None
    if found is not None:
        return found
    answer = decide()
    with contextlib.suppress(RedisError, OSError):
        cache.set(key, answer, REMEMBER_SECONDS)
    return answer


def _suppress(section: Section, rows: list[_Row], hide: Collection[Cell] = ()) -> SuppressedTable:
    headings = [heading for _, heading in section.columns]
    data = _data(section, rows)
    return remembered(
        "suppressed",
        [data, headings, sorted(hide, key=str)],
        lambda: suppress_table(data, headings, hide=hide),
    )


def _shown(section: Section, label_heading: str, rows: list[_Row], table: SuppressedTable) -> ShownTable:
    columns = [*table.columns, TOTAL]
    totals = table.totals or {}
    return ShownTable(
        section=section,
        label_heading=label_heading,
        headings=[*table.columns, section.total],
        rows=[
            ShownRow(row.label, row.pk, [shown[c] for c in columns])
            for row, shown in zip(rows, table.rows, strict=True)
        ],
        totals=[totals.get(c, "") for c in columns],
        withheld=table.withheld,
        suppressed=table.suppressed,
    )


def _linked(
    section: Section, top: list[_Row], below: dict[int, list[_Row]]
) -> tuple[SuppressedTable, dict[int, SuppressedTable]]:
    """The LA table (`top`, one row per partnership) and each partnership's schools' table
    (`below`), suppressed as the LA officer reads them: all together, in one decision over
    every line of every table (`suppress_linked`). A partnership's row and its schools'
    totals are then one figure, hidden in both or shown in both, and no table's hidden
    cells can be worked out from another's.

    Each schools' table starts from what it hides on its own (what the partnership lead
    sees), so the LA officer never sees more of a partnership than its lead does. The lead
    cannot count the other partnerships this decision turns on, so the lead's table stays
    suppressed on its own (`partnership_overview`).
    """
    index = {row.pk: i for i, row in enumerate(top) if row.pk is not None}
    headings = [heading for _, heading in section.columns]
    top_data = _data(section, top)
    below_data = {index[pk]: _data(section, rows) for pk, rows in below.items()}
    la, tables = remembered(
        "suppressed-linked",
        [top_data, sorted(below_data.items()), headings],
        lambda: suppress_linked(top_data, below_data, headings),
    )
    return la, {pk: tables[index[pk]] for pk in below}


@dataclass(frozen=True)
class Overview:
    """One suppressed table per section."""

    tables: list[ShownTable]


def countable_schools(scope: TenantScope) -> QuerySet[School]:
    """Schools whose pupils the scope may count: a partnership's for its lead, the LA's for
    an LA officer (no other role counts schools it cannot read)."""
    return School.objects.filter(pk__in=scope.count_school).order_by("name")


def partnership_overview(scope: TenantScope, partnership: Partnership) -> Overview:
    """One row per school of the partnership, as its lead sees it (two queries)."""
    schools = list(countable_schools(scope).filter(partnership_id=partnership.pk))
    counts = school_counts([s.pk for s in schools])
    rows = [_Row(s.name, None, counts.get(s.pk, {})) for s in schools]
    return Overview([_shown(section, "School", rows, _suppress(section, rows)) for section in SECTIONS])


@dataclass(frozen=True)
class LaOverview:
    la: Overview  # one row per partnership (and one for schools in none)
    partnerships: dict[int, Overview]  # each partnership's schools, linked to the LA table


NO_PARTNERSHIP = "Schools in no partnership"


def la_overview(scope: TenantScope, partnerships: list[Partnership]) -> LaOverview:
    """The LA table by partnership and every partnership's schools' table, linked (two
    queries beyond the partnerships: the schools and the counts)."""
    schools = list(countable_schools(scope))
    counts = school_counts([s.pk for s in schools])
    names = {p.pk: p.name for p in partnerships}
    below: dict[int, list[_Row]] = {pk: [] for pk in names}
    loose: list[School] = []
    for school in schools:
        if school.partnership_id in below:
            below[school.partnership_id].append(_Row(school.name, None, counts.get(school.pk, {})))
        else:
            loose.append(school)
    top = [_Row(names[pk], pk, _sum(rows)) for pk, rows in below.items()]
    if loose:
        top.append(_Row(NO_PARTNERSHIP, None, _sum([_Row("", None, counts.get(s.pk, {})) for s in loose])))
    la_tables: list[ShownTable] = []
    below_tables: dict[int, list[ShownTable]] = {pk: [] for pk in below}
    for section in SECTIONS:
        la, tables = _linked(section, top, below)
        la_tables.append(_shown(section, "Partnership", top, la))
        for pk, table in tables.items():
            below_tables[pk].append(_shown(section, "School", below[pk], table))
    return LaOverview(Overview(la_tables), {pk: Overview(t) for pk, t in below_tables.items()})


def _sum(rows: list[_Row]) -> dict[str, int]:
    return {key: sum(row.counts.get(key, 0) for row in rows) for key in COUNT_KEYS}
