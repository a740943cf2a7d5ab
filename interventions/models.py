"""Interventions: what a school offers, who runs it, who gets it, what it costs, what works.

- LibraryProvision: the LA's library of provisions (LA-keyed), from which each school's
  catalogue is seeded.
- Provision: a school's catalogue entry; InterventionGroup: one run of it with its staff,
  schedule and weeks; Enrolment: a pupil in a group, with entry and exit measures (or, for
  targets with no score, an outcome rating from −2 to +2); Session and Attendance: what was
  delivered and who came.

Every row but the library belongs to a school (SchoolRecord), so the tenant scoping and
row-level security cover them like any pupil record. Costs are computed, never stored:
weekly staff time × the hourly rate of the staff kind (the school's own rate, else the LA's)
× weeks (see costing.py).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from graduated_response.models import LocalAuthorityRecord, StrategyTried, person_field
from pupils.codes import AreaOfNeed, Measure
from pupils.models import Pupil, SchoolRecord
from schools.models import StaffRole
from schools.terms import Term

StaffKind = StaffRole.Kind


class DeliveryFields(models.Model):
    """How a provision is delivered: the figures a costed provision map is built from."""

    staff_kind = models.CharField("staff", max_length=20, choices=StaffKind.choices, default=StaffKind.TA)
    staff_count = models.PositiveSmallIntegerField(
        "staff per session", default=1, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    group_size = models.PositiveSmallIntegerField(
        "pupils per group", default=1, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    session_minutes = models.PositiveSmallIntegerField(
        "minutes per session", default=60, validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    sessions_per_week = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal(25))],
    )

    class Meta:
        abstract = True

    @property
    def ratio(self) -> str:
        return f"{self.staff_count}:{self.group_size}"

    @property
    def weekly_staff_hours(self) -> Decimal:
        """Hours of staff time a week: sessions × length × staff."""
        return self.sessions_per_week * Decimal(self.session_minutes) / 60 * self.staff_count


class ProvisionFields(DeliveryFields):
    name = models.CharField(max_length=200)
    area_of_need = models.CharField(max_length=20, choices=AreaOfNeed.choices, default=AreaOfNeed.SEMH)
    step_number = models.PositiveSmallIntegerField(
        "wave or step",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(6)],
        help_text="The wave (1–3) or step (1–6) of the graduated response it belongs to.",
    )
    description = models.TextField(blank=True)
    typical_weeks = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text="Usually 8 to 20 weeks.",
    )
    measure = models.CharField(
        "entry and exit measure",
        max_length=24,
        choices=Measure.choices,
        blank=True,
        help_text="Empty: rated −2 to +2.",
    )
    measure_name = models.CharField(max_length=100, blank=True, help_text="For another measure: its name.")
    higher_is_better = models.BooleanField(
        default=True, help_text="Off for measures where a fall is progress, such as SDQ total difficulties."
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        # Known measures fix the direction of progress, so a fall in SDQ is never a loss.
        self.higher_is_better = measure_direction(self.measure, self.higher_is_better)
        super().save(*args, **kwargs)


# Measures on which a fall is progress: their direction is set, not asked.
LOWER_IS_BETTER = frozenset({Measure.SDQ_TOTAL, Measure.BOXALL_DIAG})


def measure_direction(measure: str, given: bool) -> bool:
    """Whether a higher score is better: fixed for known measures, as given for "other"."""
    if measure in LOWER_IS_BETTER:
        return False
    if measure and measure != Measure.OTHER:
        return True
    return given


class LibraryProvision(LocalAuthorityRecord, ProvisionFields):
    """An entry of the LA's provision library: the starting point of each school's catalogue."""

    source = models.CharField(max_length=60, blank=True, help_text="Where it came from, e.g. nw-six-step.")

    class Meta:
        ordering = ["step_number", "name"]
        constraints = [
            models.UniqueConstraint(fields=["local_authority", "name"], name="library_name_per_la")
        ]

    def __str__(self) -> str:
        return self.name


class Provision(SchoolRecord, ProvisionFields):
    """A school's catalogue entry."""

    pupil_path = "groups__enrolments__pupil"

    library_item = models.ForeignKey(
        LibraryProvision, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["step_number", "name"]
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="provision_name_per_school")]

    def __str__(self) -> str:
        return self.name


