"""Placements of pupils in behaviour provisions: referral, start, progress, end; and the
provision's KPIs with the partnership's targets.

Who may do what:
- the home school (SENCO, headteacher) refers its pupil, and may withdraw the referral;
- either side (the home school, or the provision's lead) starts the placement, records its
  progress (attendance at the provision, suspensions) and ends it with an exit outcome.

The rules a referral must meet (toolkit sections 5–7):
- parental consent is recorded, with the day and who gave it;
- a pupil outside the key stages the provision takes is placed only after a recorded
  multidisciplinary meeting, and the placement carries a flag the reports show;
- a pupil with an EHC plan is placed only as a recorded exception, with the reason;
- the pupil's school belongs to the partnership the provision serves;
- a pupil has at most one current (referred or running) placement.

The pupil's own record opens to the provision's staff only while the placement runs: a
`PupilGrant` from the first day to the last, written here and nowhere else. The placement
row itself is shared with the provision (ProvisionPlacement.shared_with), so both sides
keep its history after it ends. Every change writes an audit row with ids and kinds only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from interventions.models import ExitOutcome, PlacementPattern, ProvisionPlacement
from pupils.codes import SenStatus, key_stage_of, key_stages_in
from pupils.models import Pupil
from pupils.services import acting_user, save_or_refuse
from schools.audit import Action, audit
from schools.models import (
    KPI_LOWER_IS_BETTER,
    RECORD_KEEPERS,
    BehaviourProvision,
    Kpi,
    KpiTarget,
    PupilGrant,
    Role,
)
from schools.suppression import SMALL, suppress_count
from schools.tenancy import TenantScope, counting, require_scope
from schools.terms import academic_year_of

Status = ProvisionPlacement.Status
CURRENT = (Status.REFERRED, Status.ACTIVE)


# --- who may act -------------------------------------------------------------------------


def _role(request: HttpRequest | None) -> str:
    membership = getattr(request, "membership", None)
    return membership.role if membership is not None else require_scope().role


def _home_school_side(placement_or_pupil, scope: TenantScope, role: str) -> bool:
    return role in RECORD_KEEPERS and placement_or_pupil.school_id in scope.write_school


def _provision_side(placement: ProvisionPlacement, scope: TenantScope, role: str) -> bool:
    return role == Role.PROVISION_LEAD and placement.provision_id in scope.write_provision


def may_refer(request: HttpRequest | None, pupil: Pupil) -> bool:
    scope = require_scope()
    return _home_school_side(pupil, scope, _role(request)) or scope.role == "system"


def may_record(request: HttpRequest | None, placement: ProvisionPlacement) -> bool:
    """Either side of the placement: the home school's record keepers or the provision's lead."""
    scope = require_scope()
    role = _role(request)
    return (
        _home_school_side(placement, scope, role)
        or _provision_side(placement, scope, role)
        or scope.role == "system"
    )


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


# --- reads -------------------------------------------------------------------------------


def placements_in_scope() -> QuerySet[ProvisionPlacement]:
    """Every placement the scope may read: its school's pupils' and its provision's.

    Never joined to the pupil: after a placement ends the provision keeps the placement but
    not the pupil's record, so a join would drop the row. `pupil_names` fills names in.
    """
    return ProvisionPlacement.objects.select_related("provision", "school").order_by("-referred_on", "-id")


def pupil_names(placements: list[ProvisionPlacement]) -> dict[int, Pupil]:
    """The pupils of these placements whom the scope may read now (one query)."""
    ids = {p.pupil_id for p in placements}
    return {p.pk: p for p in Pupil.objects.filter(pk__in=ids)} if ids else {}


def current_placement(pupil: Pupil) -> ProvisionPlacement | None:
    current = ProvisionPlacement.objects.filter(pupil=pupil, status__in=CURRENT)
    return current.select_related("provision").first()


def provision_key_stages(provision: BehaviourProvision) -> set[str]:
    return key_stages_in(provision.key_stages or provision.host_school.key_stages)


def is_outside_key_stage(pupil: Pupil, provision: BehaviourProvision) -> bool:
    """True when the provision names the key stages it takes and the pupil's is not one.
    A provision (and host school) naming none takes every key stage."""
    stages = provision_key_stages(provision)
    return bool(stages) and key_stage_of(pupil.nc_year) not in stages


# --- writes ------------------------------------------------------------------------------


def _not_future(value: date | None, field: str, what: str) -> None:
    if value is not None and value > timezone.localdate():
        raise ValidationError({field: f"{what} cannot be in the future: record it on the day."})


def _audit(request: HttpRequest | None, placement: ProvisionPlacement, action: str, event: str) -> None:
    audit(
        request,
        action,
        placement,
        detail={
            "event": event,
            "pupil": placement.pupil_id,
            "provision": placement.provision_id,
            "status": placement.status,
            "pattern": placement.pattern,
            "outside_key_stage": placement.outside_key_stage,
            "ehc_exception": bool(placement.ehc_exception),
            "exit_outcome": placement.exit_outcome,
        },
    )


def placement_refer(
    request: HttpRequest | None,
    pupil: Pupil,
    *,
    provision: BehaviourProvision,
    referred_on: date,
    referral_reason: str,
    consent_on: date | None,
    consent_note: str,
    pattern: str,
    days_per_week: Decimal,
    planned_end_on: date | None = None,
    mdt_meeting_on: date | None = None,
    mdt_note: str = "",
    ehc_exception: str = "",
) -> ProvisionPlacement:
    """The home school asks a provision for a place for its pupil."""
    _require(may_refer(request, pupil), "Only the pupil's own school's SENCO or headteacher can refer them.")
    errors: dict[str, str] = {}
    school = pupil.school
    if not pupil.is_active:
        errors["pupil"] = "The pupil has left the school: only pupils on roll can be referred."
    if school.partnership_id != provision.partnership_id:
        errors["provision"] = (
            f"{provision.name} takes pupils from schools in its own partnership, "
            f"and {school.name} is not in it."
        )
    if not referral_reason.strip():
        errors["referral_reason"] = "Say what the school has tried and why it asks for a place."
    if consent_on is None:
        errors["consent_on"] = "Record the day parents or carers gave consent: no placement without it."
    elif consent_on > timezone.localdate():
        errors["consent_on"] = "Consent cannot be recorded before it is given (the date is in the future)."
    if not consent_note.strip():
        errors["consent_note"] = "Say who gave consent and how (for example: mother, signed form)."
    if pattern not in PlacementPattern.values:
        errors["pattern"] = "Choose full-time, part-time, outreach or in-reach."
    if referred_on > timezone.localdate():
        errors["referred_on"] = "The referral date cannot be in the future: record it on the day."
    if planned_end_on is not None and planned_end_on < referred_on:
        errors["planned_end_on"] = "The planned end cannot come before the referral."
    outside = is_outside_key_stage(pupil, provision)
    if outside:
        stages = ", ".join(sorted(provision_key_stages(provision)))
        if mdt_meeting_on is None or not mdt_note.strip():
            errors["mdt_meeting_on"] = (
                f"The pupil is in {key_stage_of(pupil.nc_year)} and {provision.name} takes {stages}: "
                "record the multidisciplinary meeting that agreed the placement "
                "(its date and decision) first."
            )
        elif mdt_meeting_on > timezone.localdate():
            errors["mdt_meeting_on"] = "The meeting must have been held: its date cannot be in the future."
    if pupil.sen_status == SenStatus.EHC_PLAN and not ehc_exception.strip():
        errors["ehc_exception"] = (
            "The pupil has an EHC plan: a place here is an exception, so record why it is agreed "
            "(for example, the outcome of an annual review or an emergency review)."
        )
    if errors:
        raise ValidationError(errors)
    placement = ProvisionPlacement(
        school_id=pupil.school_id,
        pupil=pupil,
        provision=provision,
        referred_on=referred_on,
        referral_reason=referral_reason.strip(),
        consent_on=consent_on,
        consent_note=consent_note.strip(),
        pattern=pattern,
        days_per_week=days_per_week,
        planned_end_on=planned_end_on,
        outside_key_stage=outside,
        mdt_meeting_on=mdt_meeting_on if outside or mdt_meeting_on else None,
        mdt_note=mdt_note.strip(),
        ehc_exception=ehc_exception.strip() if pupil.sen_status == SenStatus.EHC_PLAN else "",
        referred_by=acting_user(request),
    )
    placement.full_clean(validate_constraints=False)
    with transaction.atomic():
        save_or_refuse(
            placement,
            {"pupil": "The pupil already has a current referral or placement: end or withdraw it first."},
        )
        _audit(request, placement, Action.CREATE, "referred")
    return placement


def _grant(placement: ProvisionPlacement) -> PupilGrant | None:
    return PupilGrant.objects.filter(
        reason=PupilGrant.Reason.PLACEMENT, source_id=placement.pk, provision_id=placement.provision_id
    ).first()


def placement_start(request: HttpRequest | None, placement: ProvisionPlacement, starts_on: date) -> None:
    """The pupil's first day at the provision: its staff may read the pupil's record from it."""
    _require(may_record(request, placement), "Only the home school or the provision can start the placement.")
    if placement.status != Status.REFERRED:
        raise ValidationError("Only a referral that is waiting can start.")
    _not_future(starts_on, "starts_on", "The first day")
    if starts_on < placement.referred_on:
        raise ValidationError({"starts_on": "The placement cannot start before the referral was made."})
    if placement.outside_key_stage and placement.mdt_meeting_on and placement.mdt_meeting_on > starts_on:
        raise ValidationError(
            {"starts_on": "The multidisciplinary meeting must come before the placement starts."}
        )
    with transaction.atomic():
        placement.status = Status.ACTIVE
        placement.starts_on = starts_on
        placement.save(update_fields=["status", "starts_on", "updated_at"])
        PupilGrant.objects.create(
            pupil_id=placement.pupil_id,
            provision_id=placement.provision_id,
            records_school_id=placement.school_id,
            kind=PupilGrant.Kind.RECORD,
            reason=PupilGrant.Reason.PLACEMENT,
            source_id=placement.pk,
            starts_on=starts_on,
        )
        _audit(request, placement, Action.UPDATE, "started")


def placement_progress(
    request: HttpRequest | None,
    placement: ProvisionPlacement,
    *,
    attendance_percent: Decimal | None,
    suspensions: int,
    planned_end_on: date | None,
) -> None:
    """Attendance at the provision and suspensions so far (the KPIs read them)."""
    _require(may_record(request, placement), "Only the home school or the provision can record progress.")
    if placement.status not in CURRENT:
        raise ValidationError("The placement has ended: its figures were settled when it ended.")
    _set_figures(placement, attendance_percent, suspensions)
    if planned_end_on is not None and planned_end_on < placement.referred_on:
        raise ValidationError({"planned_end_on": "The planned end cannot come before the referral."})
    placement.planned_end_on = planned_end_on
    with transaction.atomic():
        placement.save(update_fields=["attendance_percent", "suspensions", "planned_end_on", "updated_at"])
        _audit(request, placement, Action.UPDATE, "progress")


def _set_figures(placement: ProvisionPlacement, attendance_percent: Decimal | None, suspensions: int) -> None:
    if attendance_percent is not None and not (0 <= attendance_percent <= 100):
        raise ValidationError({"attendance_percent": "Attendance is a percentage from 0 to 100."})
    if suspensions < 0:
        raise ValidationError({"suspensions": "Suspensions cannot be fewer than none."})
    placement.attendance_percent = attendance_percent
    placement.suspensions = suspensions


def placement_end(
    request: HttpRequest | None,
    placement: ProvisionPlacement,
    *,
    ends_on: date,
    exit_outcome: str,
    exit_note: str = "",
    attendance_percent: Decimal | None = None,
    suspensions: int | None = None,
) -> None:
    """The last day, and where the pupil goes next. The provision's access ends with the day."""
    _require(may_record(request, placement), "Only the home school or the provision can end the placement.")
    if placement.status != Status.ACTIVE:
        raise ValidationError("Only a running placement can end (withdraw a referral that has not started).")
    if exit_outcome not in ExitOutcome.values:
        raise ValidationError(
            {"exit_outcome": "Choose where the pupil went: home school, managed move, PRU or specialist."}
        )
    _not_future(ends_on, "ends_on", "The last day")
    if ends_on < placement.starts_on:
        raise ValidationError(
            {"ends_on": f"The placement cannot end before it started ({placement.starts_on:%d/%m/%Y})."}
        )
    _set_figures(
        placement,
        attendance_percent if attendance_percent is not None else placement.attendance_percent,
        suspensions if suspensions is not None else placement.suspensions,
    )
    with transaction.atomic():
        placement.status = Status.ENDED
        placement.ends_on = ends_on
        placement.exit_outcome = exit_outcome
        placement.exit_note = exit_note.strip()
        placement.save()
        grant = _grant(placement)
        if grant is not None:
            # Access ends the moment the placement is ended: recorded on its last day, the
            # grant's last day is yesterday (an empty span for a one-day placement).
            grant.ends_on = min(ends_on, timezone.localdate() - timedelta(days=1))
            grant.save(update_fields=["ends_on"])
        _audit(request, placement, Action.UPDATE, "ended")


