"""The LA's provision library: where every school's catalogue starts.

Two sources, both data:
- a built-in list of provisions schools typically run, by area of need and wave, condensed
  from the "waves of intervention by area of need" lists and the example provision maps
  schools share (names stay close to the ones SENCOs use; the delivery figures are usual
  ones a school then adjusts: who delivers, the ratio, minutes, sessions a week, weeks);
- the strategy catalogues of the LA's current graduated-response frameworks, one library
  entry per strategy at the step's number, with figures that grow with the step.

Loading is idempotent: an entry whose name the library already holds (in any case) is left
as the LA has it, so re-running the load only adds what is new.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from graduated_response.models import Strategy
from interventions.models import LibraryProvision, StaffKind
from pupils.codes import AreaOfNeed, Measure
from schools.models import LocalAuthority

BUILT_IN_SOURCE = "typical-provisions"
MAX_STEP = 6


@dataclass(frozen=True)
class LibraryItem:
    name: str
    area: str
    wave: int
    staff_kind: str
    staff_count: int
    group_size: int
    session_minutes: int
    sessions_per_week: str
    typical_weeks: int
    measure: str = ""  # empty: an outcome rating from −2 to +2
    measure_name: str = ""
    higher_is_better: bool = True
    description: str = ""

    def fields(self) -> dict:
        return {
            "name": self.name,
            "area_of_need": self.area,
            "step_number": self.wave,
            "staff_kind": self.staff_kind,
            "staff_count": self.staff_count,
            "group_size": self.group_size,
            "session_minutes": self.session_minutes,
            "sessions_per_week": Decimal(self.sessions_per_week),
            "typical_weeks": self.typical_weeks,
            "measure": self.measure,
            "measure_name": self.measure_name,
            "higher_is_better": self.higher_is_better,
            "description": self.description,
        }


SEMH, CI, CL, SP = (
    AreaOfNeed.SEMH,
    AreaOfNeed.COMMUNICATION,
    AreaOfNeed.COGNITION,
    AreaOfNeed.SENSORY_PHYSICAL,
)
T, TA, HLTA, LSA, LM, S, EXT = (
    StaffKind.TEACHER,
    StaffKind.TA,
    StaffKind.HLTA,
    StaffKind.LSA,
    StaffKind.MENTOR,
    StaffKind.SENCO,
    StaffKind.EXTERNAL,
)
SDQ, BOXALL, READING, OTHER = (
    Measure.SDQ_TOTAL,
    Measure.BOXALL_DEV,
    Measure.READING_AGE,
    Measure.OTHER,
)

# fmt: off
TYPICAL_PROVISIONS: tuple[LibraryItem, ...] = (
    # --- social, emotional and mental health (behavioural, social and emotional) ---------
    LibraryItem("Circle time (PSHE)", SEMH, 1, T, 1, 30, 30, "1", 12,
                description="Whole-class circle time as part of PSHE and citizenship."),
    LibraryItem("Social skills group", SEMH, 2, TA, 1, 6, 45, "1", 10, BOXALL,
                description="Turn taking, social stories and role play in a small group."),
    LibraryItem("Small-group circle time", SEMH, 2, TA, 1, 8, 30, "1", 10,
                description="Circle time for a few pupils who need more practice than class sessions give."),
    LibraryItem("Structured break and lunchtime club", SEMH, 2, LSA, 1, 10, 30, "5", 12,
                description="A supervised, structured alternative to the playground at unstructured times."),
    LibraryItem("Drama therapy group for self-esteem", SEMH, 2, EXT, 1, 6, 60, "1", 10, SDQ,
                higher_is_better=False, description="A drama therapist works with a small group."),
    LibraryItem("Personal and social skills group (settling in)", SEMH, 2, T, 1, 12, 60, "1", 10,
                description="Settling into a new school: routines, friendships and where to get help."),
    LibraryItem("Emotional literacy group", SEMH, 2, TA, 1, 6, 45, "1", 10, SDQ, higher_is_better=False,
                description="Naming and managing feelings, with a before-and-after questionnaire."),
    LibraryItem("Key adult mentoring", SEMH, 2, LM, 1, 1, 30, "2", 12, SDQ, higher_is_better=False,
                description="A key worker checks in, mentors and links with home."),
    LibraryItem("1:1 behaviour programme (anger management)", SEMH, 3, LM, 1, 1, 60, "1", 12, SDQ,
                higher_is_better=False,
                description="Anger management techniques with an individual contract and rewards."),
    LibraryItem("Behaviour support team: individual work", SEMH, 3, EXT, 1, 1, 60, "1", 10, SDQ,
                higher_is_better=False, description="Individual work by the LA's behaviour support team."),
    LibraryItem("TA 1:1 support for behaviour plan targets", SEMH, 3, TA, 1, 1, 60, "5", 20,
                description="A teaching assistant supports and monitors the targets of the pupil's plan."),
    LibraryItem("1:1 counselling", SEMH, 3, EXT, 1, 1, 50, "1", 10, SDQ, higher_is_better=False),
    LibraryItem("Peer mentoring", SEMH, 3, LM, 1, 6, 30, "1", 10,
                description="Trained older pupils mentor, with a learning mentor overseeing."),
    LibraryItem("Individual transition programme", SEMH, 3, LM, 1, 1, 120, "1", 10,
                description="Extra visits, planning and a key adult for a move of school or phase."),
    LibraryItem("Nurture group", SEMH, 3, HLTA, 2, 10, 90, "4", 20, BOXALL,
                description="A small class for part of the day, built on the Boxall Profile."),
    # --- communication and interaction ----------------------------------------------------
    LibraryItem("Speech and language group", CI, 2, TA, 1, 4, 30, "2", 10, OTHER, "Language screening score"),
    LibraryItem("Social communication programme", CI, 2, T, 1, 4, 60, "1", 12, OTHER,
                "Teacher rating scale (speech and language therapist)",
                description="A term's weekly group, rated before and after on the therapist's scale."),
    LibraryItem("Language enrichment group", CI, 2, TA, 1, 6, 30, "2", 10),
    LibraryItem("1:1 speech therapy sessions", CI, 3, EXT, 1, 1, 30, "1", 12,
                description="Delivered by the speech and language therapist, practised with a TA."),
    LibraryItem("Visual timetable and task organiser", CI, 3, TA, 1, 1, 15, "5", 10),
    # --- cognition and learning -------------------------------------------------------------
    LibraryItem("Targeted reading group", CL, 2, TA, 1, 5, 60, "2", 10, READING),
    LibraryItem("Literacy workshop", CL, 2, S, 2, 10, 90, "1", 10, READING),
    LibraryItem("Spelling workshop", CL, 2, S, 1, 6, 60, "1", 20, OTHER, "Spelling age (months)"),
    LibraryItem("Multi-sensory spelling group", CL, 2, TA, 1, 6, 30, "2", 10, OTHER, "Spelling age (months)"),
    LibraryItem("Targeted numeracy group", CL, 2, TA, 1, 6, 60, "1", 10, OTHER, "Numeracy assessment score"),
    LibraryItem("Literacy booster class", CL, 2, T, 1, 16, 120, "1", 10, READING),
    LibraryItem("1:1 precision teaching", CL, 3, TA, 1, 1, 10, "5", 10, OTHER, "Items correct per minute"),
    LibraryItem("1:1 reading programme", CL, 3, TA, 1, 1, 30, "3", 12, READING),
    LibraryItem("1:1 numeracy programme", CL, 3, TA, 1, 1, 30, "3", 12, OTHER, "Number age (months)"),
    LibraryItem("Individual literacy programme (SENCO)", CL, 3, S, 1, 1, 60, "1", 20, READING),
    LibraryItem("Dyslexia programme", CL, 3, TA, 1, 1, 30, "2", 12, OTHER, "Spelling age (months)"),
    # --- sensory and/or physical -------------------------------------------------------------
    LibraryItem("Co-ordination group", SP, 2, TA, 1, 6, 30, "2", 10),
    LibraryItem("Handwriting and fine motor programme", SP, 2, TA, 1, 4, 20, "3", 10, OTHER,
                "Handwriting speed (words a minute)"),
    LibraryItem("Keyboard skills group", SP, 2, TA, 1, 6, 30, "1", 10, OTHER,
                "Typing speed (words a minute)"),
    LibraryItem("1:1 physiotherapy programme", SP, 3, TA, 1, 1, 30, "3", 12,
                description="Exercises set by the physiotherapist, delivered by a TA."),
    LibraryItem("In-class 1:1 access support (hearing or vision)", SP, 3, LSA, 1, 1, 60, "5", 20),
)
# fmt: on

# How a strategy from a framework step is usually delivered, by the step's number: the
# higher the step, the smaller the group, the more often, the longer and the more skilled.
STEP_DELIVERY: dict[int, dict] = {
    number: {"staff_kind": kind, "group_size": size, "session_minutes": minutes,
             "sessions_per_week": per_week, "typical_weeks": weeks}
    for number, kind, size, minutes, per_week, weeks in (
        (1, T, 30, 30, "1", 12),
        (2, TA, 6, 30, "2", 10),
        (3, TA, 4, 45, "2", 12),
        (4, LM, 1, 60, "2", 12),
        (5, HLTA, 1, 60, "3", 16),
        (6, LSA, 1, 60, "5", 20),
    )
}  # fmt: skip


def _from_strategy(strategy: Strategy) -> dict:
    number = strategy.step.number if strategy.step.number <= MAX_STEP else None
    delivery = dict(STEP_DELIVERY.get(number or MAX_STEP))
    delivery["sessions_per_week"] = Decimal(delivery["sessions_per_week"])
    measured = (number or MAX_STEP) >= 2
    return {
        "name": strategy.name[:200],
        "area_of_need": SEMH,
        "step_number": number,
        "description": strategy.description,
        "staff_count": 1,
        # Behaviour strategies above the universal step are measured by the SDQ, where a
        # fall in total difficulties is the progress hoped for.
        "measure": SDQ if measured else "",
        "higher_is_better": not measured,
        **delivery,
    }


def library_entries(la: LocalAuthority) -> list[tuple[str, dict]]:
    """(source, fields) for every entry the LA's library should hold, built-in ones first."""
    entries = [(BUILT_IN_SOURCE, item.fields()) for item in TYPICAL_PROVISIONS]
    strategies = (
        Strategy.objects.filter(local_authority=la, step__framework__is_current=True)
        .select_related("step__framework")
        .order_by("step__framework__name", "step__number", "order", "id")
    )
    entries += [(s.step.framework.slug, _from_strategy(s)) for s in strategies]
    return entries


@transaction.atomic
def library_load_for_la(la: LocalAuthority) -> tuple[int, int]:
    """Add to the LA's library what it lacks: (added, skipped because the name is there).
    Runs in a scope that writes the LA (a command's system scope); the database refuses
    the rows otherwise."""
    have = {
        n.casefold()
        for n in LibraryProvision.objects.filter(local_authority=la).values_list("name", flat=True)
    }
    rows, kept = [], 0
    for source, fields in library_entries(la):
        key = fields["name"].casefold()
        if key in have:
            kept += 1
            continue
        have.add(key)
        rows.append(LibraryProvision(local_authority=la, source=source[:60], **fields))
    LibraryProvision.objects.bulk_create(rows)
    return len(rows), kept
