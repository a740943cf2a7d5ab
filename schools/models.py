"""The organisation tree, roles and memberships, and the audit log.

LocalAuthority → Partnership → School; a BehaviourProvision is hosted by a school and
serves a partnership. A user holds memberships: a role over one scope object.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from schools.tenancy import TenantModel
from schools.terms import Term, TermSpan, academic_year_label, academic_year_of

# The shortest and longest retention an LA may set: a claim about a child's schooling can be
# brought until they are 21 (the limitation period runs for three years from 18), so no
# record goes sooner; a century is past any policy in use.
RETENTION_YEARS_MIN, RETENTION_YEARS_MAX = 21, 100


class LocalAuthority(models.Model):
    code = models.CharField("LA code", max_length=3, unique=True, help_text="The DfE three-digit LA number.")
    name = models.CharField(max_length=200)
    require_two_factor_for_all = models.BooleanField(
        default=False, help_text="Ask every role in this LA for two-factor, not only multi-school roles."
    )

    class CostingYear(models.TextChoices):
        ACADEMIC = "academic", "Academic year (September to August)"
        FINANCIAL = "financial", "Financial year (April to March)"

    costing_weeks = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=Decimal(38),
        validators=[MinValueValidator(Decimal(30)), MaxValueValidator(Decimal(52))],
        help_text="Weeks in a costing year: 38 unless the LA uses 38.6 or 39.",
    )
    costing_year = models.CharField(max_length=9, choices=CostingYear.choices, default=CostingYear.ACADEMIC)
    review_interval_weeks = models.PositiveSmallIntegerField(
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text="School weeks from a support plan (or its last review) to its next review.",
    )
    # How long a pupil's record outlives their leaving: to this birthday (SECURITY.md 15;
    # pupils/retention.py). SEN files are commonly kept to the 31st.
    retention_years_after_birth = models.PositiveSmallIntegerField(
        "years records are kept after birth",
        default=31,
        validators=[
            MinValueValidator(RETENTION_YEARS_MIN),
            MaxValueValidator(RETENTION_YEARS_MAX),
        ],
        help_text=(
            "A pupil who has left is removed, with everything recorded about them, once this many "
            "years have passed since their date of birth, unless a headteacher has set a legal hold."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "local authorities"
        constraints = [
            # Retention deletes by this number every night: a shell or bulk update that set it
            # to 0 would remove every leaver of the LA, so the database refuses it too.
            models.CheckConstraint(
                condition=models.Q(
                    retention_years_after_birth__gte=RETENTION_YEARS_MIN,
                    retention_years_after_birth__lte=RETENTION_YEARS_MAX,
                ),
                name="retention_years_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class TermDates(models.Model):
    """One term of an LA's school year. Reviews fall due in school weeks counted from these,
    and termly reports are scheduled by them. Schools in the LA share them."""

    local_authority = models.ForeignKey(LocalAuthority, on_delete=models.CASCADE, related_name="term_dates")
    academic_year = models.PositiveSmallIntegerField(help_text="The calendar year the school year starts in.")
    term = models.CharField(max_length=6, choices=Term.choices)
    starts_on = models.DateField()
    ends_on = models.DateField()
    half_term_starts_on = models.DateField(null=True, blank=True)
    half_term_ends_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["local_authority", "starts_on"]
        verbose_name_plural = "term dates"
        constraints = [
            models.UniqueConstraint(
                fields=["local_authority", "academic_year", "term"], name="one_term_per_year"
            ),
            models.CheckConstraint(condition=Q(ends_on__gt=F("starts_on")), name="term_ends_after_start"),
            models.CheckConstraint(
                condition=Q(half_term_starts_on__isnull=True, half_term_ends_on__isnull=True)
                | Q(
                    half_term_starts_on__gt=F("starts_on"),
                    half_term_ends_on__gte=F("half_term_starts_on"),
                    half_term_ends_on__lt=F("ends_on"),
                ),
                name="half_term_inside_term",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_term_display()} {academic_year_label(self.academic_year)}"

    def clean(self) -> None:
        errors = {}
        if self.starts_on and self.ends_on and self.ends_on <= self.starts_on:
            errors["ends_on"] = "The term must end after it starts."
        if bool(self.half_term_starts_on) != bool(self.half_term_ends_on):
            errors["half_term_ends_on"] = "Give both the first and the last day of half-term, or neither."
        elif (
            self.half_term_starts_on
            and self.starts_on
            and self.ends_on
            and not (self.starts_on < self.half_term_starts_on <= self.half_term_ends_on < self.ends_on)
        ):
            errors["half_term_starts_on"] = "Half-term must fall inside the term, first day before last."
        year = academic_year_label(self.academic_year) if self.academic_year else ""
        if self.starts_on and self.academic_year and academic_year_of(self.starts_on) != self.academic_year:
            errors["starts_on"] = f"The term must start in the {year} school year."
        # A term ends by 31 August, so one school year's terms never overlap the next's.
        if self.ends_on and self.academic_year and academic_year_of(self.ends_on) != self.academic_year:
            errors.setdefault("ends_on", f"The term must end within the {year} school year (by 31 August).")
        if errors:
            raise ValidationError(errors)

    def span(self) -> TermSpan:
        return TermSpan(self.starts_on, self.ends_on, self.half_term_starts_on, self.half_term_ends_on)


class Partnership(models.Model):
    local_authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="partnerships")
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["local_authority", "name"], name="partnership_name_per_la")
        ]

    def __str__(self) -> str:
        return self.name


class School(models.Model):
    class Phase(models.TextChoices):
        NURSERY = "nursery", "Nursery"
        PRIMARY = "primary", "Primary"
        MIDDLE = "middle", "Middle"
        SECONDARY = "secondary", "Secondary"
        ALL_THROUGH = "all_through", "All-through"
        SPECIAL = "special", "Special"
        ALTERNATIVE = "alternative", "PRU / alternative provision"

    urn = models.CharField("URN", max_length=6, unique=True, help_text="Unique reference number, six digits.")
    name = models.CharField(max_length=200)
    local_authority = models.ForeignKey(LocalAuthority, on_delete=models.PROTECT, related_name="schools")
    partnership = models.ForeignKey(
        Partnership, on_delete=models.SET_NULL, null=True, blank=True, related_name="schools"
    )
    phase = models.CharField(max_length=20, choices=Phase.choices)
    key_stages = models.CharField(
        max_length=20, blank=True, help_text="Key stages served, comma separated, e.g. EYFS,KS1,KS2."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.partnership_id and self.partnership.local_authority_id != self.local_authority_id:
            raise ValidationError({"partnership": "The partnership belongs to another local authority."})


class BehaviourProvision(models.Model):
    name = models.CharField(max_length=200)
    host_school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="hosted_provisions")
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="provisions")
    places = models.PositiveSmallIntegerField(default=12)
    key_stages = models.CharField(
        max_length=20,
        blank=True,
        help_text="Key stages it takes pupils from, comma separated, e.g. KS2,KS3. Empty: the host school's.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StaffRole(models.Model):
    """A kind of staff with an hourly cost: set per LA, overridable per school."""

    class Kind(models.TextChoices):
        TEACHER = "teacher", "Teacher"
        TA = "ta", "Teaching assistant"
        HLTA = "hlta", "Higher level teaching assistant"
        LSA = "lsa", "Learning support assistant"
        MENTOR = "mentor", "Learning mentor"
        SENCO = "senco", "SENCO"
        EXTERNAL = "external", "External professional"

    local_authority = models.ForeignKey(LocalAuthority, on_delete=models.CASCADE, related_name="staff_roles")
    school = models.ForeignKey(
        School,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="staff_roles",
        help_text="Set for a school's own rate; empty for the LA's rate.",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    hourly_cost = models.DecimalField(max_digits=7, decimal_places=2)

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["local_authority", "kind"],
                condition=Q(school__isnull=True),
                name="one_la_rate_per_kind",
            ),
            models.UniqueConstraint(fields=["school", "kind"], name="one_school_rate_per_kind"),
            models.CheckConstraint(condition=Q(hourly_cost__gte=0), name="hourly_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} £{self.hourly_cost}/h"


class User(AbstractUser):
    """A person who signs in. What they may see comes only from their memberships."""

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Role(models.TextChoices):
    SENCO = "senco", "SENCO"
    PRACTITIONER = "practitioner", "Practitioner"
    HEADTEACHER = "headteacher", "Headteacher"
    PROVISION_LEAD = "provision_lead", "Provision lead"
    PARTNERSHIP_LEAD = "partnership_lead", "Partnership lead"
    LA_OFFICER = "la_officer", "LA officer"
    LA_ADMIN = "la_admin", "LA administrator"
    PLATFORM_ADMIN = "platform_admin", "Platform administrator"


SCHOOL_ROLES = {Role.SENCO, Role.PRACTITIONER, Role.HEADTEACHER}
PUPIL_LEVEL_ROLES = {*SCHOOL_ROLES, Role.PROVISION_LEAD}
# Roles that add to and change pupil records (and import them).
RECORD_KEEPERS = frozenset({Role.SENCO, Role.HEADTEACHER})
# Roles that see more than one school: two-factor is always required for them.
MULTI_SCHOOL_ROLES = {
    Role.PROVISION_LEAD,
    Role.PARTNERSHIP_LEAD,
    Role.LA_OFFICER,
    Role.LA_ADMIN,
    Role.PLATFORM_ADMIN,
}
ROLE_SCOPE_FIELD = {
    Role.SENCO: "school",
    Role.PRACTITIONER: "school",
    Role.HEADTEACHER: "school",
    Role.PROVISION_LEAD: "provision",
    Role.PARTNERSHIP_LEAD: "partnership",
    Role.LA_OFFICER: "local_authority",
    Role.LA_ADMIN: "local_authority",
    Role.PLATFORM_ADMIN: None,
}

SCOPE_FIELDS = ("school", "provision", "partnership", "local_authority")


def _scope_matches_role() -> Q:
    """For each role, exactly the scope field it needs is set, and no other."""
    condition = Q()
    for wanted in (*SCOPE_FIELDS, None):
        roles = sorted(r.value for r, f in ROLE_SCOPE_FIELD.items() if f == wanted)
        condition |= Q(role__in=roles, **{f"{f}__isnull": f != wanted for f in SCOPE_FIELDS})
    return condition


class Membership(models.Model):
    """A role held over one scope object (none for the platform administrator)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships"
    )
    provision = models.ForeignKey(
        BehaviourProvision, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships"
    )
    partnership = models.ForeignKey(
        Partnership, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships"
    )
    local_authority = models.ForeignKey(
        LocalAuthority, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # Exactly the scope field the role needs is set, and no other.
            models.CheckConstraint(
                name="membership_scope_matches_role",
                condition=_scope_matches_role(),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "school", "provision", "partnership", "local_authority"],
                nulls_distinct=False,
                name="membership_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} · {self.scope_name}"

    def clean(self) -> None:
        # Platform staff reach pupils only through a recorded break-glass grant, never by
        # giving themselves a school role.
        if self.user_id and self.user.is_staff and Role(self.role) in PUPIL_LEVEL_ROLES:
            raise ValidationError({"role": "Platform staff cannot hold a role that sees pupils."})

    @property
    def scope_object(self) -> models.Model | None:
        field = ROLE_SCOPE_FIELD[Role(self.role)]
        return getattr(self, field) if field else None

    @property
    def scope_type(self) -> str:
        return ROLE_SCOPE_FIELD[Role(self.role)] or "deployment"

    @property
    def scope_name(self) -> str:
        obj = self.scope_object
        return str(obj.name) if obj is not None else "Provision Map"

    def local_authority_id_of_scope(self) -> int | None:
        obj = self.scope_object
        if obj is None:
            return None
        if isinstance(obj, LocalAuthority):
            return obj.pk
        if isinstance(obj, BehaviourProvision):
            return obj.partnership.local_authority_id
        return obj.local_authority_id


class AuditEvent(TenantModel):
    """Append-only record of every read and change of pupil data, and every denied attempt.

    The app role may insert and read rows of its own school but never update or delete
    them (schools/rls.py grants). Never store special-category text in `detail`.
    """

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        LIST = "list", "Listed"
        SEARCH = "search", "Searched"
        EXPORT = "export", "Exported"
        PRINT = "print", "Printed"
        DOWNLOAD = "download", "Downloaded"
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        DELETE = "delete", "Deleted"
        DENIED = "denied", "Denied"
        SIGN_IN = "sign_in", "Signed in"

    tenant_key = "school"
    append_only = True

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # No database constraint on who did it: the log outlives removed users and memberships,
    # and nothing may rewrite a row to null them out.
    user = models.ForeignKey(
        User, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )
    role = models.CharField(max_length=20, blank=True)
    local_authority = models.ForeignKey(
        LocalAuthority, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    school = models.ForeignKey(School, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    path = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["school", "-at"], name="audit_school_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type} {self.object_id}"


class PupilGrant(models.Model):
    """Access to one pupil across a school boundary, for a span of days.

    Written only by the services that transfer a pupil (pupils/transfers.py) and place one
    in a behaviour provision (interventions/placements.py); read when a membership's scope
    is built (schools/scopes.py). A `record` grant opens everything recorded about the pupil
    at `records_school` (and the pupil's own row); a `name` grant opens the pupil's own row
    alone, so a school that sent a pupil on still knows whom its records are about. Rows
    hold ids and dates only. The database lets a transaction add or end a grant only over
    records it may write (schools/rls.py), and never delete one.
    """

    class Kind(models.TextChoices):
        RECORD = "record", "Whole record"
        NAME = "name", "Name beside own records"

    class Reason(models.TextChoices):
        TRANSFER_IN = "transfer_in", "Received by transfer"
        TRANSFERRED_OUT = "transferred_out", "Sent on by transfer"
        PLACEMENT = "placement", "Placed in a behaviour provision"

    # No foreign key to pupils.Pupil: that app builds on this one. The services keep it true.
    pupil_id = models.BigIntegerField(db_index=True)
    school = models.ForeignKey(School, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    provision = models.ForeignKey(
        BehaviourProvision, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    records_school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="+", help_text="The school whose records it opens."
    )
    kind = models.CharField(max_length=6, choices=Kind.choices)
    reason = models.CharField(max_length=15, choices=Reason.choices)
    source_id = models.BigIntegerField(help_text="The transfer or placement that made it.")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="The last day it holds; empty: open.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(school__isnull=False, provision__isnull=True)
                | Q(school__isnull=True, provision__isnull=False),
                name="grant_to_school_or_provision",
            ),
            # Ended on its first day, a grant's span is empty: its last day is the day before.
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on") - timedelta(days=1)),
                name="grant_ends_after_start",
            ),
            # One grant of each kind per transfer or placement: a repeated action cannot leave
            # a second grant open when the first is ended.
            models.UniqueConstraint(
                fields=["reason", "source_id", "kind", "school", "provision", "records_school"],
                nulls_distinct=False,
                name="one_grant_per_source",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "starts_on"], name="grant_school"),
            models.Index(fields=["provision", "starts_on"], name="grant_provision"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of pupil {self.pupil_id}"


class ApiToken(models.Model):
    """An API token: only its SHA-256 is stored; it expires; it records two-factor.

    It also keeps the user's session hash (derived from the password hash), so a password
    change or reset ends every token, as it ends every session.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    password_fingerprint = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    two_factor_verified = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"token for {self.user} until {self.expires_at:%Y-%m-%d}"


# --- Partnership records: service level agreements, their annual review, and the annual
# report's narrative sections (issue 6). Appended as one block; services in schools/partnership.py.


class SlaStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    AGREED = "agreed", "Agreed"


# The sections an agreement must cover (the LA toolkit's template), condensed into our words:
# (field name, heading, what to write there).
SLA_SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("purpose", "Purpose", "Who the agreement is between, how long it runs and what it is for."),
    ("aims", "Vision and aims", "What the provision is for and the local needs and outcomes it targets."),
    (
        "eligibility_referral",
        "Eligibility and referral",
        "Who may be referred, how referrals and admissions are decided, and the SENCO's part.",
    ),
    (
        "places_pattern",
        "Places and pattern of support",
        "How many pupils, for how long, and how support is given (full-time, part-time, outreach, in-reach).",
    ),
    ("staffing", "Staffing", "Who delivers the service: roles, qualifications and experience."),
    (
        "roles",
        "Roles of the host school, home school, partnership and LA",
        "What each party is responsible for, including reporting, funding and communication.",
    ),
    ("curriculum", "Curriculum and resources", "The curriculum approach and the resources provided."),
    ("partnerships", "Work with other agencies", "How the provision works with external agencies."),
    (
        "monitoring",
        "Monitoring, KPIs and reporting",
        "The measures used to judge the service and how results are reported.",
    ),
    (
        "quality_safeguarding",
        "Quality assurance and safeguarding",
        "How quality is checked, and the safeguarding duties of host and home schools.",
    ),
    ("communication", "Communication and feedback", "Meetings, progress reports and how feedback is sought."),
    ("funding", "Funding", "How the delegated funding is arranged and accounted for."),
    ("review_termination", "Review and ending", "How and when the agreement is reviewed and how it ends."),
)


class ServiceLevelAgreement(TenantModel):
    """The agreement between a provision's host school and the partnership it serves."""

    tenant_key = "partnership"

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="agreements")
    provision = models.ForeignKey(BehaviourProvision, on_delete=models.PROTECT, related_name="agreements")
    status = models.CharField(max_length=10, choices=SlaStatus.choices, default=SlaStatus.DRAFT)
    starts_on = models.DateField()
    review_on = models.DateField(help_text="When the agreement is next reviewed (at least once a year).")
    purpose = models.TextField(blank=True)
    aims = models.TextField(blank=True)
    eligibility_referral = models.TextField(blank=True)
    places_pattern = models.TextField(blank=True)
    staffing = models.TextField(blank=True)
    roles = models.TextField(blank=True)
    curriculum = models.TextField(blank=True)
    partnerships = models.TextField(blank=True)
    monitoring = models.TextField(blank=True)
    quality_safeguarding = models.TextField(blank=True)
    communication = models.TextField(blank=True)
    funding = models.TextField(blank=True)
    review_termination = models.TextField(blank=True)
    agreed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    agreed_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provision__name", "-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(review_on__gt=F("starts_on")), name="sla_review_after_start"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(agreed_at__isnull=False), name="sla_agreed_has_date"
            ),
        ]

    def __str__(self) -> str:
        return f"Agreement for {self.provision} from {self.starts_on:%d %b %Y}"

    def clean(self) -> None:
        if self.starts_on and self.review_on and self.review_on <= self.starts_on:
            raise ValidationError({"review_on": "The review date must come after the start date."})


