"""The scale LA's organisation: its code, partnerships, schools (of mixed phases), one
behaviour provision per partnership, staff rates, term dates, its copies of the framework
templates and provision library, and one user per role.

The LA's number is chosen from the seed among the numbers a UPN may carry, so every pupil's
UPN validates, and so that consecutive seeds get different LAs (and the demo LA is never
chosen). URNs are the LA's number followed by the school's three-digit serial.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from django.core.management.base import CommandError
from stdnum.gb import upn as upn_check

from graduated_response.demo import FRAMEWORK_SLUG
from graduated_response.models import Framework
from graduated_response.services import frameworks_load_for_la
from interventions.library import library_load_for_la
from interventions.models import LibraryProvision
from pupils.demo import make_upn
from schools.demo import LA as DEMO_LA
from schools.demo import STAFF_RATES, DemoUser, seed_user
from schools.models import (
    BehaviourProvision,
    LocalAuthority,
    Partnership,
    Role,
    School,
    StaffRole,
    TermDates,
    User,
)
from schools.selectors import school_calendar
from schools.tenancy import TenantScope, tenant_scope
from schools.terms import SchoolCalendar, academic_year_of, typical_terms

Phase = School.Phase

KEY_STAGES = {
    Phase.NURSERY: "EYFS",
    Phase.PRIMARY: "EYFS,KS1,KS2",
    Phase.SECONDARY: "KS3,KS4",
    Phase.ALL_THROUGH: "EYFS,KS1,KS2,KS3,KS4",
    Phase.SPECIAL: "KS1,KS2,KS3,KS4",
}
# Shares of the LA's schools by phase, roughly England's mix by pupils (every school here has
# the same roll): with special schools at 2%, about a fifth of all pupils are on the register.
PHASE_SHARES = {Phase.SECONDARY: 0.14, Phase.SPECIAL: 0.02, Phase.ALL_THROUGH: 0.03, Phase.NURSERY: 0.04}
SUFFIX = {
    Phase.NURSERY: "Nursery School",
    Phase.PRIMARY: "Primary School",
    Phase.SECONDARY: "High School",
    Phase.ALL_THROUGH: "All-Through Academy",
    Phase.SPECIAL: "Special School",
}
PLACES = [
    "Alderley", "Birchfield", "Castleton", "Deanbrook", "Elmhurst", "Fernhill", "Greystone",
    "Hawthorn", "Ivydale", "Juniper Hill", "Kestrel", "Larkrise", "Millbrook", "Northgate",
    "Oakleigh", "Pinewood", "Queensway", "Rosedale", "Stonebridge", "Thornbury", "Upton",
    "Valley Road", "Willowmead", "Yewtree", "Ashcombe", "Brackenside", "Coppergate", "Dovecote",
    "Eastwick", "Foxglove", "Glenfield", "Hollins", "Kingsbury", "Longmoor", "Marshside",
]  # fmt: skip
AREAS = ["North", "South", "East", "West", "Central", "Riverside", "Uplands", "Coastal", "Forest", "Vale"]
# Key stages each behaviour provision takes: a KS1 pupil placed there is outside them.
PROVISION_KEY_STAGES = "KS2,KS3,KS4"
PROVISION_PLACES = 12


@dataclass(frozen=True)
class Options:
    seed: int
    schools: int
    pupils_per_school: int
    partnerships: int
    years: int
    today: date
    jobs: int = 1  # schools written at once, each on its own connection

    @property
    def prefix(self) -> str:
        return f"scale{self.seed}-"


@dataclass
class FrameworkSteps:
    """The ids of the LA's NW six-step framework, read once so no school needs a query."""

    framework_id: int
    step_ids: dict[int, int]
    rules: dict[int, int]  # step number → strategies tried and reviewed before moving up
    strategies: dict[int, list[int]]  # step number → its catalogue's strategy ids


