"""Writes: a school's catalogue, groups and their staff, enrolments, sessions and attendance.

Every write checks what the database cannot (dates inside the group, staff of the school,
a pupil of the group's school), refuses with a message a SENCO can act on, and changes
nothing when it refuses. Changes that touch a pupil are audited against the pupil (ids and
field names only, never scores or notes).

An enrolment can count as a strategy tried at the pupil's current step: it is then recorded
through the graduated response's own service, and reviewed when the exit result comes in,
so interventions count towards the step's escalation rule like any other strategy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from graduated_response.placements import (
    current_placement,
    strategy_tried_record,
    strategy_tried_restart,
    strategy_tried_review,
    strategy_tried_withdraw,
)
from interventions.models import (
    Attendance,
    Enrolment,
    GroupStaff,
    InterventionGroup,
    LibraryProvision,
    Provision,
    Session,
)
from interventions.selectors import enrolments_current_on, school_staff
from pupils.models import Pupil
from pupils.services import acting_user, save_or_refuse
from schools.audit import Action, audit, audit_each
from schools.models import RECORD_KEEPERS, LocalAuthority, Role, School, TermDates
from schools.selectors import school_calendar
from schools.tenancy import require_scope
from schools.terms import Term, academic_year_label, academic_year_of

DELIVERY_FIELDS = ("staff_kind", "staff_count", "group_size", "session_minutes", "sessions_per_week")
PROVISION_FIELDS = (
    "name",
    "area_of_need",
    "step_number",
    "description",
    *DELIVERY_FIELDS,
    "typical_weeks",
    "measure",
    "measure_name",
    "higher_is_better",
)
PROVISION_EDITABLE = (*PROVISION_FIELDS, "is_active")
GROUP_EDITABLE = (
    "name",
    "schedule",
    "academic_year",
    "term",
    "starts_on",
    "ends_on",
    "weeks",
    *DELIVERY_FIELDS,
)
ENROLMENT_EDITABLE = (
    "starts_on",
    "ends_on",
    "entry_score",
    "entry_on",
    "exit_score",
    "exit_on",
    "outcome_rating",
    "note",
)
OUTCOME_RATINGS = [
    (-2, "−2 much worse"),
    (-1, "−1 worse"),
    (0, "0 no change"),
    (1, "+1 better"),
    (2, "+2 much better"),
]
NOTE_LIMIT = 500  # an attendance note: a line, not a report
COUNTS = "counts_as_strategy"  # the field name forms and the API use for the option


def _day(value: date) -> str:
    return f"{value:%d/%m/%Y}"


# --- the catalogue --------------------------------------------------------------------------


def _check_name_free(school_id: int, name: str, *, exclude_pk: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the provision a name."})
    taken = Provision.objects.filter(school_id=school_id, name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError(
            {
                "name": f"Your catalogue already has a provision called “{name}”: "
                "edit that one or choose another name."
            }
        )
    return name


def _save_provision(provision: Provision) -> Provision:
    provision.full_clean(validate_unique=False, validate_constraints=False)
    # Two people adding the same name at once: the second hears what the check above says.
    save_or_refuse(provision, {"name": "Your catalogue already has a provision with this name."})
    return provision


@transaction.atomic
def provision_create(*, request: HttpRequest | None, school: School, data: dict[str, Any]) -> Provision:
    """A provision of the school's own, written from scratch."""
    values = {k: v for k, v in data.items() if k in PROVISION_EDITABLE}
    values["name"] = _check_name_free(school.pk, values.get("name", ""))
    provision = _save_provision(Provision(school=school, **values))
    audit(request, Action.CREATE, provision, detail={"event": "provision added"})
    return provision


@transaction.atomic
def provision_add_from_library(
    *,
    request: HttpRequest | None,
    school: School,
    item: LibraryProvision,
    overrides: dict[str, Any] | None = None,
) -> Provision:
    """Copy a library entry into the school's catalogue (with any figures changed on the way)."""
    if item.local_authority_id != school.local_authority_id:
        raise ValidationError("That library entry belongs to another local authority.")
    values = {field: getattr(item, field) for field in PROVISION_FIELDS}
    values.update({k: v for k, v in (overrides or {}).items() if k in PROVISION_EDITABLE})
    values["name"] = _check_name_free(school.pk, values["name"])
    provision = _save_provision(Provision(school=school, library_item=item, **values))
    audit(request, Action.CREATE, provision, detail={"event": "provision added", "library_item": item.pk})
    return provision


