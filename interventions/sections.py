"""The interventions part of a pupil's page: the groups the pupil is in or has been in, with
dates, attendance and results (never costs: the page is read by every pupil-level role).
One query, registered with pupils.sections."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from interventions.costing import plain
from interventions.models import Enrolment
from interventions.selectors import attendance_rate, with_attendance
from pupils.models import Pupil


def pupil_page(request: HttpRequest, pupil: Pupil, can_write: bool) -> dict[str, Any]:
    enrolments = list(
        with_attendance(Enrolment.objects.filter(pupil=pupil))
        .select_related("group__provision")
        .order_by("-starts_on", "-id")
    )
    for e in enrolments:
        e.attendance_pct = attendance_rate(e.sessions_attended, e.sessions_recorded)
        e.entry_score_label = plain(e.entry_score) if e.entry_score is not None else ""
        e.exit_score_label = plain(e.exit_score) if e.exit_score is not None else ""
    return {"enrolments": enrolments}
