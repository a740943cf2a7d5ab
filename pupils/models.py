"""Pupils and the SEN register: the record, its SEN history, one-page profile and outcomes.

Every table here belongs to a school (`school` column), so each opts in to the tenant
scoping and row-level security by subclassing SchoolRecord. Rows that hang off a pupil
repeat the pupil's school, so the database can check them without a join.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.gb import upn as upn_check

from pupils.codes import AREA_OF_NEED, Ethnicity, Gender, Measure, Need, SenStatus, Term
from schools.models import School
from schools.tenancy import TenantModel

# NC years run from nursery (-2, -1) and reception (0) to year 14 of sixth form.
NC_YEAR_MIN, NC_YEAR_MAX = -2, 14


def validate_upn(value: str) -> str:
    """A UPN (permanent or temporary) with a correct check letter, in its compact form."""
    try:
        return upn_check.validate(value)
    except StdnumError as exc:
        raise ValidationError(
            "%(value)s is not a valid UPN: %(reason)s",
            params={"value": value, "reason": str(exc).rstrip(".").lower()},
            code="invalid_upn",
        ) from None


def normalise_upn(value: str) -> str:
    return "".join(str(value or "").split()).upper()


# Nobody on a school roll was born before this.
EARLIEST_BIRTH = date(1990, 1, 1)


def nc_year_label(year: int) -> str:
    return {-2: "Nursery 1", -1: "Nursery 2", 0: "Reception"}.get(year, f"Year {year}")


# Census details a behaviour provision's staff do not need to work with a placed pupil: the
# pupil page and the API leave them out for the provision lead role.
PLACEMENT_WITHHELD = ("ethnicity", "fsm", "pupil_premium")


class SchoolRecord(TenantModel):
    tenant_key = "school"

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True


class Pupil(SchoolRecord):
    pupil_path = "pk"
    pupil_row = True

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="pupils")
    upn = models.CharField("UPN", max_length=13, validators=[validate_upn])
    first_name = models.CharField("legal forename", max_length=100)
    last_name = models.CharField("legal surname", max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    gender = models.CharField(max_length=1, choices=Gender.choices, blank=True)
    nc_year = models.SmallIntegerField(
        "NC year",
        validators=[MinValueValidator(NC_YEAR_MIN), MaxValueValidator(NC_YEAR_MAX)],
        help_text="National Curriculum year: 0 is reception, -1 and -2 nursery.",
    )
    ethnicity = models.CharField(max_length=4, choices=Ethnicity.choices, blank=True)
    fsm = models.BooleanField("free school meals", default=False)
    pupil_premium = models.BooleanField(default=False)
    eal = models.BooleanField("English as an additional language", default=False)
    looked_after = models.BooleanField(default=False)
    sen_status = models.CharField(
        "SEN provision", max_length=1, choices=SenStatus.choices, default=SenStatus.NONE
    )
    primary_need = models.CharField(max_length=4, choices=Need.choices, blank=True)
    secondary_need = models.CharField(max_length=4, choices=Need.choices, blank=True)
    is_active = models.BooleanField(
        default=True, help_text="Leavers stay on record but leave the active lists."
    )
    left_on = models.DateField(null=True, blank=True)
    # Set by a headteacher (pupils/retention.py: legal_hold_set): the record outlives its
    # retention date while a claim, an inquiry or a request to preserve it is open.
    legal_hold = models.BooleanField(
        default=False, help_text="Kept past the retention date until a headteacher lifts the hold."
    )
    legal_hold_reason = models.TextField(
        blank=True, help_text="Why the record must be kept: the claim, inquiry or request, and who asked."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["school", "upn"], name="pupil_upn_unique_in_school"),
            models.CheckConstraint(condition=Q(upn=Upper("upn")), name="pupil_upn_upper_case"),
            models.CheckConstraint(
                condition=Q(nc_year__gte=NC_YEAR_MIN, nc_year__lte=NC_YEAR_MAX), name="pupil_nc_year_range"
            ),
            # A type of need is recorded only for pupils with SEN, as the census asks.
            models.CheckConstraint(
                condition=~Q(sen_status=SenStatus.NONE) | (Q(primary_need="") & Q(secondary_need="")),
                name="pupil_need_only_with_sen",
            ),
            models.CheckConstraint(
                condition=Q(secondary_need="") | ~Q(secondary_need=models.F("primary_need")),
                name="pupil_needs_differ",
            ),
            # A hold nobody can explain would never be lifted.
            models.CheckConstraint(
                condition=Q(legal_hold=False) | ~Q(legal_hold_reason=""), name="legal_hold_has_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["school", "is_active", "last_name", "first_name"], name="pupil_register"),
            models.Index(fields=["school", "sen_status"], name="pupil_sen_status"),
            models.Index(fields=["school", "primary_need"], name="pupil_primary_need"),
            models.Index(fields=["school", "nc_year"], name="pupil_nc_year"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def area_of_need(self) -> str:
        return AREA_OF_NEED.get(self.primary_need, "")

    @property
    def nc_year_label(self) -> str:
        return nc_year_label(self.nc_year)

    def save(self, *args, **kwargs) -> None:
        # One spelling of each UPN, so a lower-case copy can never become a second pupil.
        self.upn = normalise_upn(self.upn)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.upn = normalise_upn(self.upn)
        errors = {}
        today = timezone.localdate()
        if self.date_of_birth and not (EARLIEST_BIRTH <= self.date_of_birth <= today):
            errors["date_of_birth"] = "The date of birth must be a real date in the past."
        if self.left_on and self.left_on > today:
            errors["left_on"] = "The leaving date cannot be in the future: record it on the day."
        if self.sen_status == SenStatus.NONE and (self.primary_need or self.secondary_need):
            errors["primary_need"] = (
                "A type of need is recorded only for pupils on SEN support or with an EHC plan."
            )
        elif self.sen_status != SenStatus.NONE and not self.primary_need:
            errors["primary_need"] = "Give the primary type of need (NSA if not yet assessed)."
        if self.secondary_need and self.secondary_need == self.primary_need:
            errors["secondary_need"] = "The secondary need must differ from the primary need."
        if self.left_on and self.is_active:
            errors["left_on"] = "A pupil with a leaving date is a leaver: untick 'on roll' too."
        if errors:
            raise ValidationError(errors)


class SenStatusChange(SchoolRecord):
    """One entry of the SEN register: from `start_date`, this status and need applied."""

    pupil_path = "pupil"

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="sen_history")
    status = models.CharField(max_length=1, choices=SenStatus.choices)
    primary_need = models.CharField(max_length=4, choices=Need.choices, blank=True)
    secondary_need = models.CharField(max_length=4, choices=Need.choices, blank=True)
    start_date = models.DateField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        "schools.User",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    source = models.CharField(max_length=20, default="manual", help_text="manual, import or api")

    class Meta:
        ordering = ["-start_date", "-id"]
        indexes = [models.Index(fields=["pupil", "-start_date"], name="sen_history_pupil")]

    def __str__(self) -> str:
        return f"{self.get_status_display()} from {self.start_date:%d/%m/%Y}"


class OnePageProfile(SchoolRecord):
    """The pupil passport: in the pupil's and family's words as much as the school's."""

    pupil_path = "pupil"

    pupil = models.OneToOneField(Pupil, on_delete=models.CASCADE, related_name="profile")
    strengths = models.TextField("what people like and admire about me", blank=True)
    what_helps = models.TextField("what helps me", blank=True)
    what_does_not_help = models.TextField("what does not help me", blank=True)
    pupil_voice = models.TextField("what I want people to know", blank=True)
    parent_voice = models.TextField("what my parents or carers say", blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        "schools.User",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )

    def __str__(self) -> str:
        return f"One-page profile of pupil {self.pupil_id}"


