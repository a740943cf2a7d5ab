"""Hourly staff rates and the costing year: the LA sets them, a school's headteacher may set
the school's own, nobody else changes either, and every change is audited."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from schools.models import AuditEvent, StaffRole
from schools.rates import rate_table
from schools.scopes import scope_for_membership
from schools.tenancy import tenant_scope
from tests.conftest import sign_in

COSTS = "/schools/la/costs/"
RATES = "/schools/rates/"


def la_form(**rates):
    body = {"costing_weeks": "38.6", "costing_year": "financial"}
    body.update({f"rate_{k}": v for k, v in rates.items()})
    return body


def test_la_admin_sets_the_costing_year_and_rates(client, tenant, other):
    admin = sign_in(client, tenant.users["la_admin"], tenant.memberships["la_admin"])
    assert admin.get(COSTS).status_code == 200
    response = admin.post(COSTS, la_form(teacher="50", ta="20.50"))
    assert response.status_code == 302
    tenant.la.refresh_from_db()
    assert tenant.la.costing_weeks == Decimal("38.6") and tenant.la.costing_year == "financial"
    table = {row.kind: row for row in rate_table(tenant.la)}
    assert table["teacher"].rate == Decimal("50.00") and table["ta"].rate == Decimal("20.50")
    assert table["hlta"].rate is None
    # Clearing a rate removes it; the other LA is untouched.
    admin.post(COSTS, la_form(teacher="50"))
    assert not StaffRole.objects.filter(local_authority=tenant.la, kind="ta").exists()
    assert not StaffRole.objects.filter(local_authority=other.la).exists()
    with transaction.atomic(), tenant_scope(scope_for_membership(tenant.memberships["la_admin"])):
        rows = list(AuditEvent._base_manager.filter(detail__fields=["costs"]).order_by("at", "id"))
    assert len(rows) == 2 and rows[0].detail["rates"] == {"teacher": "50", "ta": "20.50"}


@pytest.mark.parametrize(
    "body",
    [
        la_form(teacher="-1"),
        la_form(teacher="9999"),
        la_form(teacher="lots"),
        {**la_form(), "costing_weeks": "12"},
        {**la_form(), "costing_year": "calendar"},
    ],
)
def test_bad_costing_input_is_refused_and_saves_nothing(client, tenant, body):
    admin = sign_in(client, tenant.users["la_admin"], tenant.memberships["la_admin"])
    assert admin.post(COSTS, body).status_code == 400
    tenant.la.refresh_from_db()
    assert tenant.la.costing_weeks == Decimal(38) and not StaffRole.objects.exists()


@pytest.mark.parametrize("role", ["senco", "headteacher", "la_officer", "partnership_lead", "practitioner"])
def test_only_the_la_admin_opens_the_costs_page(client, tenant, role):
    member = sign_in(client, tenant.users[role], tenant.memberships[role])
    assert member.get(COSTS).status_code == 403
    assert member.post(COSTS, la_form(teacher="1")).status_code == 403
    assert not StaffRole.objects.exists()


def test_a_headteacher_sets_the_schools_own_rates_over_the_las(client, tenant):
    StaffRole.objects.create(local_authority=tenant.la, kind="ta", hourly_cost=Decimal(20))
    head = sign_in(client, tenant.users["headteacher"], tenant.memberships["headteacher"])
    page = head.get(RATES)
    assert page.status_code == 200 and b"20.00" in page.content
    assert head.post(RATES, {"rate_ta": "23.40", "rate_teacher": ""}).status_code == 302
    table = {row.kind: row for row in rate_table(tenant.la, tenant.school)}
    assert table["ta"].rate == Decimal("23.40") and table["ta"].la_rate == Decimal(20)
    # The sibling school still uses the LA's rate.
    assert {r.kind: r for r in rate_table(tenant.la, tenant.sibling)}["ta"].rate == Decimal(20)
    assert head.post(RATES, {"rate_ta": "-4"}).status_code == 400


def test_a_senco_reads_the_rates_and_cannot_change_them(client, tenant):
    senco = sign_in(client, tenant.users["senco"], tenant.memberships["senco"])
    assert senco.get(RATES).status_code == 200
    assert senco.post(RATES, {"rate_ta": "1"}).status_code == 403
    assert not StaffRole.objects.exists()
    practitioner = sign_in(client, tenant.users["practitioner"], tenant.memberships["practitioner"])
    assert practitioner.get(RATES).status_code == 403
