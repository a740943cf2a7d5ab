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

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

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
    recorded_by = models.ForeignKey(
        "schools.User",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    override = models.BooleanField(
        default=False, help_text="Moved up before the step's escalation rule was met."
    )
    override_justification = models.TextField(blank=True)
    approved_by = models.ForeignKey(
        "schools.User",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
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
