"""Row-level security, the second wall (SECURITY.md 8–11)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.utils import ProgrammingError

from pupils.models import Pupil
from schools.tenancy import (
    ScopeOutsideTransactionError,
    TenantScope,
    UnscopedQueryError,
    app_role,
    tenant_models,
    tenant_scope,
)
from tests.conftest import sign_in

APP_ROLE = settings.DATABASE_APP_ROLE


def fetch(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


@pytest.mark.django_db
def test_app_role_is_no_superuser_cannot_bypass_rls_and_owns_nothing():
    [(superuser, bypass, can_login)] = fetch(
        "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = %s", [APP_ROLE]
    )
    assert (superuser, bypass, can_login) == (False, False, False)
    owned = fetch(
        "SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = %s",
        [APP_ROLE],
    )
    assert owned == []
    assert fetch(
        "SELECT count(*) FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner WHERE r.rolname = %s",
        [APP_ROLE],
    ) == [(0,)]


@pytest.mark.django_db
def test_every_tenant_table_has_row_security_enabled_and_forced():
    tables = sorted(m._meta.db_table for m in tenant_models())
    assert "pupils_pupil" in tables and "schools_auditevent" in tables
    rows = dict(
        (name, (enabled, forced))
        for name, enabled, forced in fetch(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY(%s)",
            [tables],
        )
    )
    assert rows == {t: (True, True) for t in tables}


# Tables that carry a school id but hold organisation data, not a school's own records.
NOT_SCHOOL_DATA = {
    "schools_membership": "who holds which role: read to sign people in, before any scope exists",
    "schools_staffrole": "the LA's and schools' hourly rates: reference data, not pupil data",
    "schools_pupilgrant": "ids and dates of cross-school access, read to build a scope before one "
    "exists; its own policies let only the records' school or the provision add or end one",
}


@pytest.mark.django_db
def test_every_table_with_a_school_or_pupil_column_is_a_tenant_table():
    """A new model holding school or pupil data that forgets to opt in to RLS fails here."""
    with_school = {
        t
        for (t,) in fetch(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND column_name IN ('school_id', 'pupil_id')"
        )
    }
    tenant_tables = {m._meta.db_table for m in tenant_models()}
    assert with_school - tenant_tables - set(NOT_SCHOOL_DATA) == set()


@pytest.mark.urls("tests.rls_urls")
def test_raw_query_inside_a_request_for_school_a_returns_no_row_of_school_b(client, tenant, other):
    sign_in(client, tenant.users["senco"])
    data = client.get("/raw-probe/").json()
    assert data["user"] == APP_ROLE
    assert data["setting"] == f"{{{tenant.school.pk}}}"
    # Pupils exist in the sibling school and in another LA; the raw query sees only its own.
    assert data["pupil_school_ids"] == [tenant.school.pk]


@pytest.mark.urls("tests.rls_urls")
def test_after_the_request_nothing_remains_set(client, tenant):
    sign_in(client, tenant.users["senco"])
    client.get("/raw-probe/")
    [(user, setting, role_setting)] = fetch(
        "SELECT current_user, current_setting('pm.read_school', true), current_setting('role')"
    )
    assert user != APP_ROLE
    assert setting in (None, "")
    assert role_setting == "none"


@pytest.mark.urls("tests.rls_urls")
def test_signed_out_request_sees_no_tenant_row(client, tenant):
    data = client.get("/raw-probe/").json()
    assert data["user"] == APP_ROLE
    assert data["pupil_school_ids"] == []


def test_app_role_with_no_tenant_setting_sees_nothing(tenant):
    with transaction.atomic(), app_role():
        assert fetch("SELECT count(*) FROM pupils_pupil") == [(0,)]
        assert fetch("SELECT current_user") == [(APP_ROLE,)]


def test_owning_login_without_a_tenant_setting_sees_nothing_either(tenant):
    [(is_super,)] = fetch("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if is_super:
        pytest.skip("DATABASE_URL names a superuser, which PostgreSQL never subjects to RLS")
    assert fetch("SELECT count(*) FROM pupils_pupil") == [(0,)]


def test_orm_scoping_removed_still_sees_only_own_school(tenant, other):
    """The base manager skips the ORM wall; RLS alone keeps the other schools out."""
    with transaction.atomic(), tenant_scope(TenantScope.for_school(tenant.school.pk)):
        ids = set(Pupil._base_manager.values_list("school_id", flat=True))
    assert ids == {tenant.school.pk}


def test_writing_into_another_school_is_refused_by_the_database(tenant, other):
    scope = TenantScope.for_school(tenant.school.pk)
    with (
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
        tenant_scope(scope),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO pupils_pupil (school_id, upn, first_name, last_name, date_of_birth, nc_year, "
            "is_active) VALUES (%s, 'X', 'A', 'B', '2015-01-01', 5, true)",
            [other.school.pk],
        )


def test_read_only_scope_cannot_change_rows_it_can_read(tenant):
    """Aggregate roles read rows to count them; the database refuses their writes."""
    scope = TenantScope(role="la_officer", read_school=frozenset({tenant.school.pk}))
    with transaction.atomic(), tenant_scope(scope):
        assert Pupil.objects.count() == 3
        with connection.cursor() as cursor:
            cursor.execute("UPDATE pupils_pupil SET first_name = 'Changed'")
            assert cursor.rowcount == 0


def test_unscoped_orm_query_raises():
    with pytest.raises(UnscopedQueryError):
        Pupil.objects.count()


@pytest.mark.django_db(transaction=True)
def test_scope_outside_a_transaction_is_refused():
    with pytest.raises(ScopeOutsideTransactionError), tenant_scope(TenantScope.for_school(1)):
        pass


@pytest.mark.django_db(transaction=True)
def test_settings_end_with_the_transaction():
    with transaction.atomic(), tenant_scope(TenantScope.for_school(42)):
        assert fetch("SELECT current_setting('pm.read_school', true)") == [("{42}",)]
    [(setting, user)] = fetch("SELECT current_setting('pm.read_school', true), current_user")
    assert setting in (None, "")
    assert user != APP_ROLE


@pytest.mark.parametrize(
    "statement", ["UPDATE schools_auditevent SET action = 'view'", "DELETE FROM schools_auditevent"]
)
def test_app_role_cannot_update_or_delete_audit_rows(tenant, statement):
    with (
        pytest.raises(ProgrammingError, match="permission denied"),
        transaction.atomic(),
        tenant_scope(TenantScope.for_school(tenant.school.pk)),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)


@pytest.mark.urls("tests.rls_urls")
@pytest.mark.parametrize("role", ["la_officer", "partnership_lead", "provision_lead", "la_admin"])
def test_roles_without_row_access_see_no_pupil_row_even_by_raw_sql(client, tenant, role):
    """The database, not only the views, keeps identifiable rows from roles that may not see them."""
    sign_in(client, tenant.users[role])
    assert client.get("/raw-probe/").json()["pupil_school_ids"] == []


@pytest.mark.urls("tests.rls_urls")
def test_a_practitioners_transaction_reaches_only_their_own_school(client, tenant):
    """Practitioners record sessions in their school, so the database lets them reach its
    rows; which pupils they see is narrowed by the register's selector (tested with groups)."""
    sign_in(client, tenant.users["practitioner"])
    assert set(client.get("/raw-probe/").json()["pupil_school_ids"]) <= {tenant.school.pk}


