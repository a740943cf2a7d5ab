"""Dashboards: every role's home page, the pages one level down, the filters and the
figures API."""

from __future__ import annotations

import pytest

from tests.conftest import sign_in

ROLES_WITH_DASHBOARDS = ("senco", "headteacher", "provision_lead", "partnership_lead", "la_officer")


@pytest.mark.parametrize("role", [*ROLES_WITH_DASHBOARDS, "practitioner", "la_admin"])
def test_home_answers_for_every_role(client, tenant, role):
    sign_in(client, tenant.users[role])
    response = client.get("/")
    assert response.status_code == 200, response.content[:2000]