@transaction.atomic
def provision_update(*, request: HttpRequest | None, provision: Provision, data: dict[str, Any]) -> list[str]:
    provision = Provision.objects.select_for_update().get(pk=provision.pk)
    changed = [k for k, v in data.items() if k in PROVISION_EDITABLE and getattr(provision, k) != v]
    if "name" in changed:
        data = {**data, "name": _check_name_free(provision.school_id, data["name"], exclude_pk=provision.pk)}
    for field in changed:
        setattr(provision, field, data[field])
    if changed:
        _save_provision(provision)
        audit(request, Action.UPDATE, provision, detail={"event": "provision changed", "fields": changed})
    return changed


# --- groups ---------------------------------------------------------------------------------


def term_span(la_id: int, academic_year: int, term: str = "") -> tuple[date, date] | None:
    """First and last day of a term (or of the whole school year) from the LA's term dates."""
    qs = TermDates.objects.filter(local_authority_id=la_id, academic_year=academic_year)
    if term:
        qs = qs.filter(term=term)
    rows = list(qs.values_list("starts_on", "ends_on"))
    if not rows:
        return None
    return min(r[0] for r in rows), max(r[1] for r in rows)


def school_weeks(la: LocalAuthority, starts_on: date, ends_on: date) -> Decimal:
    """Weeks of school from the first to the last day (holidays and half-terms left out on
    the LA's calendar), to a tenth, and never more than the LA's costing year."""
    days = school_calendar(la.pk).school_days_between(starts_on - timedelta(days=1), ends_on)
    if days == 0:
        raise ValidationError(
            {
                "ends_on": f"No school days fall between {_day(starts_on)} and {_day(ends_on)}: "
                "check the dates."
            }
        )
    weeks = (Decimal(days) / 5).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return max(Decimal("0.5"), min(weeks, la.costing_weeks))


def _period(school: School, data: dict[str, Any]) -> tuple[int, str, date, date]:
    """The academic year, term and dates of a group, filling in what was left out from the
    LA's term dates."""
    term = data.get("term") or ""
    if term and term not in Term.values:
        raise ValidationError({"term": "Choose autumn, spring, summer or the whole year."})
    starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
    year = data.get("academic_year")
    if year is None and starts_on:
        year = academic_year_of(starts_on)
    if year is None:
        raise ValidationError({"academic_year": "Choose the school year the group runs in."})
    if not 2000 <= year <= 2100:
        raise ValidationError({"academic_year": "Choose a school year between 2000 and 2100."})
    if not (starts_on and ends_on):
        span = term_span(school.local_authority_id, year, term)
        if span is None:
            which = f"the {term} term of " if term else ""
            raise ValidationError(
                {
                    "starts_on": f"Give the first and last dates: the local authority has no term dates "
                    f"for {which}{academic_year_label(year)}."
                }
            )
        starts_on, ends_on = starts_on or span[0], ends_on or span[1]
    if ends_on < starts_on:
        raise ValidationError({"ends_on": "The group cannot end before it starts."})
    if (ends_on - starts_on).days > 366:
        raise ValidationError(
            {"ends_on": "A group runs for a school year at most: make another for the next year."}
        )
    if academic_year_of(starts_on) != year:
        raise ValidationError(
            {
                "starts_on": f"The group starts on {_day(starts_on)}, in the "
                f"{academic_year_label(academic_year_of(starts_on))} school year, "
                f"not {academic_year_label(year)}."
            }
        )
    # A group of a term runs in that term (give or take a week): the map costs it there.
    span = term_span(school.local_authority_id, year, term) if term else None
    if span is not None:
        slack = timedelta(days=7)
        if starts_on < span[0] - slack or ends_on > span[1] + slack:
            raise ValidationError(
                {
                    "term": f"The {term} term of {academic_year_label(year)} runs from {_day(span[0])} "
                    f"to {_day(span[1])}: choose dates inside it, or another term, or the whole year."
                }
            )
    return year, term, starts_on, ends_on