class OutcomeRecord(SchoolRecord):
    """A term's outcomes for one pupil: attendance, suspensions, exclusion."""

    pupil_path = "pupil"

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="outcomes")
    academic_year = models.PositiveSmallIntegerField(
        help_text="The year the academic year starts, e.g. 2025 for 2025/26."
    )
    term = models.CharField(max_length=6, choices=Term.choices)
    attendance_pct = models.DecimalField(
        "attendance %",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    suspensions = models.PositiveSmallIntegerField(
        default=0, help_text="Suspensions (fixed-term exclusions) this term."
    )
    suspension_days = models.DecimalField(
        max_digits=5, decimal_places=1, default=0, validators=[MinValueValidator(0)]
    )
    permanently_excluded = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-academic_year", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["pupil", "academic_year", "term"], name="one_outcome_per_term"),
            models.CheckConstraint(
                condition=Q(attendance_pct__isnull=True) | Q(attendance_pct__gte=0, attendance_pct__lte=100),
                name="attendance_is_a_percentage",
            ),
        ]

    def clean(self) -> None:
        errors = {}
        this_year = timezone.localdate().year
        if self.academic_year is not None and not 2000 <= self.academic_year <= this_year:
            errors["academic_year"] = (
                f"Give an academic year from 2000/01 to {this_year}/{(this_year + 1) % 100:02d}."
            )
        if self.suspension_days and not self.suspensions:
            errors["suspension_days"] = "Days lost to suspension need at least one suspension this term."
        if errors:
            raise ValidationError(errors)

    def __str__(self) -> str:
        return f"{self.get_term_display()} {self.academic_year}/{(self.academic_year + 1) % 100:02d}"


