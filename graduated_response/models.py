"""Graduated-response frameworks owned by local authorities: Framework → Step → Strategy.

Templates are not rows: the platform's three frameworks live as Python data in
`templates_data.py`, readable without a scope. Every row here belongs to one LA
(`tenant_key = "local_authority"`), made by copying a template and then edited by the LA;
the LA's schools read it through `read_local_authority` in their scope. Step and Strategy
repeat their framework's `local_authority` so the row-level-security policy checks each
row without a join; services set it, and `clean()` refuses a mismatch.

A framework has versions: pupils keep the version they were placed under, so a framework
in use is changed by cloning it (`services.framework_new_version`), never rewritten.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from pupils.models import Pupil, SchoolRecord
from schools.models import LocalAuthority
from schools.tenancy import TenantModel


class LocalAuthorityRecord(TenantModel):
    tenant_key = "local_authority"

    local_authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True


def lines(text: str) -> list[str]:
    """A multi-item text field (one item per line) as a list, for display."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def person_field(**kwargs) -> models.ForeignKey:
    """Who recorded or approved something. No database constraint, so a user leaving never
    touches a pupil's record, and the audit log names them by id in any case."""
    return models.ForeignKey(
        "schools.User",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        **kwargs,
    )


class Framework(LocalAuthorityRecord):
    local_authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="frameworks")
    slug = models.SlugField(
        max_length=60, help_text="Names the framework within the LA across its versions, e.g. nw-six-step."
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    template_key = models.CharField(
        max_length=60, blank=True, help_text="The platform template it was copied from, if any."
    )
    version = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    is_current = models.BooleanField(
        default=True,
        help_text="The version new placements use; older versions stay for pupils placed under them.",
    )
    copied_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="later_versions",
        help_text="The version this one was made from.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["local_authority", "slug", "version"], name="framework_version_per_la"
            ),
            models.UniqueConstraint(
                fields=["local_authority", "slug"],
                condition=Q(is_current=True),
                name="one_current_framework_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class Step(LocalAuthorityRecord):
    local_authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="+")
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="steps")
    number = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    tier_label = models.CharField(max_length=100, help_text="e.g. Universal, Universal Plus, Targeted.")
    summary = models.CharField(max_length=300, blank=True)
    support_level = models.CharField(max_length=100, blank=True, help_text="e.g. AIP level 1.")
    who_leads = models.CharField(max_length=300, blank=True)
    # Multi-item texts: one item per line, edited as a textarea.
    behaviour_descriptors = models.TextField(blank=True)
    assessment = models.TextField("assessment expectations", blank=True)
    planning = models.TextField("planning expectations", blank=True)
    grouping = models.TextField("grouping for teaching", blank=True)
    staffing = models.TextField(blank=True)
    methods = models.TextField("methods and approach", blank=True)
    review = models.TextField("review expectations", blank=True)
    next_step = models.TextField("possible next step", blank=True)
    min_strategies_to_escalate = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Distinct strategies tried and reviewed at this step before moving up; empty for no rule.",
    )
    escalation_note = models.TextField(blank=True)

    class Meta:
        ordering = ["framework", "number"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "number"], name="step_number_per_framework")
        ]

    def __str__(self) -> str:
        return f"Step {self.number}: {self.tier_label}"

    def clean(self) -> None:
        if self.framework_id and self.local_authority_id != self.framework.local_authority_id:
            raise ValidationError("A step belongs to its framework's local authority.")

    def descriptor_lines(self) -> list[str]:
        return lines(self.behaviour_descriptors)


