"""What a transfer (pupils/transfers.py) means for interventions and placements.

A pupil in a behaviour provision placement is not transferred until the placement ends (its
exit outcome says where they went, and the provision's access ends with it). Their places in
the sending school's intervention groups end on the day of the transfer.
"""

from __future__ import annotations

from django.db.models import F, Q
from django.db.models.functions import Greatest

from interventions.models import Enrolment, ProvisionPlacement
from pupils.transfers import TransferContext


def placement_blocks_transfer(context: TransferContext) -> str | None:
    current = ProvisionPlacement.objects.filter(
        pupil=context.pupil, status__in=[ProvisionPlacement.Status.REFERRED, ProvisionPlacement.Status.ACTIVE]
    ).first()
    if current is None:
        return None
    return (
        "The pupil has a current referral or placement at a behaviour provision: end it (or withdraw "
        "the referral) with its outcome first, then transfer them."
    )


def end_enrolments(context: TransferContext) -> None:
    Enrolment.objects.filter(
        Q(ends_on__isnull=True) | Q(ends_on__gt=context.on), pupil=context.pupil, school=context.from_school
    ).update(ends_on=Greatest(F("starts_on"), context.on))