class InterventionGroup(SchoolRecord, DeliveryFields):
    """One run of a provision: who leads it, when it meets, for how many weeks."""

    pupil_path = "enrolments__pupil"

    provision = models.ForeignKey(Provision, on_delete=models.PROTECT, related_name="groups")
    name = models.CharField(max_length=200)
    lead = person_field(help_text="The member of staff who leads the group.")
    staff = models.ManyToManyField(
        "schools.User", through="GroupStaff", related_name="+", blank=True, help_text="Staff who run it."
    )
    schedule = models.CharField(max_length=200, blank=True, help_text="e.g. Tuesdays and Thursdays, 13:15.")
    academic_year = models.PositiveSmallIntegerField()
    term = models.CharField(
        max_length=6, choices=Term.choices, blank=True, help_text="Empty: the whole year."
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    weeks = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal(52))],
        help_text="Weeks of delivery that are costed.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="group_ends_after_start"),
            models.CheckConstraint(condition=Q(weeks__gt=0), name="group_weeks_positive"),
        ]
        indexes = [models.Index(fields=["school", "academic_year", "term"], name="group_school_period")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The group cannot end before it starts."})


class GroupStaff(SchoolRecord):
    """A member of staff who runs a group: a practitioner sees the group's pupils through it."""

    group = models.ForeignKey(InterventionGroup, on_delete=models.CASCADE, related_name="staff_links")
    user = models.ForeignKey("schools.User", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="staff_once_per_group")]


class Enrolment(SchoolRecord):
    """A pupil in a group, from a date (and, if they left early, to one), with entry and
    exit measures or an outcome rating."""

    pupil_path = "pupil"

    group = models.ForeignKey(InterventionGroup, on_delete=models.CASCADE, related_name="enrolments")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="enrolments")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="Empty: to the end of the group.")
    entry_score = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    entry_on = models.DateField(null=True, blank=True)
    exit_score = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    exit_on = models.DateField(null=True, blank=True)
    outcome_rating = models.SmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(-2), MaxValueValidator(2)],
        help_text="For targets with no score: −2 much worse, 0 no change, +2 much better.",
    )
    note = models.TextField(blank=True)
    strategy_tried = models.OneToOneField(
        StrategyTried,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="enrolment",
        help_text="Set when it counts as a strategy tried at the pupil's step.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group", "pupil__last_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["group", "pupil"], name="pupil_once_per_group"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="enrolment_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(outcome_rating__isnull=True) | Q(outcome_rating__gte=-2, outcome_rating__lte=2),
                name="outcome_rating_minus_2_to_2",
            ),
        ]
        indexes = [models.Index(fields=["pupil"], name="enrolment_pupil")]

    def __str__(self) -> str:
        return f"{self.pupil_id} in {self.group_id}"


class Session(SchoolRecord):
    group = models.ForeignKey(InterventionGroup, on_delete=models.CASCADE, related_name="sessions")
    held_on = models.DateField()
    notes = models.TextField(blank=True)
    recorded_by = person_field()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["group", "held_on"], name="one_session_per_group_per_day")
        ]

    def __str__(self) -> str:
        return f"Session on {self.held_on:%d/%m/%Y}"


class Attendance(SchoolRecord):
    pupil_path = "enrolment__pupil"

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendance")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="attendance")
    present = models.BooleanField()
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["session", "enrolment"]
        constraints = [
            models.UniqueConstraint(fields=["session", "enrolment"], name="attendance_once_per_session")
        ]


def attendance_fraction(present: int, recorded: int) -> Decimal | None:
    """Sessions attended over sessions recorded (0 to 1): the one attendance formula, shown as
    a percentage by pages and as a fraction by the figures; None before any session."""
    return Decimal(present) / Decimal(recorded) if recorded else None


