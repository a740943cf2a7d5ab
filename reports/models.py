"""Report requests: a database row first, then a Celery task that builds the PDF.

The row is the source of truth (reports/tasks.py): the broker only carries a request's id,
so a lost message or a crashed worker never loses a report, and a periodic sweep re-queues
requests that stalled. A finished request keeps the JSON figures its PDF was built from,
and never changes again; building it again makes a new version.

Who may read a request follows what it is about: a school's report is the school's (and a
pupil's report is the pupil's school's); a provision's is the provision's and its
partnership's; a partnership's is the partnership's (and its LA officers', who read the
LA's partnerships); the LA overview is the LA officers' alone (`la_figures`).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from pupils.models import Pupil
from schools.models import BehaviourProvision, LocalAuthority, Membership, Partnership, School, User
from schools.tenancy import TenantModel


class ReportKind(models.TextChoices):
    SCHOOL_TERMLY = "school_termly", "School termly provision report"
    PROVISION_TERMLY = "provision_termly", "Behaviour provision termly report"
    PARTNERSHIP_ANNUAL = "partnership_annual", "Partnership annual report to the LA"
    FINANCIAL_QUARTERLY = "financial_quarterly", "Quarterly financial report"
    PUPIL_PROVISION_MAP = "pupil_provision_map", "Provision map for parents and carers"
    PUPIL_PROFILE = "pupil_profile", "One-page profile"
    TRANSITION_RECORD = "transition_record", "Transition record"
    LA_OVERVIEW = "la_overview", "LA overview across partnerships"


class ScopeType(models.TextChoices):
    SCHOOL = "school", "School"
    PROVISION = "provision", "Behaviour provision"
    PARTNERSHIP = "partnership", "Partnership"
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    PUPIL = "pupil", "Pupil"


class PeriodKind(models.TextChoices):
    TERM = "term", "Term"
    YEAR = "year", "School year"
    QUARTER = "quarter", "Financial quarter"
    NONE = "none", "As it stands"


# What each kind is about and over what period (the interface other tools rely on).
KIND_SCOPE = {
    ReportKind.SCHOOL_TERMLY: ScopeType.SCHOOL,
    ReportKind.PROVISION_TERMLY: ScopeType.PROVISION,
    ReportKind.PARTNERSHIP_ANNUAL: ScopeType.PARTNERSHIP,
    ReportKind.FINANCIAL_QUARTERLY: ScopeType.PARTNERSHIP,
    ReportKind.PUPIL_PROVISION_MAP: ScopeType.PUPIL,
    ReportKind.PUPIL_PROFILE: ScopeType.PUPIL,
    ReportKind.TRANSITION_RECORD: ScopeType.PUPIL,
    ReportKind.LA_OVERVIEW: ScopeType.LOCAL_AUTHORITY,
}
KIND_PERIOD = {
    ReportKind.SCHOOL_TERMLY: PeriodKind.TERM,
    ReportKind.PROVISION_TERMLY: PeriodKind.TERM,
    ReportKind.PARTNERSHIP_ANNUAL: PeriodKind.YEAR,
    ReportKind.FINANCIAL_QUARTERLY: PeriodKind.QUARTER,
    ReportKind.PUPIL_PROVISION_MAP: PeriodKind.YEAR,
    ReportKind.PUPIL_PROFILE: PeriodKind.NONE,
    ReportKind.TRANSITION_RECORD: PeriodKind.NONE,
    ReportKind.LA_OVERVIEW: PeriodKind.YEAR,
}
# Kinds read outside a school: every count in them is suppressed below 5.
SUPPRESSED_KINDS = frozenset(
    {
        ReportKind.PROVISION_TERMLY,
        ReportKind.PARTNERSHIP_ANNUAL,
        ReportKind.FINANCIAL_QUARTERLY,
        ReportKind.LA_OVERVIEW,
    }
)


class ReportRequest(TenantModel):
    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to be built"
        RUNNING = "running", "Being built"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    tenant_key = "school"
    pupil_path = "pupil"
    shared_with = {
        "provision": "provision",
        "partnership": "partnership",
        "for_local_authority": "la_figures",
    }
    shared_can_add = True

    kind = models.CharField(max_length=20, choices=ReportKind.choices)
    scope_type = models.CharField(max_length=15, choices=ScopeType.choices)
    # The one object the report is about, and the tenant columns that decide who reads it.
    school = models.ForeignKey(School, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    pupil = models.ForeignKey(Pupil, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    provision = models.ForeignKey(
        BehaviourProvision, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    partnership = models.ForeignKey(
        Partnership, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    for_local_authority = models.ForeignKey(
        LocalAuthority, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    local_authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="+")
    period = models.CharField(max_length=16, blank=True, help_text="2025-26, 2025-26-autumn or 2025-26-q1.")
    version = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    membership = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    scheduled = models.BooleanField(default=False, help_text="Asked for by the schedule, not a person.")
    requested_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True, help_text="When it was last put on the queue.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A running build is another worker's until then."
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    pdf = models.FileField(upload_to="reports/pdf/", blank=True)
    snapshot = models.FileField(upload_to="reports/snapshot/", blank=True)
    pages = models.PositiveSmallIntegerField(null=True, blank=True)
    build_seconds = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "kind",
                    "school",
                    "pupil",
                    "provision",
                    "partnership",
                    "for_local_authority",
                    "period",
                    "version",
                ],
                nulls_distinct=False,
                name="one_report_version",
            ),
            models.CheckConstraint(
                condition=Q(status="done", finished_at__isnull=False) | ~Q(status="done"),
                name="finished_report_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "queued_at"], name="report_status_queued"),
            # A membership's requests of the last hour: the rate limit (reports/services.py).
            models.Index(fields=["membership", "requested_at"], name="report_membership_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period or ''} v{self.version}".strip()

    @property
    def scope_id(self) -> int | None:
        column = {
            ScopeType.SCHOOL: "school_id",
            ScopeType.PROVISION: "provision_id",
            ScopeType.PARTNERSHIP: "partnership_id",
            ScopeType.LOCAL_AUTHORITY: "for_local_authority_id",
            ScopeType.PUPIL: "pupil_id",
        }[ScopeType(self.scope_type)]
        return getattr(self, column)

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
