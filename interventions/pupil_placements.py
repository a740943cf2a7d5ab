"""Placements in behaviour provisions on a pupil's page and timeline.

Both read the placements of a pupil the viewer may already read (the pupil's page and
timeline open only through the register's selector), in one query each, and are registered
from InterventionsConfig.ready() like the other sections and timeline sources.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from graduated_response.timeline import TimelineEvent
from interventions.models import ProvisionPlacement
from interventions.placements import CURRENT, may_refer
from interventions.selectors_placements import PLACEMENT_ROLES, weeks_and_days
from pupils.models import Pupil
from schools.tenancy import require_scope

KIND = "placement"
Status = ProvisionPlacement.Status


def _of(pupil: Pupil) -> list[ProvisionPlacement]:
    return list(
        ProvisionPlacement.objects.filter(pupil=pupil)
        .select_related("provision")
        .order_by("-referred_on", "-id")
    )


def _links() -> bool:
    """Whether the viewer's role opens placement pages (a practitioner's does not)."""
    return require_scope().role in PLACEMENT_ROLES


def pupil_page(request: HttpRequest, pupil: Pupil, can_write: bool) -> dict[str, Any]:
    placements = _of(pupil)
    for p in placements:
        p.stay = weeks_and_days(p.length_of_stay_days)
    current = next((p for p in placements if p.status in CURRENT), None)
    return {
        "provision_placements": placements,
        "current_provision_placement": current,
        "placement_links": _links(),
        "can_refer": can_write and pupil.is_active and current is None and may_refer(request, pupil),
    }


def _title_details(p: ProvisionPlacement) -> str:
    days = f"{p.days_per_week:f}".rstrip("0").rstrip(".")
    return f"{p.get_pattern_display()}, {days} day{'s' if days != '1' else ''} a week"


def placement_events(pupil: Pupil) -> list[TimelineEvent]:
    links = _links()
    events = []
    for p in _of(pupil):
        url = reverse("placements:detail", kwargs={"pk": p.pk}) if links else ""
        # Whose row it is: the timeline links it only for the home school and the provision.
        own = {"school_id": p.school_id, "provision_id": p.provision_id}
        name = p.provision.name
        flags = [
            f
            for f, on in (("Outside key stage", p.outside_key_stage), ("EHC exception", p.ehc_exception))
            if on
        ]
        events.append(
            TimelineEvent(
                day=p.referred_on,
                kind=KIND,
                title=f"Referred to the behaviour provision {name}",
                detail=_title_details(p),
                url=url,
                flag=", ".join(flags),
                at=p.created_at,
                **own,
            )
        )
        if p.starts_on:
            events.append(
                TimelineEvent(
                    day=p.starts_on, kind=KIND, title=f"Placement at {name} started", url=url, **own
                )
            )
        if p.status == Status.ENDED and p.ends_on:
            events.append(
                TimelineEvent(
                    day=p.ends_on,
                    kind=KIND,
                    title=f"Placement at {name} ended: {p.get_exit_outcome_display().lower()}",
                    detail=weeks_and_days(p.length_of_stay_days),
                    url=url,
                    **own,
                )
            )
        if p.status == Status.WITHDRAWN:
            # No date of its own is kept for a withdrawal: the row's last change is it.
            events.append(
                TimelineEvent(
                    day=timezone.localdate(p.updated_at),
                    kind=KIND,
                    title=f"Referral to {name} withdrawn",
                    url=url,
                    at=p.updated_at,
                    **own,
                )
            )
    return events