@dataclass
class World:
    options: Options
    la: LocalAuthority
    partnerships: list[Partnership]
    schools: list[School]
    provisions: dict[int, BehaviourProvision]  # by partnership id
    calendar: SchoolCalendar
    steps: FrameworkSteps
    library: dict[str, LibraryProvision]
    users: dict[str, User] = field(default_factory=dict)  # by role
    credentials: list[dict] = field(default_factory=list)
    terms: list = field(default_factory=list)  # interventions.demo.Period of each term so far
    _due: dict[date, date] = field(default_factory=dict, repr=False)

    def review_due_after(self, day: date) -> date:
        """The school day a review falls due: the LA's interval in school weeks after `day`
        (remembered: plans start and are reviewed on a few hundred distinct days)."""
        if day not in self._due:
            self._due[day] = self.calendar.add_school_weeks(day, self.la.review_interval_weeks)
        return self._due[day]

    def schools_of(self, partnership: Partnership) -> list[School]:
        return [s for s in self.schools if s.partnership_id == partnership.pk]


@cache
def _la_numbers() -> tuple[str, ...]:
    """LA numbers a UPN may carry (python-stdnum knows the DfE's list), less the demo's."""
    return tuple(
        code
        for code in (f"{n:03d}" for n in range(100, 1000))
        if code != DEMO_LA["code"] and upn_check.is_valid(make_upn(code, "0000", 2024, 1))
    )


def la_code_for(seed: int) -> str:
    numbers = _la_numbers()
    return numbers[seed % len(numbers)]


def la_name_for(seed: int) -> str:
    return f"Scaleshire Council (seed {seed})"


def refusal(options: Options) -> str:
    """Why this run cannot go ahead ("" when it can): its LA, URNs or usernames are taken.
    Checked before anything is written, so a refused run changes nothing."""
    code = la_code_for(options.seed)
    existing = LocalAuthority.objects.filter(code=code).first()
    if existing is not None:
        return (
            f"Scale data for seed {options.seed} is already here: local authority {existing} exists. "
            "Choose another --seed, or use a fresh database."
        )
    urns = [_urn(code, i) for i in range(options.schools)]
    taken = School.objects.filter(urn__in=urns).order_by("urn").values_list("urn", flat=True).first()
    if taken:
        return f"URN {taken}, which seed {options.seed} would give a school, is taken: choose another --seed."
    user = User.objects.filter(username__startswith=options.prefix).order_by("username").first()
    if user is not None:
        return f"The user {user.username} exists already: choose another --seed."
    return ""


def _urn(code: str, index: int) -> str:
    return f"{code}{index + 1:03d}"


def _phases(members: list[list[int]], rng: random.Random) -> dict[int, str]:
    """Each school's phase: a partnership's first school is a secondary (it hosts the
    provision) and its second a primary; the others share out the LA's mix, shuffled."""
    total = sum(len(indexes) for indexes in members)
    phases = {indexes[0]: Phase.SECONDARY for indexes in members}
    phases |= {indexes[1]: Phase.PRIMARY for indexes in members if len(indexes) > 1}
    rest = sorted(i for indexes in members for i in indexes[2:])
    wanted = {phase: round(share * total) for phase, share in PHASE_SHARES.items()}
    wanted[Phase.SECONDARY] -= len(members)  # the hosts
    mix = [phase for phase, n in wanted.items() for _ in range(max(0, n))][: len(rest)]
    mix += [Phase.PRIMARY] * (len(rest) - len(mix))
    rng.shuffle(mix)
    return phases | dict(zip(rest, mix, strict=True))


def _name(index: int, phase: str) -> str:
    place = PLACES[index % len(PLACES)]
    round_ = index // len(PLACES)
    return f"{place}{f' {round_ + 1}' if round_ else ''} {SUFFIX[phase]}"


def build_organisation(options: Options) -> tuple[LocalAuthority, list[Partnership], list[School], dict]:
    """The LA, its partnerships, schools, provisions and staff rates (tables outside the
    tenant wall, as the demo's are). School i joins partnership i mod P."""
    rng = random.Random(f"scale-{options.seed}-organisation")  # noqa: S311 - repeatable data, not secrets
    code = la_code_for(options.seed)
    la = LocalAuthority.objects.create(code=code, name=la_name_for(options.seed))
    count = options.partnerships
    partnerships = Partnership.objects.bulk_create(
        Partnership(
            local_authority=la,
            name=f"{AREAS[k % len(AREAS)]}{f' {k // len(AREAS) + 1}' if k >= len(AREAS) else ''} Partnership",
        )
        for k in range(count)
    )
    members = [list(range(k, options.schools, count)) for k in range(count)]
    phase_of = _phases(members, rng)
    schools = School.objects.bulk_create(
        School(
            urn=_urn(code, i),
            name=_name(i, phase_of[i]),
            local_authority=la,
            partnership=partnerships[i % count],
            phase=phase_of[i],
            key_stages=KEY_STAGES[phase_of[i]],
        )
        for i in range(options.schools)
    )
    provisions = {}
    for partnership, indexes in zip(partnerships, members, strict=True):
        host = schools[indexes[0]]
        provisions[partnership.pk] = BehaviourProvision.objects.create(
            name=f"{partnership.name.removesuffix(' Partnership')} Learning Base",
            host_school=host,
            partnership=partnership,
            places=PROVISION_PLACES,
            key_stages=PROVISION_KEY_STAGES,
        )
    StaffRole.objects.bulk_create(
        StaffRole(local_authority=la, school=None, kind=kind, hourly_cost=cost)
        for kind, cost in STAFF_RATES.items()
    )
    return la, partnerships, schools, provisions


