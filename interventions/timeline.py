"""Interventions on a pupil's timeline: joining a group, leaving or finishing it, and the
exit result. One query for the pupil's whole history of groups."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from graduated_response.timeline import TimelineEvent
from interventions.models import Enrolment
from interventions.services import OUTCOME_RATINGS
from pupils.models import Pupil
from schools.formatting import plain_number

KIND = "intervention"


def _result(e: Enrolment) -> str:
    if e.outcome_rating is not None:
        return f"Outcome rated {dict(OUTCOME_RATINGS)[e.outcome_rating]}"
    entry = f" (entry {plain_number(e.entry_score)})" if e.entry_score is not None else ""
    return f"Exit score {plain_number(e.exit_score)}{entry}"


def enrolment_events(pupil: Pupil) -> list[TimelineEvent]:
    today = timezone.localdate()
    events = []
    for e in Enrolment.objects.filter(pupil=pupil).select_related("group__provision"):
        group = e.group
        url = reverse("interventions:group", kwargs={"pk": group.pk})
        events.append(
            TimelineEvent(
                day=e.starts_on,
                kind=KIND,
                title=f"Joined the group {group.name}",
                detail=f"{group.provision.name}: {group.session_minutes} minutes, "
                f"{plain_number(group.sessions_per_week)} a week, staff to pupils {group.ratio}",
                url=url,
                flag="Counts as a strategy tried" if e.strategy_tried_id else "",
                school_id=e.school_id,
            )
        )
        last_day = e.ends_on or group.ends_on
        if last_day <= today:
            early = e.ends_on is not None and e.ends_on < group.ends_on
            title = f"Left the group {group.name} early" if early else f"Finished the group {group.name}"
            events.append(TimelineEvent(day=last_day, kind=KIND, title=title, url=url, school_id=e.school_id))
        if e.exit_on and (e.exit_score is not None or e.outcome_rating is not None):
            events.append(
                TimelineEvent(
                    day=e.exit_on,
                    kind=KIND,
                    title=f"Result of {group.name}: {_result(e)}",
                    url=url,
                    school_id=e.school_id,
                )
            )
    return events
