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

from collections.abc import Callable, Sequence
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
from schools.suppression import SMALL, SMALLEST_SHOWN, is_small, suppress_count
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


def may_withdraw(request: HttpRequest | None, placement: ProvisionPlacement) -> bool:
    """Only the home school takes back its referral, and only before the placement starts."""
    scope = require_scope()
    return placement.status == Status.REFERRED and (
        _home_school_side(placement, scope, _role(request)) or scope.role == "system"
    )


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


def _grants(placement: ProvisionPlacement):
    return PupilGrant.objects.filter(
        reason=PupilGrant.Reason.PLACEMENT, source_id=placement.pk, provision_id=placement.provision_id
    )


def _transition(placement: ProvisionPlacement, from_statuses, **changes) -> None:
    """Change the placement only if it still stands where this user saw it: two people
    acting at once (a double click, both sides) cannot both start or end it."""
    changes["updated_at"] = timezone.now()
    still = ProvisionPlacement.objects.filter(pk=placement.pk, status__in=list(from_statuses))
    done = still.update(**changes)
    if not done:
        raise ValidationError("Someone changed this placement a moment ago; reload the page and check.")
    for name, value in changes.items():
        setattr(placement, name, value)


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
        _transition(placement, [Status.REFERRED], status=Status.ACTIVE, starts_on=starts_on)
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
    if planned_end_on is not None and planned_end_on < placement.referred_on:
        raise ValidationError({"planned_end_on": "The planned end cannot come before the referral."})
    _set_figures(placement, attendance_percent, suspensions)
    placement.planned_end_on = planned_end_on
    with transaction.atomic():
        _transition(
            placement,
            CURRENT,
            attendance_percent=placement.attendance_percent,
            suspensions=placement.suspensions,
            planned_end_on=placement.planned_end_on,
        )
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
        _transition(
            placement,
            [Status.ACTIVE],
            status=Status.ENDED,
            ends_on=ends_on,
            exit_outcome=exit_outcome,
            exit_note=exit_note.strip(),
            attendance_percent=placement.attendance_percent,
            suspensions=placement.suspensions,
        )
        # Access ends the moment the placement is ended: recorded on its last day, the
        # grant's last day is yesterday (an empty span for a one-day placement).
        _grants(placement).filter(ends_on__isnull=True).update(
            ends_on=min(ends_on, timezone.localdate() - timedelta(days=1))
        )
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
        _transition(placement, [Status.REFERRED], status=Status.WITHDRAWN, exit_note=note.strip())
        _audit(request, placement, Action.UPDATE, "withdrawn")


# --- KPIs --------------------------------------------------------------------------------
#
# A provision's actuals for one school year (September to August) from the placements that
# ran in it: a placement counts in every school year it overlaps, so one running across
# 31 August counts in both (its pupil was placed in each, and its suspensions and attendance
# are the placement's to date). Rates and averages of ended placements take those that
# ended in the year. Figures leave `counting()`, never rows.


@dataclass(frozen=True)
class KpiRow:
    kpi: str
    label: str
    target: Decimal | None
    actual: Decimal | None  # None: nothing to measure yet, or not shown to this viewer
    shown: str  # the actual as the viewer may see it: a figure, "<5", NOT_SHOWN or NOTHING_YET
    basis: int | None  # how many pupils or placements the actual rests on; None when suppressed
    basis_shown: str  # the same in words, as exactly as the viewer may see it
    met: bool | None  # None: no target, nothing measured, or not shown
    lower_is_better: bool

    @property
    def met_label(self) -> str:
        """Met or not in words, so the page never says it with colour alone."""
        if self.target is None:
            return "No target set"
        if self.met is None:
            return "Not measured" if self.shown == NOTHING_YET else "Cannot be shown"
        return "Met" if self.met else "Not met"


NOT_SHOWN = "not shown"  # a rate or average resting on too few pupils to show outside the provision
NOTHING_YET = "–"
# What each actual rests on: (one, many).
KPI_BASIS: dict[str, tuple[str, str]] = {
    Kpi.PUPILS_PLACED: ("pupil placed", "pupils placed"),
    Kpi.SCHOOLS_SERVED: ("pupil placed", "pupils placed"),
    Kpi.REINTEGRATION_RATE: ("placement ended", "placements ended"),
    Kpi.AVERAGE_STAY_WEEKS: ("placement ended", "placements ended"),
    Kpi.ATTENDANCE_RATE: ("placement with attendance recorded", "placements with attendance recorded"),
    Kpi.SUSPENSIONS: ("pupil placed", "pupils placed"),
}
PERCENT_KPIS = frozenset({Kpi.REINTEGRATION_RATE, Kpi.ATTENDANCE_RATE})
COUNT_KPIS = frozenset({Kpi.PUPILS_PLACED, Kpi.SCHOOLS_SERVED, Kpi.SUSPENSIONS})
# Targets are stored with one decimal place in a DecimalField(max_digits=7).
LARGEST_TARGET = Decimal("99999.9")
FIRST_KPI_YEAR, LAST_KPI_YEAR = 2000, 2100


