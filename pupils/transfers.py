"""Transfers of a pupil between schools of the deployment: transition to the next phase, a
managed move, moving home.

The sending school's SENCO (or headteacher) transfers the pupil. From that day:
- the pupil's row belongs to the receiving school, which reads the whole history (SEN
  register, steps, strategies, plans and reviews, interventions, placements, observations)
  through a `record` grant, wherever each part was recorded; it records what comes next;
- the sending school keeps reading what it recorded (those rows stay its own) and the
  pupil's name beside them (a `name` grant), and changes nothing more;
- what was running at the sending school stops there: the apps that build on this one say
  what that means for their records through `register_transfer_step` (a current step carries
  on at the receiving school; open plans close; interventions end), and may refuse a
  transfer through `register_transfer_check` (a current behaviour provision placement);
- both schools' audit logs record it.

A transfer reaches schools of the same local authority: the history names the LA's
frameworks and rates, which another LA's schools cannot read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from pupils.models import OnePageProfile, Pupil, Transfer
from pupils.services import acting_user
from schools.audit import Action, audit
from schools.models import RECORD_KEEPERS, PupilGrant, School, User
from schools.tenancy import require_scope, tenant_scope

Grant = PupilGrant


@dataclass(frozen=True)
class TransferContext:
    pupil: Pupil
    from_school: School
    to_school: School
    on: date
    user: User | None


# Checks that may refuse a transfer (return the reason) and steps that settle the sending
# school's running records; both run inside the transfer's scope over the two schools.
_checks: list[Callable[[TransferContext], str | None]] = []
_steps: list[Callable[[TransferContext], None]] = []


def register_transfer_check(check: Callable[[TransferContext], str | None]) -> None:
    if check not in _checks:
        _checks.append(check)


def register_transfer_step(step: Callable[[TransferContext], None]) -> None:
    if step not in _steps:
        _steps.append(step)


def transfers_in_scope() -> QuerySet[Transfer]:
    """Transfers the scope may read: out of its school, and into it (through the grant)."""
    return Transfer.objects.select_related("school", "to_school", "transferred_by").order_by(
        "-transferred_on", "-id"
    )


def transfers_sent(scope) -> QuerySet[Transfer]:
    """Transfers out of the scope's school."""
    return transfers_in_scope().filter(school_id__in=scope.write_school)


def transfers_received(scope) -> QuerySet[Transfer]:
    """Transfers into the scope's school (the rows are the sending schools', read by grant)."""
    return transfers_in_scope().filter(to_school_id__in=scope.write_school)


def transferred_out(scope) -> QuerySet[Pupil]:
    """Pupils this school sent on: readable by name beside its own records."""
    return Pupil.objects.filter(pk__in=scope.name_pupil).exclude(school_id__in=scope.read_school)


