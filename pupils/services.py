"""Writes to pupil records. Each change appends to the SEN register when status or need
moves, and writes one audit row naming the fields that changed (never their values)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from pupils.models import AssessmentScore, OnePageProfile, OutcomeRecord, Pupil, SenStatusChange
from schools.audit import Action, audit
from schools.models import School, User

SEN_FIELDS = ("sen_status", "primary_need", "secondary_need")
PROFILE_FIELDS = ("strengths", "what_helps", "what_does_not_help", "pupil_voice", "parent_voice")


def acting_user(request: HttpRequest | None) -> User | None:
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def save_or_refuse(instance: models.Model, message: str | dict) -> None:
    """Save in a savepoint; a unique rule broken by a save at the same moment becomes
    `message` for the user rather than a server error."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise ValidationError(message) from None


def sen_entry(pupil: Pupil, *, start: date, user: User | None, source: str) -> SenStatusChange:
    """The register entry for the pupil's current SEN status and need (unsaved)."""
    return SenStatusChange(
        school_id=pupil.school_id,
        pupil=pupil,
        status=pupil.sen_status,
        primary_need=pupil.primary_need,
        secondary_need=pupil.secondary_need,
        start_date=start,
        recorded_by=user,
        source=source,
    )


@transaction.atomic
def pupil_create(
    *,
    request: HttpRequest | None,
    school: School,
    data: dict[str, Any],
    source: str = "manual",
    sen_start: date | None = None,
) -> Pupil:
    """Create a pupil in `school` (the caller's scope decides which; never the input).

    `sen_start` dates the first register entry (when the current SEN status began).
    """
    pupil = Pupil(school=school, **data)
    pupil.full_clean()
    # Two saves of one UPN at the same moment: the loser hears what full_clean would say.
    save_or_refuse(pupil, {"upn": "A pupil with this UPN is already on your school's record."})
    sen_entry(pupil, start=sen_start or timezone.localdate(), user=acting_user(request), source=source).save()
    audit(request, Action.CREATE, pupil, detail={"source": source})
    return pupil


def changed_fields(pupil: Pupil, data: dict[str, Any]) -> list[str]:
    return [name for name, value in data.items() if getattr(pupil, name) != value]


@transaction.atomic
def pupil_update(
    *,
    request: HttpRequest | None,
    pupil: Pupil,
    data: dict[str, Any],
    sen_change_date: date | None = None,
    source: str = "manual",
) -> list[str]:
    """Apply `data`; returns the names of the fields that changed."""
    changed = changed_fields(pupil, data)
    if not changed:
        return []
    sen_changed = bool(set(changed) & set(SEN_FIELDS))
    start = sen_change_date or timezone.localdate()
    if sen_changed:
        latest = pupil.sen_history.order_by("-start_date", "-id").first()
        if latest is not None and start < latest.start_date:
            # The register's current entry is its latest by date; an earlier one would
            # leave the record and the register disagreeing.
            raise ValidationError(
                {
                    "sen_change_date": f"The change cannot take effect before {latest.start_date:%d/%m/%Y}, "
                    "when the register's latest entry starts."
                }
            )
    for name in changed:
        setattr(pupil, name, data[name])
    pupil.full_clean()
    save_or_refuse(pupil, {"upn": "Another pupil in your school has this UPN."})
    if sen_changed:
        sen_entry(pupil, start=start, user=acting_user(request), source=source).save()
    audit(request, Action.UPDATE, pupil, detail={"fields": changed, "source": source})
    return changed


@transaction.atomic
def profile_update(*, request: HttpRequest | None, pupil: Pupil, data: dict[str, str]) -> OnePageProfile:
    profile, _ = OnePageProfile.objects.get_or_create(pupil=pupil, defaults={"school_id": pupil.school_id})
    changed = [name for name in PROFILE_FIELDS if name in data and getattr(profile, name) != data[name]]
    for name in changed:
        setattr(profile, name, data[name])
    if changed:
        profile.updated_by = acting_user(request)
        profile.save()
        audit(request, Action.UPDATE, pupil, detail={"fields": [f"profile.{n}" for n in changed]})
    return profile


@transaction.atomic
def outcome_record(*, request: HttpRequest | None, pupil: Pupil, data: dict[str, Any]) -> OutcomeRecord:
    """Record (or correct) one term's outcomes for a pupil."""
    key = {"academic_year": data["academic_year"], "term": data["term"]}
    values = {k: v for k, v in data.items() if k not in key}
    record = OutcomeRecord.objects.filter(pupil=pupil, **key).first()
    if record is None:
        record = OutcomeRecord(pupil=pupil, school_id=pupil.school_id, **key)
    for name, value in values.items():
        setattr(record, name, value)
    record.full_clean(validate_unique=False)
    # The same term recorded twice at once: the other save won.
    save_or_refuse(record, {"term": "This term's outcomes were just recorded by someone else; check them."})
    audit(
        request,
        Action.UPDATE,
        pupil,
        detail={"fields": ["outcomes"], "term": f"{key['term']} {key['academic_year']}"},
    )
    return record


@transaction.atomic
def score_record(*, request: HttpRequest | None, pupil: Pupil, data: dict[str, Any]) -> AssessmentScore:
    score = AssessmentScore(pupil=pupil, school_id=pupil.school_id, **data)
    score.full_clean()
    score.save()
    audit(request, Action.UPDATE, pupil, detail={"fields": ["scores"], "measure": score.measure})
    return score
