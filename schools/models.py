"""The organisation tree, roles and memberships, and the audit log.

LocalAuthority → Partnership → School; a BehaviourProvision is hosted by a school and
serves a partnership. A user holds memberships: a role over one scope object.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from schools.tenancy import TenantModel
from schools.terms import Term, TermSpan, academic_year_label, academic_year_of


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

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "local authorities"

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