def seed_term_dates(la: LocalAuthority, options: Options) -> SchoolCalendar:
    """Usual term dates for each school year of history and the next (reviews falling due
    after the summer count school weeks of it)."""
    this_year = academic_year_of(options.today)
    TermDates.objects.bulk_create(
        TermDates(local_authority=la, academic_year=year, **term)
        for year in range(this_year - options.years + 1, this_year + 2)
        for term in typical_terms(year)
    )
    return school_calendar(la.pk)


def load_reference_data(la: LocalAuthority) -> tuple[FrameworkSteps, dict[str, LibraryProvision]]:
    """The LA's frameworks (all three templates, as the demo LA has) and provision library,
    through the services the load commands use, in the LA's scope."""
    with tenant_scope(TenantScope.system(local_authorities=[la.pk])):
        frameworks_load_for_la(la=la)
        library_load_for_la(la)
        framework = Framework.objects.get(local_authority=la, slug=FRAMEWORK_SLUG, is_current=True)
        steps = list(framework.steps.prefetch_related("strategies").order_by("number"))
        library = {item.name: item for item in LibraryProvision.objects.filter(local_authority=la)}
    return (
        FrameworkSteps(
            framework_id=framework.pk,
            step_ids={s.number: s.pk for s in steps},
            rules={s.number: s.min_strategies_to_escalate or 0 for s in steps},
            strategies={s.number: sorted(x.pk for x in s.strategies.all()) for s in steps},
        ),
        library,
    )


def scale_users(world: World) -> list[DemoUser]:
    """One user per role of the LA: the school roles at the first school, which hosts the
    first partnership's provision (so its headteacher reads and signs that budget)."""
    first = world.schools[0]
    partnership = world.partnerships[0]
    provision = world.provisions[partnership.pk]
    name = world.options.prefix
    return [
        DemoUser(f"{name}senco", "Sasha", "Bennett", [(Role.SENCO, first)]),
        DemoUser(f"{name}headteacher", "Hannah", "Osei", [(Role.HEADTEACHER, first)]),
        DemoUser(f"{name}practitioner", "Pavel", "Nowicki", [(Role.PRACTITIONER, first)]),
        DemoUser(f"{name}provision-lead", "Leon", "Carter", [(Role.PROVISION_LEAD, provision)]),
        DemoUser(f"{name}partnership-lead", "Ruth", "Adeyemi", [(Role.PARTNERSHIP_LEAD, partnership)]),
        DemoUser(f"{name}la-officer", "Imran", "Shah", [(Role.LA_OFFICER, world.la)]),
        DemoUser(f"{name}la-admin", "Carys", "Lloyd", [(Role.LA_ADMIN, world.la)]),
    ]


def seed_scale_users(world: World) -> None:
    """Users with passwords (and two-factor secrets) derived as the demo's are."""
    for spec in scale_users(world):
        rows = seed_user(spec)
        world.credentials += rows
        world.users[rows[0]["role"]] = User.objects.get(username=spec.username)


def start(options: Options) -> World:
    """Everything outside the schools' own records, or a CommandError naming what is taken."""
    reason = refusal(options)
    if reason:
        raise CommandError(reason)
    la, partnerships, schools, provisions = build_organisation(options)
    calendar = seed_term_dates(la, options)
    steps, library = load_reference_data(la)
    world = World(options, la, partnerships, schools, provisions, calendar, steps, library)
    seed_scale_users(world)
    return world