class Strategy(LocalAuthorityRecord):
    local_authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="+")
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="strategies")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["step", "order", "id"]
        verbose_name_plural = "strategies"
        # Escalation counts distinct strategies, so a catalogue names each once.
        constraints = [models.UniqueConstraint(fields=["step", "name"], name="strategy_name_per_step")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.step_id and self.local_authority_id != self.step.local_authority_id:
            raise ValidationError("A strategy belongs to its step's local authority.")


# --- a pupil's place on the framework ------------------------------------------------------
# Placements and strategies tried belong to the pupil's school (SchoolRecord), so row-level
# security checks them like any pupil record; the steps they name are the LA's, which the
# school's scope reads.


class StepPlacement(SchoolRecord):
    """One entry of a pupil's step history. The pupil's current step is their one active
    placement (a database constraint keeps it one); a move supersedes it."""

    pupil_path = "pupil"

    class Kind(models.TextChoices):
        START = "start", "First placement"
        UP = "up", "Moved up"
        DOWN = "down", "Moved down"
        EXIT = "exit", "Left the framework"

    class Status(models.TextChoices):
        ACTIVE = "active", "Current"
        PENDING = "pending_approval", "Awaiting headteacher approval"
        SUPERSEDED = "superseded", "Past"
        EXITED = "exited", "Left the framework"

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="step_placements")
    framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, related_name="+", help_text="The version placed under."
    )
    step = models.ForeignKey(Step, on_delete=models.PROTECT, related_name="+")
    from_step = models.ForeignKey(Step, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    reason = models.TextField(blank=True)
    evidence = models.TextField(blank=True)
    placed_on = models.DateField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = person_field()
    override = models.BooleanField(
        default=False, help_text="Moved up before the step's escalation rule was met."
    )
    override_justification = models.TextField(blank=True)
    approved_by = person_field()
    approved_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        ordering = ["-placed_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pupil"], condition=Q(status="active"), name="one_active_step_per_pupil"
            ),
            models.UniqueConstraint(
                fields=["pupil"], condition=Q(status="pending_approval"), name="one_pending_step_per_pupil"
            ),
            models.CheckConstraint(
                condition=Q(override=False) | ~Q(override_justification=""), name="override_is_justified"
            ),
        ]
        indexes = [models.Index(fields=["pupil", "status"], name="placement_pupil_status")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: step {self.step_id} on {self.placed_on:%d/%m/%Y}"


class StrategyTried(SchoolRecord):
    """A strategy tried with a pupil at a step; it counts towards escalation once reviewed."""

    pupil_path = "pupil"

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="strategies_tried")
    step = models.ForeignKey(Step, on_delete=models.PROTECT, related_name="+")
    strategy = models.ForeignKey(Strategy, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    name = models.CharField(max_length=200, blank=True, help_text="A strategy outside the catalogue.")
    started_on = models.DateField()
    reviewed_on = models.DateField(null=True, blank=True)
    outcome = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_on", "-id"]
        verbose_name_plural = "strategies tried"
        constraints = [
            models.CheckConstraint(
                condition=Q(strategy__isnull=False) | ~Q(name=""), name="strategy_tried_is_named"
            )
        ]

    def __str__(self) -> str:
        return self.name or f"strategy {self.strategy_id}"

    @property
    def label(self) -> str:
        return self.strategy.name if self.strategy_id else self.name

    def clean(self) -> None:
        errors = {}
        if self.strategy_id is None and not self.name.strip():
            errors["name"] = "Choose a strategy from the step's catalogue or name it."
        if self.strategy_id and self.step_id and self.strategy.step_id != self.step_id:
            errors["strategy"] = "Choose a strategy from this step's catalogue."
        if self.reviewed_on and self.started_on and self.reviewed_on < self.started_on:
            errors["reviewed_on"] = "The review cannot come before the strategy started."
        if errors:
            raise ValidationError(errors)


# --- support plans: one APDR cycle (assess, plan, do, review) ------------------------------


class SupportPlan(SchoolRecord):
    """A pupil's support plan (IEP, behaviour plan, passport plan) run as an APDR cycle.
    Assess and Plan are its fields; Do is its strategies (and, later, interventions);
    each Review records an outcome per target and decides what happens next."""

    pupil_path = "pupil"

    class Kind(models.TextChoices):
        SUPPORT = "support", "SEN support plan"
        IEP = "iep", "Individual education plan"
        IBP = "ibp", "Individual behaviour plan"
        PASSPORT = "passport", "Pupil passport plan"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="support_plans")
    step = models.ForeignKey(
        Step,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The step the plan was made at; its strategies come from this step's catalogue.",
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.SUPPORT)
    title = models.CharField(max_length=200)
    # Assess
    concerns = models.TextField(blank=True)
    triggers = models.TextField(blank=True)
    frequency_intensity = models.TextField("frequency and intensity", blank=True)
    assessments = models.TextField("assessments used", blank=True)
    # Plan
    key_adult = models.CharField(max_length=200, blank=True)
    pupil_involvement = models.TextField("how the pupil took part", blank=True)
    parent_involvement = models.TextField("how parents or carers took part", blank=True)
    starts_on = models.DateField()
    review_due = models.DateField(help_text="When the plan is next reviewed.")
    # Do
    delivery_notes = models.TextField("what was delivered", blank=True)
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    closed_on = models.DateField(null=True, blank=True)
    recorded_by = person_field()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(review_due__gte=F("starts_on")), name="plan_review_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_on__isnull=True)
                | Q(status="closed", closed_on__isnull=False),
                name="plan_closed_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "status", "review_due"], name="plan_school_due"),
            models.Index(fields=["pupil", "status"], name="plan_pupil_status"),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.starts_on and self.review_due and self.review_due < self.starts_on:
            raise ValidationError({"review_due": "The review cannot fall before the plan starts."})

    # Overdue, in one place: an open plan whose review date has passed.
    @classmethod
    def overdue_q(cls, today: date) -> Q:
        return Q(status=cls.Status.OPEN, review_due__lt=today)

    def is_overdue(self, today: date) -> bool:
        return self.status == self.Status.OPEN and self.review_due < today


