"""Scale data: one new local authority at the size the design's quality bar names (120
schools, 60,000 pupils, about 12,000 on the SEN register, three school years of history),
for benchmarks. `manage.py generate_scale_data` runs `generate()`.

The modules, in the order a run writes:
- organisation: the LA, partnerships, schools, provisions, rates, term dates, the LA's
  frameworks and provision library (through their services), one user per role;
- pupils: each school's pupils (the demo's maker) and their SEN register history;
- graduated: step placements, strategies tried, support plans with targets and reviews,
  behaviour observations;
- interventions: each school's catalogue and every term's groups, enrolments, sessions and
  attendance;
- partnership: placements in the behaviour provisions with their pupil grants, budgets and
  KPI targets.

Every tenant row is written inside an explicit tenant scope (the school's, or the
partnership's with its schools and provision), so the row-level-security policies check
each one as they check the app's own writes. One transaction per school (two schools are
written at once by default, on two connections), then one per partnership: memory stays
bounded by a few schools' rows. Repeatable: the same seed and date
give the same data (every random choice comes from a `random.Random` seeded by the seed and
the school or partnership; only ids and time stamps differ).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from django.db import connection, reset_queries, transaction

from graduated_response.models import Framework, Step, Strategy
from interventions.models import LibraryProvision
from provisionmap.scale_data.bulk import Rows
from provisionmap.scale_data.graduated import GraduatedRows, decide_steps, observe, write_history
from provisionmap.scale_data.interventions import InterventionRows, terms_so_far, write_interventions
from provisionmap.scale_data.organisation import Options, World, start
from provisionmap.scale_data.partnership import (
    Candidate,
    PlacementRows,
    candidates,
    write_budgets,
    write_kpi_targets,
    write_placements,
)
from provisionmap.scale_data.pupils import make_pupils, pupil_rows, register_entries, register_rows
from schools.models import (
    BehaviourProvision,
    Budget,
    BudgetLine,
    KpiTarget,
    LocalAuthority,
    Partnership,
    Role,
    School,
    SpendItem,
    StaffRole,
    TermDates,
    User,
)
from schools.tenancy import TenantScope, tenant_scope

__all__ = ["Options", "Result", "generate"]


@dataclass
class Result:
    world: World
    counts: Counter  # model → rows written
    seconds: float


def generate(options: Options, *, say: Callable[[str], None] = lambda line: None) -> Result:
    """Write the scale LA; `say` hears a line of progress per partnership."""
    started = time.monotonic()
    with transaction.atomic():
        world = start(options)
    world.terms = terms_so_far(world)
    counts = _organisation_counts(world)
    for k, partnership in enumerate(world.partnerships):
        pool: list[Candidate] = []
        schools = world.schools_of(partnership)
        for school_counts, school_pool in _schools(world, schools):
            counts.update(school_counts)
            pool += school_pool
        _partnership(world, k, partnership, schools, pool, counts)
        say(f"{partnership.name}: {len(schools)} schools written ({time.monotonic() - started:.0f} s so far)")
    # Fresh planner statistics, as after seed_demo: tables analysed while nearly empty would
    # have the first pages plan as if they still were.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return Result(world, counts, time.monotonic() - started)


def _schools(world: World, schools: list[School]) -> list[tuple[Counter, list[Candidate]]]:
    """Each school's records and candidates, in the schools' order. With more than one job,
    schools are written side by side, each worker thread on its own connection: the
    database's work (inserts, then the foreign-key checks at commit) is most of a run, and
    a second connection puts the second core to it. Every school's choices come from its
    own seeded generator, so the data is the same whichever worker writes it."""
    if world.options.jobs == 1:
        return [_school_transaction(world, school) for school in schools]
    with ThreadPoolExecutor(max_workers=world.options.jobs) as workers:
        return list(workers.map(partial(_school_in_worker, world), schools))


def _school_in_worker(world: World, school: School) -> tuple[Counter, list[Candidate]]:
    try:
        return _school_transaction(world, school)
    finally:
        connection.close()  # the worker thread's own connection: none is left behind


def _school_transaction(world: World, school: School) -> tuple[Counter, list[Candidate]]:
    """One school in one transaction, in the school's scope."""
    counts: Counter = Counter()
    scope = TenantScope.system(schools=[school.pk], local_authorities=[world.la.pk])
    with transaction.atomic(), tenant_scope(scope):
        pool = _school(world, school, counts)
    reset_queries()  # DEBUG keeps every query: not a run's worth of them
    return counts, pool


def _write(counts: Counter, tables: list[Rows]) -> None:
    for rows in tables:
        counts[rows.model] += rows.write()


def _school(world: World, school: School, counts: Counter) -> list[Candidate]:
    """One school's records; returns its candidates for placements."""
    today = world.options.today
    rng = random.Random(f"scale-{world.options.seed}-school-{school.urn}")  # noqa: S311 - repeatable data
    pupils = pupil_rows()
    stories = make_pupils(world, school, rng, pupils)
    register = register_rows()
    register_entries(stories, rng, today, register)
    graduated = GraduatedRows()
    for story in stories:
        decide_steps(story, rng, today)
        write_history(world, story, rng, graduated)
    interventions = InterventionRows()
    staff = {}
    if school == world.schools[0]:  # where the scale users work
        staff = {"lead_id": world.users[Role.SENCO].pk, "practitioner_id": world.users[Role.PRACTITIONER].pk}
    write_interventions(world, school, stories, rng, interventions, **staff)
    observations = observe(world, stories, rng)
    _write(counts, [pupils, register, *graduated.tables(), *interventions.tables(), observations])
    return candidates(school, stories)


def _partnership(
    world: World,
    k: int,
    partnership: Partnership,
    schools: list[School],
    pool: list[Candidate],
    counts: Counter,
) -> None:
    """The partnership's placements, budgets and targets, in a scope naming its schools,
    itself and its provision (a placement is the home school's row shared with it)."""
    provision = world.provisions[partnership.pk]
    scope = TenantScope.system(
        schools=[s.pk for s in schools],
        partnerships=[partnership.pk],
        local_authorities=[world.la.pk],
        provisions=[provision.pk],
    )
    rng = random.Random(f"scale-{world.options.seed}-partnership-{k}")  # noqa: S311 - repeatable data
    with transaction.atomic(), tenant_scope(scope):
        placements = PlacementRows()
        write_placements(world, partnership, pool, rng, placements)
        _write(counts, placements.tables())
        made = write_budgets(world, partnership, rng)
        counts[Budget] += made["budgets"]
        counts[BudgetLine] += made["lines"]
        counts[SpendItem] += made["spend"]
        counts[KpiTarget] += write_kpi_targets(world, partnership)


def _organisation_counts(world: World) -> Counter:
    counts: Counter = Counter()
    counts[LocalAuthority] = 1
    counts[Partnership] = len(world.partnerships)
    counts[School] = len(world.schools)
    counts[BehaviourProvision] = len(world.provisions)
    counts[StaffRole] = StaffRole.objects.filter(local_authority=world.la).count()
    counts[TermDates] = TermDates.objects.filter(local_authority=world.la).count()
    counts[User] = len(world.users)
    with transaction.atomic(), tenant_scope(TenantScope.system(local_authorities=[world.la.pk])):
        counts[Framework] = Framework.objects.count()
        counts[Step] = Step.objects.count()
        counts[Strategy] = Strategy.objects.count()
        counts[LibraryProvision] = LibraryProvision.objects.count()
    return counts
