"""Scheduled work on pupils' records: the nightly retention run (pupils/retention.py).

Operator work across tenants: beat starts it with no tenant, and it enters each school's
scope itself (`OperatorTask` refuses a `tenant` and a scope left over from anything else).
"""

from __future__ import annotations

import logging
from datetime import date

from celery.exceptions import SoftTimeLimitExceeded

from provisionmap.celery import app
from pupils import retention
from schools.tasks import OperatorTask

logger = logging.getLogger(__name__)


# A first run over years of leavers may take a while; each batch commits on its own, so a run
# stopped by the limit keeps what it did and the next night carries on. Both limits stay under
# the broker's visibility timeout (an hour), so the run is never handed to a second worker.
@app.task(base=OperatorTask, name="pupils.apply_retention", soft_time_limit=1500, time_limit=1800)
def apply_retention(today: str | None = None) -> dict[str, int]:
    """Remove the records past their LA's retention date; return the counts. `today` (ISO
    date) is for an operator re-running a missed night."""
    day = date.fromisoformat(today) if today else None
    try:
        return retention.apply_retention(day).totals()
    except SoftTimeLimitExceeded:
        logger.warning("retention stopped at its time limit; the next run carries on")
        return {"stopped": 1}
