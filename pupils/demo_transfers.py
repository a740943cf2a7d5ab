"""Demo transfers: two pupils with a history move school through the service itself, so the
demo shows both sides: the demo SENCO's primary (Ashgrove) sends a pupil to another primary
of the LA, and the demo secondary SENCO's school (Kingsmead) receives a pupil from the
all-through academy. Run after the other seeders, so the history is there to go with them.
Idempotent: a school that has sent its demo pupil sends no other."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q

from pupils.codes import SenStatus
from pupils.models import Pupil, Transfer
from pupils.transfers import transfer_pupil
from schools.models import LocalAuthority, School
from schools.tenancy import TenantScope, tenant_scope

# (sending URN, receiving URN, reason, what the sending SENCO tells the new school)
DEMO_TRANSFERS = [
    (
        "190002",
        "190003",
        Transfer.Reason.MOVING_HOME,
        "Family moved across town. Settles best with a named adult at the start of the day.",
    ),
    (
        "190005",
        "190004",
        Transfer.Reason.MANAGED_MOVE,
        "Managed move agreed by both headteachers after a review; a fresh start with the plan's targets.",
    ),
]


def _candidates(school: School) -> list[Pupil]:
    """Pupils with SEN on a step, those with most history first (a placement in a behaviour
    provision that has ended, then support plans); ties by id, so re-runs agree."""
    return list(
        Pupil.objects.filter(
            school=school,
            is_active=True,
            step_placements__status="active",
            step_placements__step__number__gte=2,
        )
        .exclude(sen_status=SenStatus.NONE)
        .annotate(
            ended=Count(
                "provision_placements", filter=Q(provision_placements__status="ended"), distinct=True
            ),
            plans=Count("support_plans", distinct=True),
        )
        .order_by("-ended", "-plans", "pk")[:20]
    )


def seed_transfers(la: LocalAuthority, *, today: date | None = None) -> int:
    """Make the demo transfers not yet made; returns how many were made."""
    made = 0
    schools = {s.urn: s for s in School.objects.filter(local_authority=la)}
    for from_urn, to_urn, reason, note in DEMO_TRANSFERS:
        sending, receiving = schools.get(from_urn), schools.get(to_urn)
        if sending is None or receiving is None:
            continue
        scope = TenantScope.system(schools=[sending.pk, receiving.pk], local_authorities=[la.pk])
        with transaction.atomic(), tenant_scope(scope):
            if Transfer.objects.filter(school=sending).exists():
                continue
            for pupil in _candidates(sending):
                try:
                    transfer_pupil(
                        None,
                        pupil,
                        to_school=receiving,
                        reason=reason,
                        transferred_on=today or date.today(),
                        note=note,
                    )
                except ValidationError:
                    continue  # a current placement at the provision, say: the next pupil
                made += 1
                break
    return made
