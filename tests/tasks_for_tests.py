"""Tasks used only by the tests of the scoped Celery base task."""

from django.db import connection

from provisionmap.celery import app
from pupils.models import Pupil
from schools.audit import Action, audit
from schools.tasks import ScopedTask


@app.task(base=ScopedTask, name="tests.visible_pupil_schools")
def visible_pupil_schools() -> list[int]:
    return sorted(set(Pupil.objects.values_list("school_id", flat=True)))


@app.task(base=ScopedTask, name="tests.audit_from_worker")
def audit_from_worker(school_id: int, marker: str) -> None:
    """Record what the worker's database session can see, with no ORM scoping at all."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, array_agg(DISTINCT school_id) FROM pupils_pupil")
        user, schools = cursor.fetchone()
    detail = {"db_user": user, "pupil_schools": sorted(schools or [])}
    audit(
        None, Action.EXPORT, object_type="test-worker", object_id=marker, school_id=school_id, detail=detail
    )
