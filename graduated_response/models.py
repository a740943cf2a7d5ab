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