def placement_withdraw(request: HttpRequest | None, placement: ProvisionPlacement, note: str = "") -> None:
    """The home school takes back a referral before the placement starts."""
    scope = require_scope()
    _require(
        _home_school_side(placement, scope, _role(request)) or scope.role == "system",
        "Only the home school can withdraw its referral.",
    )
    if placement.status != Status.REFERRED:
        raise ValidationError(
            "Only a referral that has not started can be withdrawn; end a running placement."
        )
    with transaction.atomic():
        placement.status = Status.WITHDRAWN
        placement.exit_note = note.strip()
        placement.save(update_fields=["status", "exit_note", "updated_at"])
        _audit(request, placement, Action.UPDATE, "withdrawn")


# --- KPIs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiRow:
    kpi: str
    label: str
    target: Decimal | None
    actual: Decimal | None  # None: nothing to measure yet
    shown: str  # the actual as the viewer may see it ("<5" or "suppressed" outside a school)
    basis: int  # how many pupils or placements the actual is computed from
    met: bool | None
    lower_is_better: bool


def _year_bounds(year: int) -> tuple[date, date]:
    return date(year, 9, 1), date(year + 1, 8, 31)


def _one_place(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def kpi_actuals(provision: BehaviourProvision, year: int) -> dict[str, tuple[Decimal | None, int]]:
    """Each KPI's actual for the school year starting in September of `year`, with the number
    of pupils or placements it rests on. Runs inside counting(): figures, never rows, leave."""
    first, last = _year_bounds(year)
    with counting():
        rows = list(
            ProvisionPlacement.objects.filter(
                provision=provision, starts_on__isnull=False, starts_on__lte=last
            )
            .exclude(ends_on__lt=first)
            .values(
                "pupil_id",
                "school_id",
                "status",
                "starts_on",
                "ends_on",
                "exit_outcome",
                "attendance_percent",
                "suspensions",
            )
        )
    pupils = {r["pupil_id"] for r in rows}
    schools = {r["school_id"] for r in rows}
    ended = [
        r for r in rows if r["status"] == Status.ENDED and r["ends_on"] and first <= r["ends_on"] <= last
    ]
    returned = sum(1 for r in ended if r["exit_outcome"] == ExitOutcome.RETURNED)
    stays = [Decimal((r["ends_on"] - r["starts_on"]).days + 1) / 7 for r in ended]
    attendance = [r["attendance_percent"] for r in rows if r["attendance_percent"] is not None]
    suspensions = sum(r["suspensions"] for r in rows)
    return {
        Kpi.PUPILS_PLACED: (Decimal(len(pupils)), len(pupils)),
        Kpi.SCHOOLS_SERVED: (Decimal(len(schools)), len(pupils)),
        Kpi.REINTEGRATION_RATE: (
            _one_place(Decimal(100 * returned) / len(ended)) if ended else None,
            len(ended),
        ),
        Kpi.AVERAGE_STAY_WEEKS: (_one_place(sum(stays) / len(stays)) if stays else None, len(stays)),
        Kpi.ATTENDANCE_RATE: (
            _one_place(sum(attendance) / len(attendance)) if attendance else None,
            len(attendance),
        ),
        Kpi.SUSPENSIONS: (Decimal(suspensions), len(pupils)),
    }


def provision_kpis(provision: BehaviourProvision, year: int | None = None, *, suppress: bool) -> list[KpiRow]:
    """Targets against actuals for one provision and school year.

    `suppress` is on for viewers outside the provision (partnership lead, LA officer): a count
    of pupils from 1 to 4 shows as "<5", and a rate or average resting on fewer than five
    pupils or placements is not shown, since it could point at a child.
    """
    year = year if year is not None else academic_year_of(timezone.localdate())
    actuals = kpi_actuals(provision, year)
    targets = {t.kpi: t.target for t in KpiTarget.objects.filter(provision=provision, academic_year=year)}
    out = []
    for kpi in Kpi:
        actual, basis = actuals[kpi]
        lower = kpi in KPI_LOWER_IS_BETTER
        target = targets.get(kpi)
        shown = _shown(kpi, actual, basis, suppress)
        hidden = shown in (SMALL, SUPPRESSED)
        met = None
        if target is not None and actual is not None and not hidden:
            met = actual <= target if lower else actual >= target
        out.append(
            KpiRow(
                kpi=kpi.value,
                label=kpi.label,
                target=target,
                actual=None if hidden else actual,
                shown=shown,
                basis=basis,
                met=met,
                lower_is_better=lower,
            )
        )
    return out


SUPPRESSED = "suppressed"


def _shown(kpi: str, actual: Decimal | None, basis: int, suppress: bool) -> str:
    if actual is None:
        return "–"
    if not suppress:
        return f"{actual.normalize():f}"
    if kpi in (Kpi.PUPILS_PLACED, Kpi.SUSPENSIONS):
        return str(suppress_count(int(actual)))
    if kpi == Kpi.SCHOOLS_SERVED:
        # A count of schools, not of pupils; shown unless the pupils behind it are few.
        return SUPPRESSED if 0 < basis < 5 else f"{actual.normalize():f}"
    return SUPPRESSED if basis < 5 else f"{actual.normalize():f}"


def kpi_target_set(
    request: HttpRequest | None, provision: BehaviourProvision, year: int, kpi: str, target: Decimal | None
) -> KpiTarget | None:
    """The partnership lead sets (or, with None, clears) a target for one KPI and year."""
    scope = require_scope()
    _require(
        (provision.partnership_id in scope.write_partnership and _role(request) == Role.PARTNERSHIP_LEAD)
        or scope.role == "system",
        "Only the partnership's lead sets its provisions' targets.",
    )
    if kpi not in Kpi.values:
        raise ValidationError({"kpi": "Unknown KPI."})
    if target is not None and target < 0:
        raise ValidationError({"target": "A target cannot be negative."})
    if target is not None and kpi in (Kpi.REINTEGRATION_RATE, Kpi.ATTENDANCE_RATE) and target > 100:
        raise ValidationError({"target": "A percentage target is at most 100."})
    existing = KpiTarget.objects.filter(provision=provision, academic_year=year, kpi=kpi).first()
    if target is None:
        if existing is not None:
            existing.delete()
        return None
    row = existing or KpiTarget(
        partnership_id=provision.partnership_id, provision=provision, academic_year=year, kpi=kpi
    )
    row.target = target
    row.updated_by = acting_user(request)
    save_or_refuse(row, "Someone set this target at the same moment; reload and check.")
    return row
