"""What a transfer (pupils/transfers.py) means for the graduated response.

The sending school's current step ends there and carries on at the receiving school from
the day of the transfer, on the same framework and step (the LA's, which both read); an
override still waiting for the sending headteacher lapses; open support plans close, since
the receiving school makes its own from the history it now reads.
"""

from __future__ import annotations

from graduated_response.models import StepPlacement, SupportPlan
from pupils.transfers import TransferContext

Status = StepPlacement.Status


def settle_graduated_response(context: TransferContext) -> None:
    pupil, sending = context.pupil, context.from_school
    mine = {"pupil": pupil, "school": sending}
    StepPlacement.objects.filter(**mine, status=Status.PENDING).update(status=Status.SUPERSEDED)
    current = StepPlacement.objects.filter(**mine, status=Status.ACTIVE).first()
    if current is not None:
        StepPlacement.objects.filter(pk=current.pk).update(status=Status.SUPERSEDED)
        StepPlacement.objects.create(
            school=context.to_school,
            pupil=pupil,
            framework_id=current.framework_id,
            step_id=current.step_id,
            kind=StepPlacement.Kind.START,
            reason=f"Carried on from {sending.name} on transfer.",
            placed_on=max(context.on, current.placed_on),
            recorded_by=context.user,
            status=Status.ACTIVE,
        )
    SupportPlan.objects.filter(**mine, status=SupportPlan.Status.OPEN).update(
        status=SupportPlan.Status.CLOSED, closed_on=context.on
    )