class PlanTarget(SchoolRecord):
    """A SMART target: what the pupil will do, and how everyone will know it happened."""

    pupil_path = "plan__pupil"

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="targets")
    order = models.PositiveSmallIntegerField(default=0)
    description = models.TextField("target")
    success_criteria = models.TextField()

    class Meta:
        ordering = ["plan", "order", "id"]

    def __str__(self) -> str:
        return self.description[:60]


class PlanStrategy(SchoolRecord):
    """A strategy the plan puts in place. It is the plan's Do: each one is also a strategy
    tried with the pupil at the plan's step, and a review of the plan reviews it, so it
    counts towards the step's escalation rule."""

    pupil_path = "plan__pupil"

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="plan_strategies")
    tried = models.OneToOneField(StrategyTried, on_delete=models.PROTECT, related_name="plan_strategy")
    how = models.CharField("how often and by whom", max_length=300, blank=True)

    class Meta:
        ordering = ["plan", "id"]
        verbose_name_plural = "plan strategies"

    def __str__(self) -> str:
        return str(self.tried)


class PlanReview(SchoolRecord):
    pupil_path = "plan__pupil"

    class Decision(models.TextChoices):
        CONTINUE = "continue", "Continue the plan"
        STEP_UP = "step_up", "Move up a step"
        STEP_DOWN = "step_down", "Move down a step"
        CLOSE = "close", "Close the plan"

    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="reviews")
    reviewed_on = models.DateField()
    summary = models.TextField("what the review found", blank=True)
    pupil_views = models.TextField("the pupil's views", blank=True)
    parent_views = models.TextField("parents' or carers' views", blank=True)
    decision = models.CharField(max_length=9, choices=Decision.choices)
    next_review_due = models.DateField(null=True, blank=True)
    recorded_by = person_field()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-reviewed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision="continue", next_review_due__isnull=False) | ~Q(decision="continue"),
                name="continued_plan_has_next_review",
            )
        ]

    def __str__(self) -> str:
        return f"Review on {self.reviewed_on:%d/%m/%Y}"


class TargetOutcome(SchoolRecord):
    pupil_path = "review__plan__pupil"

    class Rating(models.TextChoices):
        ACHIEVED = "achieved", "Achieved"
        PARTLY = "partly", "Partly achieved"
        NOT_ACHIEVED = "not_achieved", "Not achieved"

    review = models.ForeignKey(PlanReview, on_delete=models.CASCADE, related_name="outcomes")
    target = models.ForeignKey(PlanTarget, on_delete=models.CASCADE, related_name="outcomes")
    rating = models.CharField(max_length=12, choices=Rating.choices)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["review", "target__order", "target_id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "target"], name="one_outcome_per_target_per_review")
        ]


# --- behaviour observations (the evidence of Assess) ---------------------------------------


class BehaviourObservation(SchoolRecord):
    """One observed incident or episode, ABC style: what came before, what the pupil did,
    what followed; with when, where, how intense (1–5) and for how long."""

    pupil_path = "pupil"

    class Setting(models.TextChoices):
        LESSON = "lesson", "Lesson"
        UNSTRUCTURED = "unstructured", "Unstructured time (break, lunch)"
        TRANSITION = "transition", "Transition between activities or places"
        OTHER = "other", "Elsewhere"

    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="observations")
    plan = models.ForeignKey(
        SupportPlan, on_delete=models.SET_NULL, null=True, blank=True, related_name="observations"
    )
    observed_at = models.DateTimeField()
    setting = models.CharField(max_length=12, choices=Setting.choices)
    antecedent = models.TextField("what happened before", blank=True)
    behaviour = models.TextField()
    consequence = models.TextField("what happened after", blank=True)
    intensity = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)], help_text="1 (mild) to 5 (severe)."
    )
    duration_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(600)]
    )
    recorded_by = person_field()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-observed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(intensity__gte=1, intensity__lte=5), name="intensity_1_to_5"),
            models.CheckConstraint(
                condition=Q(duration_minutes__isnull=True) | Q(duration_minutes__lte=600),
                name="duration_at_most_10_hours",
            ),
        ]
        indexes = [
            models.Index(fields=["pupil", "observed_at"], name="observation_pupil_time"),
            models.Index(fields=["school", "observed_at"], name="observation_school_time"),
        ]

    def __str__(self) -> str:
        return f"Observation at {self.observed_at:%d/%m/%Y %H:%M}"
