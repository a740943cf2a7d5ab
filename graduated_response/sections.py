"""The graduated response's part of a pupil's page: step, history, strategies tried, support
plans and recent observations. Registered with pupils.sections; a fixed number of queries."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from graduated_response import selectors
from graduated_response.observations import observations_recent_count
from pupils.models import Pupil
from schools.models import Role


def pupil_page(request: HttpRequest, pupil: Pupil, can_write: bool) -> dict[str, Any]:
    step_history = list(selectors.step_history(pupil))
    membership = getattr(request, "membership", None)
    today = timezone.localdate()
    plans = list(selectors.plans_for_pupil(pupil))
    for plan in plans:
        plan.overdue = plan.is_overdue(today)
    return {
        "step_history": step_history,
        "current_step": next((p for p in step_history if p.status == "active"), None),
        "strategies_tried": list(selectors.strategies_tried(pupil)),
        # Approving is a change: never on a page shown read-only (a pupil sent on).
        "can_approve": can_write and membership is not None and membership.role == Role.HEADTEACHER,
        "support_plans": plans,
        "observations_recent": observations_recent_count(pupil, weeks=4),
    }
