"""The audit helper every view that touches pupil data calls."""

from __future__ import annotations

from django.db import models
from django.http import HttpRequest

from schools.models import AuditEvent, Membership

Action = AuditEvent.Action


def audit(
    request: HttpRequest | None,
    action: str,
    obj: models.Model | None = None,
    *,
    object_type: str = "",
    object_id: str | int = "",
    school_id: int | None = None,
    detail: dict | None = None,
    user=None,
) -> AuditEvent:
    """Append one audit row: who, which membership, what, when.

    `detail` must hold identifiers and counts only, never a child's details.
    """
    event = _event(
        request,
        action,
        obj,
        object_type=object_type,
        object_id=object_id,
        school_id=school_id,
        detail=detail,
        user=user,
    )
    _insert([event])
    return event


def audit_each(
    request: HttpRequest | None, action: str, objs: list[models.Model], *, details: list[dict]
) -> list[AuditEvent]:
    """One row per object, the same rows audit() writes, in a few INSERTs (bulk imports)."""
    events = [_event(request, action, obj, detail=d) for obj, d in zip(objs, details, strict=True)]
    for start in range(0, len(events), 1000):  # well inside PostgreSQL's 65,535 parameters
        _insert(events[start : start + 1000])
    return events


def _event(
    request: HttpRequest | None,
    action: str,
    obj: models.Model | None = None,
    *,
    object_type: str = "",
    object_id: str | int = "",
    school_id: int | None = None,
    detail: dict | None = None,
    user=None,
) -> AuditEvent:
    membership: Membership | None = getattr(request, "membership", None) if request else None
    if user is None and request is not None and getattr(request, "user", None) is not None:
        user = request.user if request.user.is_authenticated else None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        if school_id is None:
            school_id = getattr(obj, "school_id", None)
    if school_id is None and membership is not None:
        school_id = membership.school_id
    la_id = membership.local_authority_id_of_scope() if membership is not None else None
    return AuditEvent(
        user=user,
        membership=membership,
        role=membership.role if membership else "",
        local_authority_id=la_id,
        school_id=school_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:40],
        path=(request.path[:300] if request is not None else ""),
        detail=detail or {},
    )


def _insert(events: list[AuditEvent]) -> None:
    if not events:
        return
    # A plain INSERT with no RETURNING: PostgreSQL checks RETURNING rows against the read
    # policy, and a denied attempt or a role without school rows must still be logged.
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    for event in events:
        for f in fields:
            f.pre_save(event, add=True)  # fills `at`
    AuditEvent._base_manager._insert(events, fields=fields, returning_fields=None)


def membership_audit(request: HttpRequest, membership: Membership, *, removed: bool) -> None:
    """A role given or taken away (by platform staff, whose own scope names no school)."""
    audit(
        request,
        Action.DELETE if removed else Action.UPDATE,
        object_type="schools.membership",
        object_id=membership.pk or "",
        detail={"user": membership.user_id, "role": membership.role, "school": membership.school_id},
    )
