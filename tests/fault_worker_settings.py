"""Settings of the real Celery workers in tests/test_faults.py: the short report clocks of
tests/report_worker_settings.py, a little longer, and a broker of the test's own choosing.

The fault tests stop and restart a Redis of their own; only the broker lives there. The
cache and the stand-in builder's counters stay on the shared test Redis, so what the test
counts survives the broker losing everything.
"""

import os

from tests.report_worker_settings import *  # noqa: F403

CELERY_BROKER_URL = os.environ.get("PMTEST_BROKER_URL", REDIS_URL)  # noqa: F405
# A fresh pool process takes seconds over its first PDF on a busy machine; these builds
# must finish, not be stopped, so the limits leave room (still soft < hard < lease).
REPORT_SOFT_TIME_LIMIT = 10
REPORT_TIME_LIMIT = 12
REPORT_LEASE_SECONDS = 13
# As in production, the broker waits longer than any build before handing an unacknowledged
# message out again, so a second delivery here can only come from a worker giving it back.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60}
# A request queued a second without being claimed counts as lost, so the sweep (sent as
# beat would send it) re-queues at once what the restart dropped.
REPORT_STALE_QUEUED_SECONDS = 1
