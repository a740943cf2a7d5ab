"""Tasks used only by the tests of the scoped Celery base task."""

from provisionmap.celery import app
from pupils.models import Pupil
from schools.audit import Action, audit
from schools.tasks import ScopedTask


@app.task(base=ScopedTask, name="tests.visible_pupil_schools")
def visible_pupil_schools() -> list[int]:
    return sorted(set(Pupil.objects.values_list("school_id", flat=True)))


@app.task(base=ScopedTask, name="tests.audit_from_worker")
def audit_from_worker(school_id: int, marker: str) -> None:
    audit(None, Action.EXPORT, object_type="test-worker", object_id=marker, school_id=school_id)
