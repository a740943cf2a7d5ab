"""Settings of the real Celery workers in tests/test_report_tasks.py: the test settings with
the report clocks shortened so that a lease runs out, a time limit strikes and a message
comes back from the broker within seconds rather than minutes.

The production relations hold between the short clocks (soft limit < hard limit < lease),
except one on purpose: the broker's visibility timeout is far shorter than a build, so every
slow build here is also delivered twice (SECURITY.md 26).
"""

from provisionmap.settings_test import *  # noqa: F403

REPORT_SOFT_TIME_LIMIT = 6
REPORT_TIME_LIMIT = 8
REPORT_LEASE_SECONDS = 9
REPORT_RETRY_SECONDS = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 1,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
