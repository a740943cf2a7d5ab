"""A probe view for the RLS tests: raw SQL with no ORM scoping at all, behind the real middleware."""

from django.db import connection
from django.http import JsonResponse
from django.urls import include, path


def raw_probe(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_setting('pm.read_school', true)")
        user, setting = cursor.fetchone()
        cursor.execute("SELECT school_id FROM pupils_pupil ORDER BY school_id")
        schools = sorted({row[0] for row in cursor.fetchall()})
    return JsonResponse({"user": user, "setting": setting, "pupil_school_ids": schools})


def write_then_fail(request):
    from schools.audit import Action, audit

    audit(request, Action.UPDATE, object_type="probe", object_id="half-done")
    raise RuntimeError("the view fails after writing")


urlpatterns = [
    path("raw-probe/", raw_probe),
    path("write-then-fail/", write_then_fail),
    path("", include("provisionmap.urls")),
]
