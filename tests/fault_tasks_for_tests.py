"""A task for tests/test_faults.py that fails the way a bug would, quoting a pupil in its
exception, so the test can read the worker's log for what reached it."""

from django.db import OperationalError

from provisionmap.celery import app
from pupils.models import Pupil
from schools.tasks import ScopedTask


@app.task(bind=True, base=ScopedTask, name="tests.fail_quoting_pupil", max_retries=1)
def fail_quoting_pupil(self, pupil_id: int) -> None:
    pupil = Pupil.objects.get(pk=pupil_id)
    words = f"{pupil.upn} {pupil.first_name} {pupil.last_name}"
    if self.request.retries == 0:
        # First a retry, as a dropped database would cause: Celery logs its reason.
        raise self.retry(exc=OperationalError(f"lost the connection while reading {words}"), countdown=0)
    try:
        raise KeyError(words)
    except KeyError as error:
        raise ValueError(f"could not lay out the page for {words}") from error