class PlacementPattern(models.TextChoices):
    FULL_TIME = "full_time", "Full-time at the provision"
    PART_TIME = "part_time", "Part-time (some days at the provision)"
    OUTREACH = "outreach", "Outreach (provision staff work in the home school)"
    IN_REACH = "in_reach", "In-reach (short sessions at the provision)"


class ExitOutcome(models.TextChoices):
    RETURNED = "returned", "Returned to the home school"
    MANAGED_MOVE = "managed_move", "Managed move to another school"
    PRU = "pru", "Pupil referral unit"
    SPECIALIST = "specialist", "Specialist placement"


class ProvisionPlacement(SchoolRecord):
    """A pupil of a home school placed in a behaviour provision (steps 4–5 of the response).

    The row is the home school's (`school`) and shared with the provision (`provision`), so
    both sides read its history and either may record its progress; the pupil's own record
    opens to the provision's staff only through the grant a current placement holds
    (interventions/placements.py).
    """

    pupil_path = "pupil"
    shared_with = {"provision": "provision"}

    class Status(models.TextChoices):
        REFERRED = "referred", "Referred"
        ACTIVE = "active", "Placed"
        ENDED = "ended", "Ended"
        WITHDRAWN = "withdrawn", "Referral withdrawn"

    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, related_name="provision_placements")
    provision = models.ForeignKey(
        "schools.BehaviourProvision", on_delete=models.PROTECT, related_name="placements"
    )
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.REFERRED)
    referred_on = models.DateField()
    referral_reason = models.TextField(
        help_text="What the home school has tried and why it asks for a place."
    )
    consent_on = models.DateField("parental consent given on", help_text="The day parents or carers agreed.")
    consent_note = models.CharField(
        "consent given by", max_length=200, help_text="Who gave consent and how (e.g. mother, signed form)."
    )
    pattern = models.CharField(max_length=9, choices=PlacementPattern.choices)
    days_per_week = models.DecimalField(
        max_digits=2,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal(5))],
    )
    starts_on = models.DateField(null=True, blank=True, help_text="The first day at the provision.")
    planned_end_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True, help_text="The last day of the placement.")
    outside_key_stage = models.BooleanField(
        default=False, editable=False, help_text="The pupil's key stage is not one the provision takes."
    )
    mdt_meeting_on = models.DateField("multidisciplinary meeting held on", null=True, blank=True)
    mdt_note = models.TextField("what the meeting decided", blank=True)
    ehc_exception = models.TextField(
        "EHC plan exception", blank=True, help_text="Why a pupil with an EHC plan is placed here."
    )
    exit_outcome = models.CharField(max_length=12, choices=ExitOutcome.choices, blank=True)
    exit_note = models.TextField(blank=True)
    attendance_percent = models.DecimalField(
        "attendance at the provision (%)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    suspensions = models.PositiveSmallIntegerField("suspensions during the placement", default=0)
    referred_by = person_field()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-referred_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pupil"],
                condition=Q(status__in=["referred", "active"]),
                name="one_current_provision_placement",
            ),
            models.CheckConstraint(
                condition=~Q(status="active") | Q(starts_on__isnull=False), name="placed_has_start"
            ),
            models.CheckConstraint(
                condition=~Q(status="ended")
                | Q(starts_on__isnull=False, ends_on__isnull=False) & ~Q(exit_outcome=""),
                name="ended_placement_has_end_and_outcome",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="placement_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(outside_key_stage=False) | Q(mdt_meeting_on__isnull=False),
                name="outside_key_stage_needs_mdt",
            ),
            models.CheckConstraint(
                condition=Q(attendance_percent__isnull=True)
                | Q(attendance_percent__gte=0, attendance_percent__lte=100),
                name="placement_attendance_percent",
            ),
        ]
        indexes = [models.Index(fields=["provision", "status"], name="placement_provision_status")]

    def __str__(self) -> str:
        return f"Placement at {self.provision_id} from {self.referred_on:%d/%m/%Y}"

    @property
    def length_of_stay_days(self) -> int | None:
        """Calendar days from the first day to the last (or to today while it runs)."""
        if self.starts_on is None:
            return None
        last = self.ends_on or timezone.localdate()
        return max((last - self.starts_on).days + 1, 0)