# The scores each measure can take (months for reading age).
SCORE_RANGES = {
    Measure.SDQ_TOTAL: (0, 40),
    Measure.BOXALL_DEV: (0, 136),
    Measure.BOXALL_DIAG: (0, 136),
    Measure.READING_AGE: (0, 240),
}


class AssessmentScore(SchoolRecord):
    """One assessment result (SDQ, Boxall, reading age …) on a date."""

    pupil_path = "pupil"

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="scores")
    measure = models.CharField(max_length=24, choices=Measure.choices)
    measure_name = models.CharField(max_length=100, blank=True, help_text="For 'other': what was measured.")
    assessed_on = models.DateField()
    score = models.DecimalField(max_digits=7, decimal_places=2)

    class Meta:
        ordering = ["-assessed_on", "-id"]
        indexes = [models.Index(fields=["pupil", "measure", "-assessed_on"], name="score_pupil_measure")]

    def clean(self) -> None:
        errors = {}
        if self.measure == Measure.OTHER and not self.measure_name.strip():
            errors["measure_name"] = "Say what was measured."
        if self.assessed_on and self.assessed_on > timezone.localdate():
            errors["assessed_on"] = "The assessment date cannot be in the future."
        low, high = SCORE_RANGES.get(self.measure, (None, None))
        if self.score is not None and low is not None and not low <= self.score <= high:
            errors["score"] = f"A {self.get_measure_display()} score runs from {low} to {high}."
        if errors:
            raise ValidationError(errors)

    def __str__(self) -> str:
        return f"{self.get_measure_display()} {self.score} on {self.assessed_on:%d/%m/%Y}"


class Transfer(SchoolRecord):
    """A pupil sent from one school of the deployment to another (pupils/transfers.py).

    The row is the sending school's (`school`); the receiving school reads it through the
    pupil grant the transfer gives it, as it reads the rest of the pupil's history.
    """

    pupil_path = "pupil"

    class Reason(models.TextChoices):
        TRANSITION = "transition", "Transition to the next phase (e.g. to secondary)"
        MANAGED_MOVE = "managed_move", "Managed move"
        MOVING_HOME = "moving_home", "Moving home"
        OTHER = "other", "Other"

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="transfers")
    to_school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    transferred_on = models.DateField()
    note = models.TextField(blank=True, help_text="What the receiving school should know first.")
    transferred_by = models.ForeignKey(
        "schools.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-transferred_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(to_school=F("school")), name="transfer_to_another_school")
        ]

    def __str__(self) -> str:
        return f"Transfer on {self.transferred_on:%d/%m/%Y}"