@dataclass(frozen=True)
class _Measure:
    value: Decimal | None
    basis: int
    # For the reintegration rate: how many of the ended placements returned home. A rate is
    # a count in disguise, so suppression checks this count and the rest too.
    part: int | None = None


def _year_bounds(year: int) -> tuple[date, date]:
    return date(year, 9, 1), date(year + 1, 8, 31)


def _one_place(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _placements_of_year(provision_ids: list[int], year: int) -> list[dict]:
    """The placements that ran in the school year, as values (one query, inside counting())."""
    first, last = _year_bounds(year)
    if not provision_ids:
        return []
    with counting():
        return list(
            ProvisionPlacement.objects.filter(
                provision_id__in=provision_ids, starts_on__isnull=False, starts_on__lte=last
            )
            .exclude(ends_on__lt=first)
            .order_by()
            .values(
                "provision_id",
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


def _measures(rows: list[dict], year: int) -> dict[str, _Measure]:
    first, last = _year_bounds(year)
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
        Kpi.PUPILS_PLACED: _Measure(Decimal(len(pupils)), len(pupils)),
        Kpi.SCHOOLS_SERVED: _Measure(Decimal(len(schools)), len(pupils)),
        Kpi.REINTEGRATION_RATE: _Measure(
            _one_place(Decimal(100 * returned) / len(ended)) if ended else None, len(ended), returned
        ),
        Kpi.AVERAGE_STAY_WEEKS: _Measure(_one_place(sum(stays) / len(stays)) if stays else None, len(stays)),
        Kpi.ATTENDANCE_RATE: _Measure(
            _one_place(sum(attendance) / len(attendance)) if attendance else None, len(attendance)
        ),
        Kpi.SUSPENSIONS: _Measure(Decimal(suspensions), len(pupils)),
    }


def kpi_actuals(provision: BehaviourProvision, year: int) -> dict[str, tuple[Decimal | None, int]]:
    """Each KPI's actual for the school year starting in September of `year`, with the number
    of pupils or placements it rests on. Runs inside counting(): figures, never rows, leave."""
    measures = _measures(_placements_of_year([provision.pk], year), year)
    return {kpi: (m.value, m.basis) for kpi, m in measures.items()}


def kpis_of_provisions(
    provisions: Sequence[BehaviourProvision],
    year: int,
    *,
    suppress: bool | Callable[[BehaviourProvision], bool],
) -> dict[int, list[KpiRow]]:
    """Targets against actuals for several provisions and one school year, in two queries
    whatever their number. `suppress` says, for all or per provision, whether the viewer
    is outside the provision (see `provision_kpis`)."""
    ids = [p.pk for p in provisions]
    by_provision: dict[int, list[dict]] = {pk: [] for pk in ids}
    for row in _placements_of_year(ids, year):
        by_provision[row["provision_id"]].append(row)
    targets: dict[tuple[int, str], Decimal] = {}
    if ids:
        for provision_id, kpi, target in KpiTarget.objects.filter(
            provision_id__in=ids, academic_year=year
        ).values_list("provision_id", "kpi", "target"):
            targets[(provision_id, kpi)] = target
    out = {}
    for provision in provisions:
        hide = suppress(provision) if callable(suppress) else suppress
        measures = _measures(by_provision[provision.pk], year)
        out[provision.pk] = [
            _kpi_row(kpi, measures[kpi], targets.get((provision.pk, kpi.value)), hide) for kpi in Kpi
        ]
    return out


def provision_kpis(provision: BehaviourProvision, year: int | None = None, *, suppress: bool) -> list[KpiRow]:
    """Targets against actuals for one provision and school year.

    `suppress` is on for viewers outside the provision (partnership lead, LA officer): a count
    from 1 to 4 shows as "<5"; a rate or average resting on fewer than five pupils or
    placements is not shown, nor a reintegration rate that would let a reader count 1 to 4
    pupils who did (or did not) return home; and how many pupils or placements a figure
    rests on is given only as "fewer than 5" or "5 or more", so it cannot turn a rate back
    into a count.
    """
    year = year if year is not None else academic_year_of(timezone.localdate())
    return kpis_of_provisions([provision], year, suppress=suppress)[provision.pk]


def _kpi_row(kpi: Kpi, measure: _Measure, target: Decimal | None, suppress: bool) -> KpiRow:
    lower = kpi in KPI_LOWER_IS_BETTER
    shown = _shown(kpi, measure, suppress)
    hidden = shown in (SMALL, NOT_SHOWN)
    actual = None if hidden else measure.value
    met = None
    if target is not None and actual is not None:
        met = actual <= target if lower else actual >= target
    return KpiRow(
        kpi=kpi.value,
        label=kpi.label,
        target=target,
        actual=actual,
        shown=shown,
        basis=None if suppress else measure.basis,
        basis_shown=_basis_shown(kpi, measure.basis, suppress),
        met=met,
        lower_is_better=lower,
    )


def _figure(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _shown(kpi: str, measure: _Measure, suppress: bool) -> str:
    actual, basis = measure.value, measure.basis
    if actual is None:
        return NOTHING_YET
    if not suppress:
        return _figure(actual)
    if kpi in (Kpi.PUPILS_PLACED, Kpi.SUSPENSIONS):
        return str(suppress_count(int(actual)))
    if kpi == Kpi.SCHOOLS_SERVED:
        # A count of schools, not of pupils; shown unless the pupils behind it are few.
        return NOT_SHOWN if is_small(basis) else _figure(actual)
    if basis < SMALLEST_SHOWN:
        return NOT_SHOWN
    if measure.part is not None and (is_small(measure.part) or is_small(basis - measure.part)):
        return NOT_SHOWN
    return _figure(actual)


def _basis_shown(kpi: str, basis: int, suppress: bool) -> str:
    one, many = KPI_BASIS[kpi]
    if not suppress:
        return f"{basis} {one if basis == 1 else many}"
    if basis == 0:
        return f"no {many}"
    if KPI_BASIS[kpi] == KPI_BASIS[Kpi.PUPILS_PLACED]:
        # The same count the table shows as "Pupils placed", suppressed the same way.
        return f"{suppress_count(basis)} {many}"
    return f"{'fewer than 5' if is_small(basis) else '5 or more'} {many}"


def check_kpi_target(kpi: str, target: Decimal | None) -> None:
    """Whether `target` is a target `kpi` can have (None clears it), else ValidationError."""
    if kpi not in Kpi.values:
        raise ValidationError({"kpi": "Choose one of the KPIs: " + ", ".join(Kpi.values) + "."})
    if target is None:
        return
    if not target.is_finite():
        raise ValidationError({"target": "Enter a number."})
    if target < 0:
        raise ValidationError({"target": "A target cannot be negative."})
    if kpi in PERCENT_KPIS and target > 100:
        raise ValidationError({"target": "A percentage is at most 100."})
    if target > LARGEST_TARGET:
        raise ValidationError({"target": f"A target is at most {LARGEST_TARGET:,}."})
    if kpi in COUNT_KPIS and target != target.to_integral_value():
        raise ValidationError({"target": "A count is a whole number."})
    if target != _one_place(target):
        raise ValidationError({"target": "Use at most one decimal place."})


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
    if not FIRST_KPI_YEAR <= year <= LAST_KPI_YEAR:
        raise ValidationError({"year": f"Choose a school year from {FIRST_KPI_YEAR} to {LAST_KPI_YEAR}."})
    check_kpi_target(kpi, target)
    existing = KpiTarget.objects.filter(provision=provision, academic_year=year, kpi=kpi).first()
    detail = {"provision": provision.pk, "year": year, "kpi": kpi}
    if target is None:
        if existing is not None:
            pk = existing.pk
            with transaction.atomic():
                existing.delete()
                audit(request, Action.DELETE, object_type="schools.kpitarget", object_id=pk, detail=detail)
        return None
    if existing is not None and existing.target == target:
        return existing  # nothing changes, nothing to log
    row = existing or KpiTarget(
        partnership_id=provision.partnership_id, provision=provision, academic_year=year, kpi=kpi
    )
    row.target = target
    row.updated_by = acting_user(request)
    with transaction.atomic():
        save_or_refuse(row, "Someone set this target at the same moment; reload and check.")
        audit(request, Action.UPDATE if existing else Action.CREATE, row, detail=detail)
    return row