def transfer_pupil(
    request: HttpRequest | None,
    pupil: Pupil,
    *,
    to_school: School,
    reason: str,
    transferred_on: date,
    note: str = "",
) -> Transfer:
    scope = require_scope()
    membership = getattr(request, "membership", None)
    role = membership.role if membership is not None else scope.role
    if not (pupil.school_id in scope.write_school and (role in RECORD_KEEPERS or role == "system")):
        raise PermissionDenied("Only the pupil's own school's SENCO or headteacher can transfer them.")
    from_school = pupil.school
    errors: dict[str, str] = {}
    if to_school.pk == from_school.pk:
        errors["to_school"] = "Choose the school the pupil is moving to, not their own."
    elif to_school.local_authority_id != from_school.local_authority_id:
        # Not named: the caller gave an id or URN, and another LA's schools are not theirs to list.
        errors["to_school"] = (
            "That school is in another local authority: transfers reach schools of the same "
            "local authority. Export the pupil's record for the new school instead."
        )
    if reason not in Transfer.Reason.values:
        errors["reason"] = "Choose why the pupil is moving."
    today = timezone.localdate()
    if transferred_on > today:
        errors["transferred_on"] = "Record the transfer on the day the pupil moves, not before."
    if not pupil.is_active:
        errors["pupil"] = "The pupil has left the school's roll; only pupils on roll can be transferred."
    if errors:
        raise ValidationError(errors)

    # The transfer writes on both sides, so it runs in one scope over the two schools and the
    # schools whose records the sending school holds by earlier transfers (their grants pass
    # on); the checks above are the caller's rights, not this scope's.
    earlier = _earlier_schools(pupil.pk, from_school, transferred_on)
    both = frozenset({from_school.pk, to_school.pk, *earlier})
    widened = dataclasses.replace(
        scope,
        read_school=scope.read_school | both,
        write_school=scope.write_school | both,
        home_school=scope.home_school | both,
    )
    user = acting_user(request)
    with transaction.atomic(), tenant_scope(widened):
        locked = Pupil.objects.select_for_update().get(pk=pupil.pk)
        if locked.school_id != from_school.pk:
            raise ValidationError("The pupil was moved by someone else a moment ago; reload and check.")
        if Pupil.objects.filter(school=to_school, upn=pupil.upn).exists():
            raise ValidationError(
                {
                    "to_school": f"{to_school.name} already has a pupil with UPN {pupil.upn} on its "
                    "register (from its own import): ask it to remove that row first, so the pupil "
                    "arrives with their history."
                }
            )
        context = TransferContext(
            pupil=locked, from_school=from_school, to_school=to_school, on=transferred_on, user=user
        )
        refusals = [message for check in _checks if (message := check(context))]
        if refusals:
            raise ValidationError({"pupil": " ".join(refusals)})
        for step in _steps:
            step(context)
        OnePageProfile.objects.filter(pupil=locked).update(school=to_school)
        Pupil.objects.filter(pk=locked.pk).update(school=to_school, updated_at=timezone.now())
        record = Transfer.objects.create(
            school=from_school,
            pupil=locked,
            to_school=to_school,
            reason=reason,
            transferred_on=transferred_on,
            note=note.strip(),
            transferred_by=user,
        )
        _move_grants(locked.pk, from_school, to_school, transferred_on, record.pk, earlier)
        detail = {
            "transfer": record.pk,
            "from_school": from_school.pk,
            "to_school": to_school.pk,
            "reason": reason,
        }
        audit(
            request,
            Action.UPDATE,
            locked,
            school_id=from_school.pk,
            detail={**detail, "event": "transferred_out"},
        )
        audit(request, Action.UPDATE, locked, school_id=to_school.pk, detail={**detail, "event": "received"})
    pupil.school = to_school  # the caller's scope may no longer read the row to refresh it
    return record


def _held_grants(pupil_id: int, school: School, on: date) -> QuerySet[PupilGrant]:
    return Grant.objects.filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=on), pupil_id=pupil_id, school=school, kind=Grant.Kind.RECORD
    )


def _earlier_schools(pupil_id: int, school: School, on: date) -> set[int]:
    return set(_held_grants(pupil_id, school, on).values_list("records_school_id", flat=True))


def _move_grants(
    pupil_id: int, from_school: School, to_school: School, on: date, source: int, earlier: set[int]
) -> None:
    """The receiving school reads what the sending school recorded, and whatever the sending
    school could read by earlier transfers; the sending school's own such grants end the day
    before, and it keeps the pupil's name beside its records."""
    for grant in _held_grants(pupil_id, from_school, on):
        grant.ends_on = max(grant.starts_on - timedelta(days=1), on - timedelta(days=1))
        grant.save(update_fields=["ends_on"])
    for records_school in {from_school.pk, *earlier} - {to_school.pk}:
        Grant.objects.create(
            pupil_id=pupil_id,
            school=to_school,
            records_school_id=records_school,
            kind=Grant.Kind.RECORD,
            reason=Grant.Reason.TRANSFER_IN,
            source_id=source,
            starts_on=on,
        )
    Grant.objects.create(
        pupil_id=pupil_id,
        school=from_school,
        records_school=from_school,
        kind=Grant.Kind.NAME,
        reason=Grant.Reason.TRANSFERRED_OUT,
        source_id=source,
        starts_on=on,
    )