class Agreement(models.IntegerChoices):
    STRONGLY_AGREE = 5, "Strongly agree"
    AGREE = 4, "Agree"
    NEUTRAL = 3, "Neutral"
    DISAGREE = 2, "Disagree"
    STRONGLY_DISAGREE = 1, "Strongly disagree"


class SlaReview(TenantModel):
    """One answer to the annual review survey of an agreement."""

    tenant_key = "partnership"

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    agreement = models.ForeignKey(ServiceLevelAgreement, on_delete=models.PROTECT, related_name="reviews")
    academic_year = models.PositiveSmallIntegerField(help_text="The year the school year starts in.")
    reviewed_on = models.DateField()
    respondent = models.CharField(
        max_length=120, help_text="Who gave these answers, by role: e.g. host school headteacher."
    )
    reflects_vision = models.PositiveSmallIntegerField(choices=Agreement.choices)
    reflects_provision = models.PositiveSmallIntegerField(choices=Agreement.choices)
    reflects_practice = models.PositiveSmallIntegerField(choices=Agreement.choices)
    practice_evidence = models.TextField(blank=True)
    strengths = models.TextField(blank=True)
    changes_wanted = models.TextField(blank=True)
    comments = models.TextField(blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-reviewed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reflects_vision__range=(1, 5))
                & Q(reflects_provision__range=(1, 5))
                & Q(reflects_practice__range=(1, 5)),
                name="sla_review_ratings_on_scale",
            )
        ]

    def __str__(self) -> str:
        return f"Review of {self.agreement} on {self.reviewed_on:%d %b %Y}"


