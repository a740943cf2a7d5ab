"""Demo partnership records: an agreed agreement for the demo provision, one review of it,
and draft annual report sections for this school year. Idempotent: run it again and it
finds what it made. Call it after `seed_organisations` with the DemoWorld, inside a
transaction (it opens its own scope for the provision's partnership)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from schools.demo import DemoWorld
from schools.models import (
    SLA_SECTIONS,
    Agreement,
    NarrativeSection,
    NarrativeStatus,
    ReportNarrative,
    ServiceLevelAgreement,
    SlaReview,
    SlaStatus,
)
from schools.tenancy import TenantScope, tenant_scope
from schools.terms import academic_year_of

DEMO_SECTION_TEXT = "Demo text for this section: replace it with the partnership's own."
DEMO_NARRATIVES = {
    NarrativeSection.SUMMARY: "The provision supported pupils from most partnership schools this year.",
    NarrativeSection.EVALUATION: "Learning walks each term and a review of the provision's data.",
    NarrativeSection.FUTURE_PROOFING: "Surplus is planned for outreach training next year.",
}


@transaction.atomic
def seed_partnership_records(world: DemoWorld) -> ServiceLevelAgreement:
    provision = world.provision
    today = timezone.localdate()
    year = academic_year_of(today)
    with tenant_scope(TenantScope.system(partnerships=[provision.partnership_id])):
        agreement = ServiceLevelAgreement.objects.filter(provision=provision).order_by("id").first()
        if agreement is None:
            starts_on = datetime.date(year, 9, 1)
            agreement = ServiceLevelAgreement.objects.create(
                partnership_id=provision.partnership_id,
                provision=provision,
                starts_on=starts_on,
                review_on=datetime.date(year + 1, 7, 1),
                status=SlaStatus.AGREED,
                agreed_at=timezone.now(),
                **{name: f"{heading}. {DEMO_SECTION_TEXT}" for name, heading, _ in SLA_SECTIONS},
            )
        if not SlaReview.objects.filter(agreement=agreement).exists():
            SlaReview.objects.create(
                partnership_id=provision.partnership_id,
                agreement=agreement,
                academic_year=year,
                reviewed_on=max(agreement.starts_on, min(today, agreement.review_on)),
                respondent="Host school headteacher",
                reflects_vision=Agreement.AGREE,
                reflects_provision=Agreement.STRONGLY_AGREE,
                reflects_practice=Agreement.NEUTRAL,
                practice_evidence="Termly visits and the provision's records.",
                strengths="Clear referral route.",
                changes_wanted="Say more about outreach to home schools.",
            )
        for section, text in DEMO_NARRATIVES.items():
            ReportNarrative.objects.get_or_create(
                partnership_id=provision.partnership_id,
                academic_year=year,
                section=section,
                defaults={"text": text, "status": NarrativeStatus.DRAFT},
            )
    return agreement