def _check_weeks(la: LocalAuthority, weeks: Decimal, starts_on: date, ends_on: date) -> Decimal:
    """Weeks given by hand are costed: no more than the dates span, nor than a costing year."""
    spanned = Decimal(-(-((ends_on - starts_on).days + 1) // 7))
    most = min(spanned, la.costing_weeks)
    if Decimal(weeks) > most:
        raise ValidationError(
            {"weeks": f"From {_day(starts_on)} to {_day(ends_on)} the group can run {most} weeks at most."}
        )
    return weeks


def _check_staff(school_id: int, lead_id: int | None, staff_ids: Iterable[int]) -> set[int]:
    wanted = {int(pk) for pk in staff_ids} | ({int(lead_id)} if lead_id else set())
    allowed = set(school_staff(school_id).filter(pk__in=wanted).values_list("pk", flat=True))
    if wanted - allowed:
        raise ValidationError({"staff": "Choose staff who hold a role at the school."})
    return wanted


def _set_staff(group: InterventionGroup, user_ids: set[int]) -> None:
    have = set(GroupStaff.objects.filter(group=group).values_list("user_id", flat=True))
    GroupStaff.objects.filter(group=group).exclude(user_id__in=user_ids).delete()
    GroupStaff.objects.bulk_create(
        GroupStaff(school_id=group.school_id, group=group, user_id=pk) for pk in sorted(user_ids - have)
    )


def default_group_name(provision: Provision, academic_year: int, term: str) -> str:
    period = (
        f"{term.capitalize()} {academic_year_label(academic_year)}"
        if term
        else academic_year_label(academic_year)
    )
    return f"{provision.name} ({period})"[:200]


def _save_group(group: InterventionGroup) -> InterventionGroup:
    group.full_clean(exclude=["lead"])
    group.save()
    return group


@transaction.atomic
def group_create(
    *,
    request: HttpRequest | None,
    school: School,
    provision: Provision,
    data: dict[str, Any],
    lead_id: int | None = None,
    staff_ids: Iterable[int] = (),
) -> InterventionGroup:
    """A run of a provision. Delivery figures left out come from the provision; dates left out
    from the LA's term dates; weeks from the school weeks between the dates. The lead is one
    of the staff who run it."""
    if provision.school_id != school.pk:
        raise ValidationError("Choose a provision from your school's catalogue.")
    if not provision.is_active:
        raise ValidationError("This provision is not offered now: offer it again in the catalogue first.")
    year, term, starts_on, ends_on = _period(school, data)
    la = LocalAuthority.objects.get(pk=school.local_authority_id)
    delivery = {
        field: data[field] if data.get(field) not in (None, "") else getattr(provision, field)
        for field in DELIVERY_FIELDS
    }
    staff = _check_staff(school.pk, lead_id, staff_ids)
    group = InterventionGroup(
        school=school,
        provision=provision,
        name=(data.get("name") or "").strip() or default_group_name(provision, year, term),
        schedule=(data.get("schedule") or "").strip(),
        lead_id=lead_id,
        academic_year=year,
        term=term,
        starts_on=starts_on,
        ends_on=ends_on,
        weeks=_check_weeks(la, data["weeks"], starts_on, ends_on)
        if data.get("weeks")
        else school_weeks(la, starts_on, ends_on),
        **delivery,
    )
    _save_group(group)
    _set_staff(group, staff)
    audit(
        request,
        Action.CREATE,
        group,
        detail={"event": "group made", "provision": provision.pk, "staff": sorted(staff), "lead": lead_id},
    )
    return group


def _check_inside(group: InterventionGroup, starts_on: date, ends_on: date) -> None:
    """Enrolments and sessions already recorded must still fall inside the group's dates."""
    outside = Enrolment.objects.filter(group=group).filter(
        Q(starts_on__lt=starts_on) | Q(starts_on__gt=ends_on) | Q(ends_on__gt=ends_on)
    )
    if outside.exists():
        raise ValidationError(
            {"starts_on": "Some pupils' dates in the group fall outside the new dates: change theirs first."}
        )
    stray = Session.objects.filter(group=group).exclude(held_on__range=(starts_on, ends_on))
    if stray.exists():
        raise ValidationError(
            {"starts_on": "Sessions are recorded outside the new dates: the dates must cover them."}
        )


# Marks an argument left out, where None is a value (no lead).
UNCHANGED: Any = object()


@transaction.atomic
def group_update(
    *,
    request: HttpRequest | None,
    group: InterventionGroup,
    data: dict[str, Any],
    lead_id: int | None = UNCHANGED,
    staff_ids: Iterable[int] | None = None,
) -> list[str]:
    """Change a group: its figures, dates, lead and staff (the provision stays). Weeks are
    counted again when the dates change and no number of weeks is given."""
    group = InterventionGroup.objects.select_for_update().select_related("school").get(pk=group.pk)
    values = {k: v for k, v in data.items() if k in GROUP_EDITABLE}
    for field in DELIVERY_FIELDS:
        if values.get(field) in (None, ""):
            values.pop(field, None)
    period = {
        "academic_year": values.get("academic_year", group.academic_year),
        "term": values.get("term", group.term),
        # Left out: kept; given as None: the chosen term's (or year's) first or last day.
        "starts_on": values.get("starts_on", group.starts_on),
        "ends_on": values.get("ends_on", group.ends_on),
    }
    year, term, starts_on, ends_on = _period(group.school, period)
    values.update(academic_year=year, term=term, starts_on=starts_on, ends_on=ends_on)
    dates_changed = (starts_on, ends_on) != (group.starts_on, group.ends_on)
    if dates_changed:
        _check_inside(group, starts_on, ends_on)
    la = LocalAuthority.objects.get(pk=group.school.local_authority_id)
    if not values.get("weeks"):
        values.pop("weeks", None)
        if dates_changed or "weeks" in data:
            values["weeks"] = school_weeks(la, starts_on, ends_on)
    else:
        _check_weeks(la, values["weeks"], starts_on, ends_on)
    if "name" in values:
        values["name"] = (values["name"] or "").strip() or group.name
    changed = [k for k, v in values.items() if getattr(group, k) != v]
    for field in changed:
        setattr(group, field, values[field])
    if lead_id is not UNCHANGED and lead_id != group.lead_id:
        group.lead_id = lead_id
        changed.append("lead")
    if staff_ids is not None or "lead" in changed:
        current = set(GroupStaff.objects.filter(group=group).values_list("user_id", flat=True))
        staff = _check_staff(group.school_id, group.lead_id, current if staff_ids is None else staff_ids)
        if staff != current:
            _set_staff(group, staff)
            changed.append("staff")
    if changed:
        _save_group(group)
        audit(request, Action.UPDATE, group, detail={"event": "group changed", "fields": changed})
    return changed


# --- enrolments -----------------------------------------------------------------------------


def _check_enrolment_dates(group: InterventionGroup, starts_on: date, ends_on: date | None) -> None:
    if starts_on < group.starts_on:
        raise ValidationError(
            {"starts_on": f"The group starts on {_day(group.starts_on)}: a pupil cannot join before then."}
        )
    if starts_on > group.ends_on:
        raise ValidationError(
            {"starts_on": f"The group ends on {_day(group.ends_on)}: a pupil cannot join after."}
        )
    if ends_on is not None:
        if ends_on < starts_on:
            raise ValidationError({"ends_on": "A pupil cannot leave the group before joining it."})
        if ends_on > group.ends_on:
            raise ValidationError(
                {"ends_on": f"The group ends on {_day(group.ends_on)}: leave this empty to stay to the end."}
            )


def _check_assessment_dates(enrolment: Enrolment, today: date) -> None:
    if enrolment.entry_on and enrolment.entry_on > today:
        raise ValidationError({"entry_on": "The entry assessment cannot be dated in the future."})
    if enrolment.entry_on and enrolment.entry_score is None:
        raise ValidationError({"entry_score": "Give the entry score with its date, or leave both empty."})
    has_exit = enrolment.exit_score is not None or enrolment.outcome_rating is not None
    if enrolment.exit_on and not has_exit:
        raise ValidationError({"exit_score": "Give the exit score or an outcome rating with the exit date."})
    if enrolment.exit_on:
        if enrolment.exit_on > today:
            raise ValidationError({"exit_on": "The exit result cannot be dated in the future."})
        if enrolment.exit_on < enrolment.starts_on:
            raise ValidationError(
                {"exit_on": "The exit result cannot come before the pupil joined the group."}
            )
        if enrolment.entry_on and enrolment.exit_on < enrolment.entry_on:
            raise ValidationError({"exit_on": "The exit result cannot come before the entry assessment."})


def _exit_summary(enrolment: Enrolment) -> str:
    """How the intervention went, as the outcome of the strategy tried (figures only)."""
    if enrolment.outcome_rating is not None:
        label = dict(OUTCOME_RATINGS)[enrolment.outcome_rating]
        return f"Intervention finished; outcome rated {label}."
    entry = f" (entry {enrolment.entry_score:f})" if enrolment.entry_score is not None else ""
    return f"Intervention finished; exit score {enrolment.exit_score:f}{entry}."


def _has_exit(enrolment: Enrolment) -> bool:
    return enrolment.exit_on is not None and (
        enrolment.exit_score is not None or enrolment.outcome_rating is not None
    )


def _count_as_strategy(request: HttpRequest | None, enrolment: Enrolment, pupil: Pupil) -> None:
    placement = current_placement(pupil)
    if placement is None:
        raise ValidationError(
            {
                COUNTS: "The pupil has no current step on the graduated response, so this cannot count "
                "as a strategy tried there: place them on a step first, or leave the option off."
            }
        )
    if enrolment.starts_on > timezone.localdate():
        raise ValidationError(
            {
                COUNTS: f"The pupil starts on {_day(enrolment.starts_on)}: it can count as a strategy "
                "tried from that day, so turn the option on then."
            }
        )
    enrolment.strategy_tried = strategy_tried_record(
        request=request,
        pupil=pupil,
        step=placement.step,
        name=enrolment.group.provision.name,
        # It counts at this step only from the day the step began, not for time before it.
        started_on=max(enrolment.starts_on, placement.placed_on),
    )
    enrolment.save(update_fields=["strategy_tried"])


def _review_strategy(request: HttpRequest | None, enrolment: Enrolment) -> None:
    """Once the exit result is in, the strategy tried is reviewed, so it counts."""
    tried = enrolment.strategy_tried
    if tried is None or tried.reviewed_on is not None or not _has_exit(enrolment):
        return
    strategy_tried_review(
        request=request, tried=tried, reviewed_on=enrolment.exit_on, outcome=_exit_summary(enrolment)
    )


def _audit_enrolment(
    request: HttpRequest | None, enrolment: Enrolment, pupil: Pupil, event: str, **extra
) -> None:
    audit(
        request,
        Action.CREATE if event == "enrolled" else Action.UPDATE,
        pupil,
        detail={
            "fields": ["enrolment"],
            "event": event,
            "enrolment": enrolment.pk,
            "group": enrolment.group_id,
            "strategy_tried": enrolment.strategy_tried_id,
            **extra,
        },
    )


@transaction.atomic
def enrolment_create(
    *,
    request: HttpRequest | None,
    group: InterventionGroup,
    pupil: Pupil,
    starts_on: date | None = None,
    ends_on: date | None = None,
    entry_score: Decimal | None = None,
    entry_on: date | None = None,
    note: str = "",
    counts_as_strategy: bool = False,
) -> Enrolment:
    """Put a pupil of the group's school in the group, from its start unless told otherwise."""
    if pupil.school_id != group.school_id:
        raise ValidationError({"pupil": "Choose a pupil of the group's school."})
    if not pupil.is_active:
        raise ValidationError({"pupil": "This pupil has left the school."})
    today = timezone.localdate()
    starts_on = starts_on or group.starts_on
    _check_enrolment_dates(group, starts_on, ends_on)
    if Enrolment.objects.filter(group=group, pupil=pupil).exists():
        raise ValidationError({"pupil": "This pupil is already in the group."})
    if entry_score is not None and entry_on is None:
        entry_on = min(starts_on, today)
    enrolment = Enrolment(
        school_id=group.school_id,
        group=group,
        pupil=pupil,
        starts_on=starts_on,
        ends_on=ends_on,
        entry_score=entry_score,
        entry_on=entry_on,
        note=(note or "").strip(),
    )
    _check_assessment_dates(enrolment, today)
    enrolment.full_clean(exclude=["strategy_tried"], validate_unique=False, validate_constraints=False)
    save_or_refuse(enrolment, {"pupil": "This pupil is already in the group."})
    if counts_as_strategy:
        _count_as_strategy(request, enrolment, pupil)
    _audit_enrolment(request, enrolment, pupil, "enrolled")
    return enrolment


@transaction.atomic
def enrolment_update(
    *,
    request: HttpRequest | None,
    enrolment: Enrolment,
    data: dict[str, Any],
    counts_as_strategy: bool | None = None,
) -> list[str]:
    """Change a pupil's place in a group: dates, entry and exit results, note, and whether it
    counts as a strategy tried. Recording the exit result reviews that strategy."""
    # Before the lock: row security hides a row this school may not change from FOR UPDATE.
    enrolment.check_writable()
    enrolment = (
        Enrolment.objects.select_for_update(of=("self",))
        .select_related("group__provision", "pupil", "strategy_tried")
        .get(pk=enrolment.pk)
    )
    group, pupil, today = enrolment.group, enrolment.pupil, timezone.localdate()
    values = {k: v for k, v in data.items() if k in ENROLMENT_EDITABLE}
    if "note" in values:
        values["note"] = (values["note"] or "").strip()
    if "starts_on" in values and values["starts_on"] is None:
        values["starts_on"] = group.starts_on
    changed = [k for k, v in values.items() if getattr(enrolment, k) != v]
    for field in changed:
        setattr(enrolment, field, values[field])
    if enrolment.entry_score is not None and enrolment.entry_on is None:
        enrolment.entry_on = min(enrolment.starts_on, today)
        changed.append("entry_on")
    if enrolment.exit_on is None and (
        enrolment.exit_score is not None or enrolment.outcome_rating is not None
    ):
        enrolment.exit_on = today
        changed.append("exit_on")
    if enrolment.outcome_rating is not None and enrolment.outcome_rating not in dict(OUTCOME_RATINGS):
        raise ValidationError(
            {"outcome_rating": "Rate the outcome from −2 (much worse) to +2 (much better)."}
        )
    _check_enrolment_dates(group, enrolment.starts_on, enrolment.ends_on)
    if {"starts_on", "ends_on"} & set(changed):
        last_day = enrolment.ends_on or group.ends_on
        stray = Attendance.objects.filter(enrolment=enrolment).exclude(
            session__held_on__range=(enrolment.starts_on, last_day)
        )
        if stray.exists():
            raise ValidationError(
                {
                    "ends_on": "Attendance is recorded for this pupil outside those dates: "
                    "the dates must cover it."
                }
            )
    _check_assessment_dates(enrolment, today)
    enrolment.full_clean(exclude=["strategy_tried"], validate_unique=False, validate_constraints=False)
    tried = enrolment.strategy_tried
    if "starts_on" in changed and tried is not None and tried.reviewed_on is None:
        # The strategy was tried from the day the pupil joined.
        if enrolment.starts_on > today:
            raise ValidationError(
                {"starts_on": "A place that counts as a strategy tried cannot move into the future."}
            )
        tried = strategy_tried_restart(request=request, tried=tried, started_on=enrolment.starts_on)
    if changed:
        enrolment.save(update_fields=list(dict.fromkeys(changed)))
    if counts_as_strategy and tried is None:
        _count_as_strategy(request, enrolment, pupil)
        changed.append(COUNTS)
    elif counts_as_strategy is False and tried is not None:
        if tried.reviewed_on is not None:
            raise ValidationError(
                {
                    COUNTS: "It was reviewed as a strategy tried and counts towards the step's rule: "
                    "it stays counted."
                }
            )
        enrolment.strategy_tried = None
        enrolment.save(update_fields=["strategy_tried"])
        strategy_tried_withdraw(request=request, tried=tried)
        changed.append(COUNTS)
    _review_strategy(request, enrolment)
    if changed:
        _audit_enrolment(request, enrolment, pupil, "enrolment changed", changed=changed)
    return changed


def enrolment_withdraw(
    *, request: HttpRequest | None, enrolment: Enrolment, ends_on: date | None = None
) -> Enrolment:
    """The pupil leaves the group (today unless another day is given); their record stays."""
    enrolment_update(request=request, enrolment=enrolment, data={"ends_on": ends_on or timezone.localdate()})
    return Enrolment.objects.get(pk=enrolment.pk)


# --- sessions and attendance ----------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """One pupil's attendance at a session."""

    present: bool
    note: str = ""


def can_record(group: InterventionGroup) -> bool:
    """SENCOs and headteachers record any group of the school; practitioners their own."""
    scope = require_scope()
    # "system" is code acting for the school (seeding, imports, tests), not a person.
    if scope.role in RECORD_KEEPERS or scope.role == "system":
        return True
    if scope.role == Role.PRACTITIONER:
        return GroupStaff.objects.filter(group=group, user_id=scope.user_id).exists()
    return False


def session_record(
    *,
    request: HttpRequest | None,
    group: InterventionGroup,
    held_on: date,
    notes: str = "",
    marks: dict[int, Mark],
    keep_unmarked: bool = False,
) -> tuple[Session, bool]:
    """Record who came to the group's session on `held_on`: (session, made now).

    `marks` are by enrolment id. Every pupil in the group that day gets an attendance row:
    those left out are absent, or with `keep_unmarked` keep what was recorded before. Recording
    a day again changes that day's session (one a day per group)."""
    # Checked before the transaction opens, so the audit row of a refusal is kept.
    if not can_record(group):
        audit(request, Action.DENIED, group, detail={"reason": "not their group", "group": group.pk})
        raise PermissionDenied(
            "Only the staff who run this group, a SENCO or a headteacher can record its sessions."
        )
    return _session_save(
        request=request, group=group, held_on=held_on, notes=notes, marks=marks, keep_unmarked=keep_unmarked
    )


@transaction.atomic
def _session_save(
    *,
    request: HttpRequest | None,
    group: InterventionGroup,
    held_on: date,
    notes: str,
    marks: dict[int, Mark],
    keep_unmarked: bool,
) -> tuple[Session, bool]:
    if held_on > timezone.localdate():
        raise ValidationError({"held_on": "A session is recorded on the day it is held, or later."})
    if not group.starts_on <= held_on <= group.ends_on:
        raise ValidationError(
            {
                "held_on": f"The group runs from {_day(group.starts_on)} to {_day(group.ends_on)}: "
                "choose a day in between."
            }
        )
    current = {e.pk: e for e in enrolments_current_on(group, held_on)}
    if not current:
        raise ValidationError({"held_on": "No pupil is in the group on that day."})
    if set(marks) - set(current):
        raise ValidationError({"attendance": "Some of the pupils named are not in this group on that day."})
    for mark in marks.values():
        if len(mark.note) > NOTE_LIMIT:
            raise ValidationError({"attendance": f"Keep each pupil's note to {NOTE_LIMIT} characters."})
    session = Session.objects.select_for_update().filter(group=group, held_on=held_on).first()
    made = session is None
    if made:
        session = Session(
            school_id=group.school_id,
            group=group,
            held_on=held_on,
            notes=(notes or "").strip(),
            recorded_by=acting_user(request),
        )
        session.full_clean(exclude=["recorded_by"], validate_unique=False, validate_constraints=False)
        save_or_refuse(
            session, {"held_on": "A session on this day was just recorded by someone else: reload it."}
        )
    elif session.notes != (notes or "").strip():
        session.notes = (notes or "").strip()
        session.save(update_fields=["notes"])
    existing = {a.enrolment_id: a for a in Attendance.objects.filter(session=session)}
    new, changed = [], []
    for pk in current:
        row = existing.get(pk)
        mark = marks.get(pk)
        if mark is None:
            if keep_unmarked and row is not None:
                continue
            mark = Mark(present=False)
        if row is None:
            new.append(
                Attendance(
                    school_id=group.school_id,
                    session=session,
                    enrolment_id=pk,
                    present=mark.present,
                    note=mark.note,
                )
            )
        elif (row.present, row.note) != (mark.present, mark.note):
            row.present, row.note = mark.present, mark.note
            changed.append(row)
    Attendance.objects.bulk_create(new)
    Attendance.objects.bulk_update(changed, ["present", "note"])
    touched = [current[a.enrolment_id] for a in new + changed]
    audit_each(
        request,
        Action.UPDATE,
        [e.pupil for e in touched],
        details=[
            {"fields": ["attendance"], "session": session.pk, "group": group.pk, "enrolment": e.pk}
            for e in touched
        ],
    )
    return session, made
