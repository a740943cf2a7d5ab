"""Dropdowns and related-field choices offer only in-scope rows (SECURITY.md 3).

Each form that offers related rows is rendered with another tenant present: its options are
exactly the caller's own rows (never empty, so the check means something), none of the other
tenant's; and posting the other tenant's pk is a 400 with the error beside that field, with
no row written on either side. The other tenant is another LA (`other`), and where the form
could reach further inside the caller's own LA, its sibling school or neighbouring
partnership too.
"""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from schools.models import Role, School, User
from schools.terms import academic_year_of
from tests.conftest import Tenant, sign_in
from tests.factories import ProvisionFactory
from tests.sweep_routes import (
    Target,
    _budget_ids,
    _framework_id,
    _intervention_ids,
    _placement_id,
    _plan_id,
    _staff_id,
    tenant_rows,
)
from tests.test_isolation_sweep import target_of

TODAY = timezone.localdate()


class _Choices(HTMLParser):
    """The values a page offers for one field: a select's options, or its checkboxes and radios."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name, self.values, self._select = name, [], False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag == "select":
            self._select = attrs.get("name") == self.name
            return
        option = tag == "option" and self._select
        box = tag == "input" and attrs.get("name") == self.name and attrs.get("type") in ("checkbox", "radio")
        if option or box:
            self.values.append(attrs.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = False


def offered(response, name: str) -> set[int]:
    """The ids offered for `name` (a blank "Choose" option aside)."""
    assert response.status_code == 200, response.status_code
    parser = _Choices(name)
    parser.feed(response.content.decode())
    assert parser.values, f"the page offers no {name!r} field"
    return {int(v) for v in parser.values if v.isdigit()}  # ids, not "exit" and the like


def field_errors(response, name: str) -> list[str]:
    return list(response.context["form"].errors.get(name, []))


def target(t: Tenant) -> Target:
    """The SENCO's own school, as the isolation sweep aims at it."""
    return target_of(t, membership=t.memberships[Role.SENCO.value])


def rows(la_id: int, table: str) -> list[dict]:
    """One table's rows of an LA, with their foreign keys."""
    return [row for (label, _), row in tenant_rows(la_id, keys_only=True).items() if label == table]


class Unchanged:
    """Every tenant row of both LAs, read on entry and again on exit: nothing may differ."""

    def __init__(self, *tenants: Tenant) -> None:
        self.la_ids = [t.la.pk for t in tenants]

    def __enter__(self):
        self.before = [tenant_rows(la) for la in self.la_ids]
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            assert [tenant_rows(la) for la in self.la_ids] == self.before, "a refused post wrote rows"


@pytest.fixture
def senco(client: Client, tenant: Tenant) -> Client:
    return sign_in(client, tenant.users["senco"], tenant.memberships["senco"])


def _catalogue(la_id: int, step_id: int | None = None) -> set[int]:
    return {r["id"] for r in rows(la_id, "graduated_response.Strategy") if step_id in (None, r["step_id"])}


def _step_of_placement(la_id: int, placement_id: int) -> int:
    (placement,) = [r for r in rows(la_id, "graduated_response.StepPlacement") if r["id"] == placement_id]
    return placement["step_id"]


def test_strategy_choice_offers_the_pupils_step_catalogue_only(senco, tenant, other):
    own_step = _step_of_placement(tenant.la.pk, _placement_id(target(tenant)))
    foreign_step = _step_of_placement(other.la.pk, _placement_id(target(other)))
    own, foreign = _catalogue(tenant.la.pk, own_step), _catalogue(other.la.pk)
    url = reverse("graduated_response:strategies", kwargs={"pk": tenant.pupils[0].pk})

    assert own and offered(senco.get(url), "strategy") == own
    assert not own & foreign

    # The same step of the other LA's copy of the framework: the nearest lookalike there is.
    lookalike = min(_catalogue(other.la.pk, foreign_step))
    with Unchanged(tenant, other):
        response = senco.post(url, {"strategy": lookalike, "started_on": TODAY.isoformat()})
        assert response.status_code == 400
        assert field_errors(response, "strategy")