def test_aggregate_roles_count_rows_only_inside_counting(tenant):
    from schools.scopes import scope_for_membership
    from schools.tenancy import counting

    scope = scope_for_membership(tenant.memberships["la_officer"])
    with transaction.atomic(), tenant_scope(scope):
        assert Pupil.objects.count() == 0
        assert fetch("SELECT count(*) FROM pupils_pupil") == [(0,)]
        with counting():
            assert Pupil.objects.count() == 7  # 3 + 2 + 2 across the LA's three schools
            assert fetch("SELECT count(*) FROM pupils_pupil") == [(7,)]
        assert fetch("SELECT count(*) FROM pupils_pupil") == [(0,)]


def test_partnership_lead_counts_only_its_partnership(tenant):
    from schools.scopes import scope_for_membership
    from schools.tenancy import counting

    scope = scope_for_membership(tenant.memberships["partnership_lead"])
    with transaction.atomic(), tenant_scope(scope), counting():
        assert fetch("SELECT count(*) FROM pupils_pupil") == [(5,)]  # not the neighbour's 2


def test_audit_rows_cannot_name_a_school_outside_the_scope(tenant, other):
    from schools.audit import Action, audit

    with (
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
        tenant_scope(TenantScope.for_school(tenant.school.pk)),
    ):
        audit(None, Action.VIEW, object_type="forged", school_id=other.school.pk)


@pytest.mark.urls("tests.rls_urls")
@pytest.mark.django_db(transaction=True)
def test_a_failed_request_keeps_nothing_it_wrote():
    from django.test import Client

    from schools.models import AuditEvent
    from tests.conftest import build_tenant

    t = build_tenant("909", "Crash")
    client = sign_in(Client(raise_request_exception=False), t.users["senco"])
    assert client.get("/write-then-fail/").status_code == 500
    with transaction.atomic(), tenant_scope(TenantScope.for_school(t.school.pk)):
        assert not AuditEvent.objects.filter(object_type="probe").exists()


@pytest.mark.django_db(transaction=True)
def test_missing_static_file_when_signed_in_is_a_plain_404():
    from django.test import Client

    from tests.conftest import build_tenant

    t = build_tenant("909", "Static")
    client = sign_in(Client(raise_request_exception=False), t.users["senco"])
    assert client.get("/static/no-such-file.css").status_code == 404