class NarrativeSection(models.TextChoices):
    SUMMARY = "summary", "Overall summary"
    EVALUATION = "evaluation", "Reporting and evaluation"
    QUALITY_ASSURANCE_SAFEGUARDING = "quality_assurance_safeguarding", "Quality assurance and safeguarding"
    PARTNERSHIPS = "partnerships", "Partnerships"
    COMMUNICATION_FEEDBACK = "communication_feedback", "Communication and feedback"
    CONTINGENCY = "contingency", "Contingency"
    FUTURE_PROOFING = "future_proofing", "Future proofing"


class NarrativeStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    FINAL = "final", "Final"


class ReportNarrative(TenantModel):
    """One written section of a partnership's annual report for one school year."""

    tenant_key = "partnership"

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    academic_year = models.PositiveSmallIntegerField(help_text="The year the school year starts in.")
    section = models.CharField(max_length=40, choices=NarrativeSection.choices)
    text = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=NarrativeStatus.choices, default=NarrativeStatus.DRAFT)
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["academic_year", "section"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "academic_year", "section"], name="one_narrative_per_section"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_section_display()} {academic_year_label(self.academic_year)}"


# --- Partnership budgets (issue 6): a budget per partnership and financial year, its lines,
# and spend items with the host school's and the partnership's approvals. Appended as one
# block; services and figures in schools/budgets.py.