def test_plan_strategies_offer_the_plans_step_catalogue_only(senco, tenant, other):
    own_step = _step_of_placement(tenant.la.pk, _placement_id(target(tenant)))
    _placement_id(target(other))  # the other LA's copy of the framework, its pupil placed
    own, foreign = _catalogue(tenant.la.pk, own_step), _catalogue(other.la.pk)
    pupil = tenant.pupils[0]
    new_url = reverse("graduated_response:plan-create", kwargs={"pk": pupil.pk})
    assert own and offered(senco.get(new_url), "strategies") == own

    lookalike = min(foreign)
    with Unchanged(tenant, other):
        response = senco.post(
            new_url,
            {
                "title": "Calmer lunchtimes",
                "kind": "support",
                "starts_on": TODAY.isoformat(),
                "strategies": [lookalike],
                "targets-TOTAL_FORMS": "1",
                "targets-INITIAL_FORMS": "0",
                "targets-0-description": "Stays at the table",
                "targets-0-success_criteria": "4 days of 5",
            },
        )
        assert response.status_code == 400
        assert field_errors(response, "strategies")

    plan_id = _plan_id(target(tenant))
    edit_url = reverse("graduated_response:plan-edit", kwargs={"pk": pupil.pk, "plan_id": plan_id})
    assert offered(senco.get(edit_url), "strategies") == own
    with Unchanged(tenant, other):
        response = senco.post(
            edit_url,
            {
                "title": "Swept plan",
                "kind": "support",
                "strategies": [lookalike],
                "targets-TOTAL_FORMS": "0",
                "targets-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 400
        assert field_errors(response, "strategies")


def test_budget_line_offers_this_budgets_lines_only(client, tenant, other):
    lead = sign_in(client, tenant.users["partnership_lead"], tenant.memberships["partnership_lead"])
    own = _budget_ids(target(tenant))
    elsewhere = [
        _budget_ids(target(other)),  # another LA's partnership
        _budget_ids(  # the neighbouring partnership of the caller's own LA
            Target(
                school=tenant.neighbour,
                pupils=tenant.neighbour_pupils,
                partnership=tenant.neighbour.partnership,
                provision=None,
                la=tenant.la,
                membership=None,
            )
        ),
    ]
    page = lead.get(reverse("schools:budget", kwargs={"pk": own["budget"]}))
    assert offered(page, "line") == {own["line"]}

    with Unchanged(tenant, other):
        for foreign in elsewhere:
            response = lead.post(
                reverse("schools:budget-spend-add", kwargs={"pk": own["budget"]}),
                {"line": foreign["line"], "description": "Calm room kit", "amount": "5", "spent_on": TODAY},
            )
            assert response.status_code == 400
            assert response.context["spend_form"].errors.get("line")


def test_transfer_destination_offers_schools_of_the_same_la_only(senco, tenant, other):
    pupil = tenant.pupils[0]
    url = reverse("pupils:transfer", kwargs={"pk": pupil.pk})
    schools = School.objects.values_list("pk", flat=True)
    same_la = set(schools.filter(local_authority=tenant.la).exclude(pk=tenant.school.pk))
    other_la = set(schools.filter(local_authority=other.la))
    assert {tenant.sibling.pk, tenant.neighbour.pk} <= same_la and other_la

    assert offered(senco.get(url), "to_school") == same_la

    with Unchanged(tenant, other):
        response = senco.post(
            url, {"to_school": other.school.pk, "reason": "moving_home", "transferred_on": TODAY.isoformat()}
        )
        assert response.status_code == 400
        assert field_errors(response, "to_school") == [
            "Choose one of the listed schools of your local authority."
        ]
        assert other.school.name not in response.content.decode()


def _school_staff(t: Tenant) -> set[int]:
    return {t.users[r.value].pk for r in (Role.SENCO, Role.PRACTITIONER, Role.HEADTEACHER)}


def test_group_lead_and_staff_offer_the_schools_own_staff_only(senco, tenant, other):
    ids = _intervention_ids(target(tenant))
    outsiders = [_staff_id(target_of(tenant, sibling=True)), other.users["senco"].pk]
    staff = _school_staff(tenant)
    # Staff of the LA and partnership hold no school role: not offered either.
    assert not staff & {tenant.users["partnership_lead"].pk, tenant.users["la_officer"].pk}

    create = reverse("interventions:group-create", kwargs={"pk": ids["provision"]})
    edit = reverse("interventions:group-edit", kwargs={"pk": ids["group"]})
    for url in (create, edit):
        page = senco.get(url)
        assert offered(page, "lead") == staff
        assert offered(page, "staff") == staff

    starts = TODAY - timedelta(days=14)  # the sweep's group's own dates, so an edit keeps them
    period = {
        "academic_year": academic_year_of(starts),
        "starts_on": starts.isoformat(),
        "ends_on": (TODAY + timedelta(days=30)).isoformat(),
    }
    with Unchanged(tenant, other):
        for outsider in outsiders:
            for url in (create, edit):
                for field, value in (("lead", outsider), ("staff", [outsider])):
                    response = senco.post(url, {**period, field: value})
                    assert response.status_code == 400, (url, field, User.objects.get(pk=outsider))
                    assert field_errors(response, field)

    # The same post with the school's own staff goes through: the refusals were the outsiders'.
    response = senco.post(edit, {**period, "lead": tenant.users["practitioner"].pk})
    assert response.status_code == 302, response.context["form"].errors


def test_enrolment_offers_the_schools_own_pupils_only(senco, tenant, other):
    ids = _intervention_ids(target(tenant))  # the first pupil is in the group already
    url = reverse("interventions:group-enrol", kwargs={"pk": ids["group"]})
    outsiders = [*tenant.sibling_pupils, *tenant.neighbour_pupils, *other.pupils]

    assert offered(senco.get(url), "pupil") == {p.pk for p in tenant.pupils[1:]}

    with Unchanged(tenant, other):
        for pupil in outsiders:
            response = senco.post(url, {"pupil": pupil.pk})
            assert response.status_code == 400
            assert field_errors(response, "pupil")
            assert pupil.last_name not in response.content.decode()


def test_step_choice_offers_the_las_own_framework_steps_only(senco, tenant, other):
    own_framework, foreign_framework = _framework_id(target(tenant)), _framework_id(target(other))
    steps = rows(tenant.la.pk, "graduated_response.Step")
    own = {r["id"] for r in steps if r["framework_id"] == own_framework}
    foreign = {r["id"] for r in rows(other.la.pk, "graduated_response.Step")}
    assert foreign and {r["framework_id"] for r in rows(other.la.pk, "graduated_response.Step")} == {
        foreign_framework
    }
    url = reverse("graduated_response:step", kwargs={"pk": tenant.pupils[1].pk})  # not on a step yet

    assert own and offered(senco.get(url), "to_step") == own

    with Unchanged(tenant, other):
        response = senco.post(
            url, {"to_step": min(foreign), "placed_on": TODAY.isoformat(), "reason": "Concerns at lunch"}
        )
        assert response.status_code == 400
        assert field_errors(response, "to_step")


def test_referral_offers_the_partnerships_own_provisions_only(senco, tenant, other):
    elsewhere = ProvisionFactory(  # a provision of the neighbouring partnership, same LA
        host_school=tenant.neighbour, partnership=tenant.neighbour.partnership, name="Elsewhere Base"
    )
    url = reverse("placements:refer", kwargs={"pupil_pk": tenant.pupils[1].pk})
    offers = offered(senco.get(url), "provision")
    assert offers == {tenant.provision.pk}
    assert not offers & {elsewhere.pk, other.provision.pk}
    # Posting either is a 400 with nothing saved: test_provision_placements.py.


def test_group_filter_offers_the_schools_own_provisions_only(senco, tenant, other):
    own, foreign = _intervention_ids(target(tenant)), _intervention_ids(target(other))
    url = reverse("interventions:groups")

    def link(ids: dict) -> str:
        return 'href="{}"'.format(reverse("interventions:group", kwargs={"pk": ids["group"]}))

    page = senco.get(url)
    assert offered(page, "provision") == {own["provision"]}
    assert link(own) in page.content.decode()

    narrowed = senco.get(url, {"provision": foreign["provision"]})
    assert narrowed.status_code == 400
    assert field_errors(narrowed, "provision")
    assert link(foreign) not in narrowed.content.decode()
