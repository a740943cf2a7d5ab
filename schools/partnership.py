"""A partnership's records: service level agreements with its provisions, their annual review
survey, and the written sections of its annual report.

These are partnership rows (`tenant_key = "partnership"`), so the scoped manager and the
row-level policies already keep other partnerships out. The partnership lead writes them;
the services check `write_partnership` again, so a view that forgot its role rule still
changes nothing. A provision lead reads its own provision's agreements, an LA officer reads
every partnership of the LA. Audit rows carry ids and field names only, never the text.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from schools.audit import Action, audit
from schools.models import (
    SLA_SECTIONS,
    BehaviourProvision,
    NarrativeSection,
    NarrativeStatus,
    Partnership,
    ReportNarrative,
    ServiceLevelAgreement,
    SlaReview,
    SlaStatus,
)
from schools.tenancy import TenantScope, require_scope

SECTION_FIELDS = [name for name, _, _ in SLA_SECTIONS]
# An agreement is reviewed at least yearly; it shows as due this many days before the date.
REVIEW_DUE_WITHIN_DAYS = 30
# Roles that write these records ("system" is seeding and commands, with an explicit scope).
WRITERS = frozenset({"partnership_lead", "system"})


# --- reads -------------------------------------------------------------------------------


def partnerships_for(scope: TenantScope) -> QuerySet[Partnership]:
    """Partnerships whose records the scope may read (not the schools' pupils)."""
    return Partnership.objects.filter(pk__in=scope.read_partnership).order_by("name")


def agreements_for(scope: TenantScope, *, provision_id: int | None = None) -> QuerySet[ServiceLevelAgreement]:
    """Agreements the scope reads, with what a list shows, and the date of the latest review
    (one query whatever the number of agreements). A provision lead passes its provision."""
    qs = ServiceLevelAgreement.objects.select_related("provision__host_school", "partnership", "agreed_by")
    if scope.role == "provision_lead":
        qs = qs.filter(provision_id=provision_id)
    return qs.annotate(last_reviewed_on=Max("reviews__reviewed_on")).order_by(
        "partnership__name", "provision__name", "-starts_on", "-id"
    )


def provisions_to_agree(scope: TenantScope) -> QuerySet[BehaviourProvision]:
    """Provisions the scope may write agreements for: those of its own partnership."""
    return BehaviourProvision.objects.filter(partnership_id__in=scope.write_partnership).select_related(
        "host_school"
    )


@dataclass(frozen=True)
class ReviewState:
    label: str  # "Overdue", "Due", "Not yet due"
    css: str


def review_state(agreement: ServiceLevelAgreement, today: datetime.date | None = None) -> ReviewState:
    """The one rule for whether an agreement's review is overdue or due soon."""
    today = today or timezone.localdate()
    if agreement.review_on < today:
        return ReviewState("Overdue", "overdue")
    if agreement.review_on <= today + datetime.timedelta(days=REVIEW_DUE_WITHIN_DAYS):
        return ReviewState("Due", "due")
    return ReviewState("Not yet due", "ok")


def narratives_of_year(
    partnership: Partnership, academic_year: int
) -> list[tuple[str, str, ReportNarrative | None]]:
    """Each annual report section (key, heading, saved narrative or None), in report order."""
    saved = {
        n.section: n
        for n in ReportNarrative.objects.filter(
            partnership=partnership, academic_year=academic_year
        ).select_related("updated_by")
    }
    return [(key, label, saved.get(key)) for key, label in NarrativeSection.choices]


# --- writes ------------------------------------------------------------------------------


def _require_write(request: HttpRequest | None, partnership_id: int, part: str) -> None:
    # Other roles may write some partnership rows (a host school's headteacher signs budget
    # items), so the role is checked as well as the partnership.
    scope = require_scope()
    if partnership_id not in scope.write_partnership or scope.role not in WRITERS:
        audit(request, Action.DENIED, object_type=f"schools.{part}", detail={"reason": "role"})
        raise PermissionDenied("Only the partnership lead can change the partnership's records.")


def _check_dates(starts_on: datetime.date, review_on: datetime.date) -> None:
    if review_on <= starts_on:
        raise ValidationError({"review_on": "The review date must come after the start date."})


@transaction.atomic
def sla_create(
    *,
    request: HttpRequest | None,
    provision: BehaviourProvision,
    starts_on: datetime.date,
    review_on: datetime.date,
    sections: dict[str, str],
) -> ServiceLevelAgreement:
    """A draft agreement for a provision of the lead's own partnership."""
    _require_write(request, provision.partnership_id, "servicelevelagreement")
    _check_dates(starts_on, review_on)
    agreement = ServiceLevelAgreement.objects.create(
        partnership_id=provision.partnership_id,
        provision=provision,
        starts_on=starts_on,
        review_on=review_on,
        updated_by=_user(request),
        **{k: sections.get(k, "") for k in SECTION_FIELDS},
    )
    audit(request, Action.CREATE, agreement, detail={"provision": provision.pk})
    return agreement


@transaction.atomic
def sla_update(
    *,
    request: HttpRequest | None,
    agreement: ServiceLevelAgreement,
    starts_on: datetime.date,
    review_on: datetime.date,
    sections: dict[str, str],
) -> ServiceLevelAgreement:
    """Change an agreement. Changing an agreed one returns it to draft: what was agreed is
    no longer what it says, so it must be agreed again."""
    _require_write(request, agreement.partnership_id, "servicelevelagreement")
    _check_dates(starts_on, review_on)
    agreement = ServiceLevelAgreement.objects.select_for_update().get(pk=agreement.pk)
    changed = [k for k in SECTION_FIELDS if getattr(agreement, k) != sections.get(k, "")]
    changed += [
        k for k, v in (("starts_on", starts_on), ("review_on", review_on)) if getattr(agreement, k) != v
    ]
    if not changed:
        return agreement
    for key in SECTION_FIELDS:
        setattr(agreement, key, sections.get(key, ""))
    agreement.starts_on, agreement.review_on = starts_on, review_on
    reopened = agreement.status == SlaStatus.AGREED
    agreement.status, agreement.agreed_by, agreement.agreed_at = SlaStatus.DRAFT, None, None
    agreement.updated_by = _user(request)
    agreement.save()
    audit(request, Action.UPDATE, agreement, detail={"fields": sorted(changed), "reopened": reopened})
    return agreement


@transaction.atomic
def sla_agree(*, request: HttpRequest | None, agreement: ServiceLevelAgreement) -> ServiceLevelAgreement:
    """Record that the host school and the partnership have agreed the current text."""
    _require_write(request, agreement.partnership_id, "servicelevelagreement")
    agreement = ServiceLevelAgreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.status == SlaStatus.AGREED:
        return agreement
    missing = [label for key, label, _ in SLA_SECTIONS if not getattr(agreement, key).strip()]
    if missing:
        raise ValidationError(f"Write every section before agreeing it. Still empty: {', '.join(missing)}.")
    agreement.status, agreement.agreed_by, agreement.agreed_at = (
        SlaStatus.AGREED,
        _user(request),
        timezone.now(),
    )
    agreement.save(update_fields=["status", "agreed_by", "agreed_at", "updated_at"])
    audit(request, Action.UPDATE, agreement, detail={"fields": ["status"], "status": "agreed"})
    return agreement


@transaction.atomic
def sla_review_record(
    *, request: HttpRequest | None, agreement: ServiceLevelAgreement, answers: dict
) -> SlaReview:
    """One response to the annual review survey. The agreement's next review moves to a year
    after this one, when that is later than the date it had."""
    _require_write(request, agreement.partnership_id, "slareview")
    reviewed_on: datetime.date = answers["reviewed_on"]
    if reviewed_on > timezone.localdate():
        raise ValidationError({"reviewed_on": "A review cannot be recorded for a day still to come."})
    if reviewed_on < agreement.starts_on:
        raise ValidationError({"reviewed_on": "The review cannot come before the agreement starts."})
    review = SlaReview.objects.create(
        partnership_id=agreement.partnership_id,
        agreement=agreement,
        recorded_by=_user(request),
        **answers,
    )
    next_review = a_year_after(reviewed_on)
    if next_review > agreement.review_on:
        ServiceLevelAgreement.objects.filter(pk=agreement.pk).update(review_on=next_review)
    audit(request, Action.CREATE, review, detail={"agreement": agreement.pk})
    return review


@transaction.atomic
def narrative_save(
    *,
    request: HttpRequest | None,
    partnership: Partnership,
    academic_year: int,
    section: str,
    text: str,
    final: bool,
) -> ReportNarrative:
    """Save one section as a draft, or mark it final (a final section can be reopened by
    saving it as a draft again)."""
    _require_write(request, partnership.pk, "reportnarrative")
    if section not in NarrativeSection.values:
        raise ValidationError({"section": "There is no such section of the annual report."})
    if final and not text.strip():
        raise ValidationError({"text": "Write the section before marking it final."})
    narrative, created = ReportNarrative.objects.select_for_update().get_or_create(
        partnership=partnership, academic_year=academic_year, section=section
    )
    narrative.text = text
    narrative.status = NarrativeStatus.FINAL if final else NarrativeStatus.DRAFT
    narrative.updated_by = _user(request)
    narrative.save()
    audit(
        request,
        Action.CREATE if created else Action.UPDATE,
        narrative,
        detail={"section": section, "year": academic_year, "status": narrative.status},
    )
    return narrative


def _user(request: HttpRequest | None):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def a_year_after(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)
