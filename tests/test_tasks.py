"""The Celery base task re-enters its tenant scope and never inherits one (SECURITY.md 10–11)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from schools.models import AuditEvent
from schools.scopes import scope_for_membership
from schools.tasks import MissingTenantScopeError, enqueue, tenant_payload
from schools.tenancy import TenantScope, current_scope, tenant_scope
from tests.tasks_for_tests import audit_from_worker, visible_pupil_schools

ROOT = Path(__file__).resolve().parent.parent


def test_task_sees_only_its_own_tenant(tenant, other):
    payload = tenant_payload(scope_for_membership(tenant.memberships["senco"]))
    assert visible_pupil_schools.apply(kwargs={"tenant": payload}).get() == [tenant.school.pk]


def test_task_after_another_tenants_task_without_scope_fails(tenant, other):
    first = tenant_payload(scope_for_membership(other.memberships["senco"]))
    assert visible_pupil_schools.apply(kwargs={"tenant": first}).get() == [other.school.pk]
    result = visible_pupil_schools.apply()
    assert result.failed()
    assert isinstance(result.result, MissingTenantScopeError)
    assert current_scope() is None


def test_system_scope_names_its_schools(tenant, other):
    payload = tenant_payload(TenantScope.system(schools=[tenant.sibling.pk]))
    assert visible_pupil_schools.apply(kwargs={"tenant": payload}).get() == [tenant.sibling.pk]


def test_task_leaves_nothing_set(tenant):
    payload = tenant_payload(scope_for_membership(tenant.memberships["senco"]))
    visible_pupil_schools.apply(kwargs={"tenant": payload}).get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('pm.read_school', true), current_user")
        setting, user = cursor.fetchone()
    assert setting in (None, "")
    assert user != settings.DATABASE_APP_ROLE


@pytest.fixture
def worker():
    """A real Celery worker process on the test database and the test Redis."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "provisionmap.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "provisionmap",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=WARNING",
            "--include=tests.tasks_for_tests",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    yield proc
    proc.terminate()
    proc.wait(timeout=20)


@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_the_task_in_the_callers_scope(worker):
    from tests.conftest import build_tenant

    tenant = build_tenant("909", "Worker")
    scope = scope_for_membership(tenant.memberships["senco"])
    with transaction.atomic():
        enqueue(audit_from_worker, scope, tenant.school.pk, "w-1")
    deadline = time.monotonic() + 60
    found = []
    while time.monotonic() < deadline and not found:
        with transaction.atomic(), tenant_scope(TenantScope.for_school(tenant.school.pk)):
            found = list(AuditEvent.objects.filter(object_type="test-worker", object_id="w-1"))
        time.sleep(0.2)
    if not found:
        worker.terminate()
        pytest.fail("worker did not run the task:\n" + worker.communicate(timeout=20)[0].decode()[-3000:])
    assert len(found) == 1
    # The worker ran as the app role, and row-level security showed it one school's pupils.
    assert found[0].detail == {"db_user": settings.DATABASE_APP_ROLE, "pupil_schools": [tenant.school.pk]}


def test_every_project_task_re_enters_a_tenant_scope():
    from provisionmap.celery import app
    from schools.tasks import OperatorTask, ScopedTask

    app.loader.import_default_modules()
    ours = {
        name: task
        for name, task in app.tasks.items()
        if task.__module__.split(".")[0]
        in {"schools", "pupils", "graduated_response", "interventions", "reports", "tests"}
    }
    assert "tests.visible_pupil_schools" in ours
    # Operator work (the report sweep and schedule, the retention run) takes no tenant and
    # enters scopes of its own (one per LA, or per school).
    operator = {name for name, task in ours.items() if isinstance(task, OperatorTask)}
    assert operator <= {"reports.sweep_reports", "reports.schedule_reports", "pupils.apply_retention"}
    assert [name for name, task in ours.items() if not isinstance(task, ScopedTask | OperatorTask)] == []