# An item above this needs both signatures (host school and partnership) before it counts.
DUAL_APPROVAL_OVER = Decimal("30000.00")


import datetime  # noqa: E402  (kept inside this appended block)


def financial_year_of(day: datetime.date) -> int:
    """The financial year (April to March) a day falls in, by the year it starts: 31 March
    2026 is in 2025-26, 1 April 2026 in 2026-27."""
    return day.year if day.month >= 4 else day.year - 1


def financial_quarter_of(day: datetime.date) -> int:
    """Q1 April–June, Q2 July–September, Q3 October–December, Q4 January–March."""
    return (day.month - 4) % 12 // 3 + 1


class BudgetCategory(models.TextChoices):
    STAFFING = "staffing", "Staffing"
    RESOURCES = "resources", "Resources"
    TRAINING = "training", "Training"
    OTHER = "other", "Other"


class Budget(TenantModel):
    """A partnership's behaviour funding for one financial year (April to March)."""

    tenant_key = "partnership"

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="budgets")
    financial_year = models.PositiveSmallIntegerField(
        help_text="The year the financial year starts in (April): 2025 for 2025-26."
    )
    allocation = models.DecimalField(max_digits=10, decimal_places=2)
    carried_forward = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal(0), help_text="Surplus brought from last year."
    )
    surplus_plan = models.TextField(blank=True, help_text="How the surplus carried forward will be used.")
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-financial_year", "partnership__name"]
        constraints = [
            models.UniqueConstraint(fields=["partnership", "financial_year"], name="one_budget_per_year"),
            models.CheckConstraint(
                condition=Q(allocation__gte=0) & Q(carried_forward__gte=0), name="budget_money_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Budget {self.year_label}"

    @property
    def year_label(self) -> str:
        return f"{self.financial_year}-{(self.financial_year + 1) % 100:02d}"


class BudgetLine(TenantModel):
    """A planned amount under one category of a budget."""

    tenant_key = "partnership"

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="lines")
    category = models.CharField(max_length=12, choices=BudgetCategory.choices)
    name = models.CharField(max_length=120, help_text="e.g. Provision teacher, outreach TA.")
    planned = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["category", "name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(planned__gte=0), name="budget_line_planned_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.name}"


class SpendStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed (awaiting approval)"
    COMMITTED = "committed", "Committed"
    PAID = "paid", "Paid"


class SpendItem(TenantModel):
    """One item of spend against a budget line. Its quarter of the financial year follows
    from its date; an item over DUAL_APPROVAL_OVER stays proposed until both sides sign."""

    tenant_key = "partnership"

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="spend")
    line = models.ForeignKey(BudgetLine, on_delete=models.PROTECT, related_name="spend")
    description = models.CharField(max_length=200)
    supplier = models.CharField(max_length=120, blank=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    spent_on = models.DateField(help_text="The date of the order or invoice.")
    quarter = models.PositiveSmallIntegerField(editable=False)
    status = models.CharField(max_length=10, choices=SpendStatus.choices, default=SpendStatus.PROPOSED)
    proposed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)
    host_school_approved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    host_school_approved_at = models.DateTimeField(null=True, blank=True)
    partnership_approved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    partnership_approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["spent_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="spend_amount_positive"),
            models.CheckConstraint(condition=Q(quarter__range=(1, 4)), name="spend_quarter_1_to_4"),
            # The database keeps the £30k rule too: a large item is committed or paid only
            # with two signatures, given by two different people.
            models.CheckConstraint(
                condition=Q(amount__lte=DUAL_APPROVAL_OVER)
                | Q(status="proposed")
                | (
                    Q(host_school_approved_by__isnull=False, partnership_approved_by__isnull=False)
                    & ~Q(host_school_approved_by=F("partnership_approved_by"))
                ),
                name="spend_over_limit_dual_approved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description} £{self.amount}"

    @property
    def needs_dual_approval(self) -> bool:
        return self.amount > DUAL_APPROVAL_OVER

    def save(self, *args, **kwargs) -> None:
        self.quarter = financial_quarter_of(self.spent_on)
        super().save(*args, **kwargs)


class Kpi(models.TextChoices):
    """What a behaviour provision is measured by (actuals: interventions/placements.py)."""

    PUPILS_PLACED = "pupils_placed", "Pupils placed"
    SCHOOLS_SERVED = "schools_served", "Schools served"
    REINTEGRATION_RATE = "reintegration_rate", "Reintegration rate (%)"
    AVERAGE_STAY_WEEKS = "average_stay_weeks", "Average length of stay (weeks)"
    ATTENDANCE_RATE = "attendance_rate", "Attendance (%)"
    SUSPENSIONS = "suspensions", "Suspensions"


# For these a lower figure is the better one.
KPI_LOWER_IS_BETTER = frozenset({Kpi.AVERAGE_STAY_WEEKS, Kpi.SUSPENSIONS})


class KpiTarget(TenantModel):
    """A target the partnership sets for one provision, one school year and one KPI."""

    tenant_key = "partnership"

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    provision = models.ForeignKey(BehaviourProvision, on_delete=models.CASCADE, related_name="kpi_targets")
    academic_year = models.PositiveSmallIntegerField(help_text="The calendar year the school year starts in.")
    kpi = models.CharField(max_length=20, choices=Kpi.choices)
    target = models.DecimalField(max_digits=7, decimal_places=1, validators=[MinValueValidator(Decimal(0))])
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provision", "academic_year", "kpi"]
        constraints = [
            models.UniqueConstraint(fields=["provision", "academic_year", "kpi"], name="one_target_per_kpi"),
            models.CheckConstraint(condition=Q(target__gte=0), name="kpi_target_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kpi_display()} {self.target}"
