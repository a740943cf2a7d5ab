"""Partnership budgets: the £30,000 dual approval, the arithmetic of the monitoring figures,
quarters of the financial year, who may read and change a budget, audit rows and query counts."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from schools import budgets
from schools.models import (
    AuditEvent,
    Budget,
    BudgetLine,
    Role,
    SpendItem,
    financial_quarter_of,
    financial_year_of,
)
from schools.scopes import scope_for_membership
from schools.tenancy import TenantScope, tenant_scope
from tests.conftest import sign_in
from tests.factories import MembershipFactory, UserFactory

D = Decimal
YEAR = 2025  # 2025-26


def as_member(membership):
    """Run a service as this membership would in a request."""

    class _Ctx:
        def __enter__(self):
            self.atomic = transaction.atomic()
            self.atomic.__enter__()
            self.scope = tenant_scope(scope_for_membership(membership))
            return self.scope.__enter__()

        def __exit__(self, *exc):
            self.scope.__exit__(*exc)
            return self.atomic.__exit__(*exc)

    return _Ctx()


@pytest.fixture
def host_head(tenant):
    """The headteacher of the school that hosts the partnership's provision (the sibling)."""
    user = UserFactory(username="alpha-host-head")
    return MembershipFactory(user=user, role=Role.HEADTEACHER, school=tenant.sibling)


@pytest.fixture
def budget(tenant):
    lead = tenant.memberships["partnership_lead"]
    with as_member(lead):
        b = budgets.budget_create(
            request=None,
            user=lead.user,
            partnership=tenant.partnership,
            financial_year=YEAR,
            allocation=D("100000.00"),
            carried_forward=D("12500.50"),
            surplus_plan="Training for partnership TAs.",
        )
        budgets.line_add(request=None, budget=b, category="staffing", name="Teacher", planned=D("80000"))
        budgets.line_add(request=None, budget=b, category="resources", name="Kit", planned=D("10000"))
    return b


def line(budget, category="staffing") -> BudgetLine:
    with transaction.atomic(), tenant_scope(TenantScope.system(partnerships=[budget.partnership_id])):
        return BudgetLine.objects.get(budget=budget, category=category)


def add(tenant, budget, amount, day=datetime.date(YEAR, 5, 1), category="staffing", who=None) -> SpendItem:
    lead = who or tenant.memberships["partnership_lead"]
    with as_member(lead):
        return budgets.spend_add(
            request=None,
            user=lead.user,
            budget=budget,
            line=line(budget, category),
            description="Item",
            supplier="",
            amount=D(amount),
            spent_on=day,
        )


def approve(membership, item) -> SpendItem:
    with as_member(membership):
        item = SpendItem.objects.select_related("budget").get(pk=item.pk)
        return budgets.spend_approve(request=None, user=membership.user, item=item)


def reload(item) -> SpendItem:
    with transaction.atomic(), tenant_scope(TenantScope.system(partnerships=[item.partnership_id])):
        return SpendItem.objects.get(pk=item.pk)


# --- quarters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day,year,quarter",
    [
        (datetime.date(2026, 3, 31), 2025, 4),
        (datetime.date(2026, 4, 1), 2026, 1),
        (datetime.date(2025, 6, 30), 2025, 1),
        (datetime.date(2025, 7, 1), 2025, 2),
        (datetime.date(2025, 12, 31), 2025, 3),
        (datetime.date(2026, 1, 1), 2025, 4),
    ],
)
def test_financial_year_and_quarter_turn_at_april(day, year, quarter):
    assert financial_year_of(day) == year
    assert financial_quarter_of(day) == quarter


def test_spend_dated_on_the_boundaries_lands_in_the_right_quarter(tenant, budget):
    assert add(tenant, budget, "10", datetime.date(YEAR, 4, 1)).quarter == 1
    assert add(tenant, budget, "10", datetime.date(YEAR + 1, 3, 31)).quarter == 4
    for outside in (datetime.date(YEAR, 3, 31), datetime.date(YEAR + 1, 4, 1)):
        with pytest.raises(ValidationError):
            add(tenant, budget, "10", outside)


# --- the £30,000 rule ---------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["29999.99", "30000.00"])
def test_items_up_to_30000_are_committed_when_entered(tenant, budget, host_head, amount):
    item = add(tenant, budget, amount)
    assert item.status == "committed"
    with pytest.raises(ValidationError):
        approve(host_head, item)


def test_an_item_over_30000_needs_both_sides(tenant, budget, host_head):
    item = add(tenant, budget, "30000.01")
    assert item.status == "proposed"
    approve(tenant.memberships["partnership_lead"], item)
    assert reload(item).status == "proposed"  # one side only: not yet committed
    with pytest.raises(ValidationError):  # the same side twice
        approve(tenant.memberships["partnership_lead"], item)
    approve(host_head, item)
    item = reload(item)
    assert item.status == "committed"
    assert item.partnership_approved_by_id == tenant.users["partnership_lead"].pk
    assert item.host_school_approved_by_id == host_head.user_id


def test_host_school_may_sign_first(tenant, budget, host_head):
    item = add(tenant, budget, "45000")
    approve(host_head, item)
    assert reload(item).status == "proposed"
    approve(tenant.memberships["partnership_lead"], item)
    assert reload(item).status == "committed"


def test_one_person_with_both_roles_cannot_give_both_signatures(client, tenant, budget):
    """The proposer is partnership lead and the host school's headteacher too: they may sign
    one side, never both."""
    lead = tenant.memberships["partnership_lead"]
    head_hat = MembershipFactory(user=lead.user, role=Role.HEADTEACHER, school=tenant.sibling)
    item = add(tenant, budget, "50000")
    url = f"/api/v1/budgets/{budget.pk}/spend/{item.pk}/approve/"
    sign_in(client, lead.user)
    assert client.post(url, HTTP_X_MEMBERSHIP_ID=str(lead.pk)).status_code == 200
    refused = client.post(url, HTTP_X_MEMBERSHIP_ID=str(head_hat.pk))
    assert refused.status_code == 400 and "someone else" in refused.content.decode()
    item = reload(item)
    assert item.status == "proposed" and item.host_school_approved_by_id is None
    with transaction.atomic(), tenant_scope(TenantScope.system(schools=[tenant.sibling.pk])):
        denied = AuditEvent._base_manager.filter(action="denied", object_type="schools.spenditem")
        assert [(e.detail["reason"], e.membership_id) for e in denied] == [("same-person", head_hat.pk)]


@pytest.mark.parametrize("role", ["senco", "headteacher", "provision_lead", "la_officer", "practitioner"])
def test_other_roles_cannot_approve(tenant, budget, role):
    item = add(tenant, budget, "50000")
    # Roles that see the partnership are refused; school roles outside the host do not even
    # find the item.
    with pytest.raises((PermissionDenied, SpendItem.DoesNotExist)):
        approve(tenant.memberships[role], item)
    assert reload(item).status == "proposed"


def test_the_database_refuses_a_large_item_committed_without_two_signatures(tenant, budget):
    item = add(tenant, budget, "50000")
    scope = TenantScope.system(partnerships=[tenant.partnership.pk])
    with pytest.raises(IntegrityError), transaction.atomic(), tenant_scope(scope):
        SpendItem.objects.filter(pk=item.pk).update(status="committed")


def test_only_the_partnership_lead_enters_spend(tenant, budget, host_head):
    with pytest.raises(PermissionDenied):
        add(tenant, budget, "100", who=host_head)


# --- arithmetic ------------------------------------------------------------------------------------


def test_budget_figures_worked_by_hand(tenant, budget, host_head):
    add(tenant, budget, "1200.00", datetime.date(YEAR, 5, 10))  # Q1 staffing
    paid = add(tenant, budget, "450.25", datetime.date(YEAR, 9, 30), "resources")  # Q2
    add(tenant, budget, "45000.00", datetime.date(YEAR, 11, 1))  # Q3, awaiting approval
    add(tenant, budget, "300.00", datetime.date(YEAR + 1, 1, 15), "resources")  # Q4
    with as_member(tenant.memberships["partnership_lead"]):
        budgets.spend_mark_paid(request=None, item=SpendItem.objects.select_related("budget").get(pk=paid.pk))
    with as_member(tenant.memberships["la_officer"]):
        f = budgets.budget_figures(
            budgets.budgets_for(scope_for_membership(tenant.memberships["la_officer"])).get()
        )
    assert f.available == D("112500.50")  # 100,000 + 12,500.50
    assert f.planned == D("90000.00")
    assert f.committed == D("1950.25")  # 1,200 + 450.25 + 300
    assert f.paid == D("450.25")
    assert f.proposed == D("45000.00")
    assert f.forecast == D("46950.25")
    assert f.variance == D("65550.25")  # 112,500.50 − 46,950.25
    assert [(q.spend, q.cumulative, q.forecast, q.variance) for q in f.quarters] == [
        (D("1200.00"), D("1200.00"), D("1200.00"), D("111300.50")),
        (D("450.25"), D("1650.25"), D("1650.25"), D("110850.25")),
        (D("0.00"), D("1650.25"), D("46650.25"), D("65850.25")),
        (D("300.00"), D("1950.25"), D("46950.25"), D("65550.25")),
    ]
    by_name = {row.line.name: row for row in f.lines}
    assert (by_name["Teacher"].committed, by_name["Teacher"].forecast, by_name["Teacher"].remaining) == (
        D("1200.00"),
        D("46200.00"),
        D("33800.00"),
    )
    assert by_name["Kit"].committed == D("750.25")
    # Once both sides approve, the large item moves from forecast into committed.
    item = reload(SpendItem(pk=f.pending[0].pk, partnership_id=tenant.partnership.pk))
    approve(tenant.memberships["partnership_lead"], item)
    approve(host_head, item)
    with as_member(tenant.memberships["la_officer"]):
        f = budgets.budget_figures(
            budgets.budgets_for(scope_for_membership(tenant.memberships["la_officer"])).get()
        )
    assert (f.committed, f.proposed, f.forecast) == (D("46950.25"), D("0.00"), D("46950.25"))


def test_a_budget_per_partnership_and_year(tenant, budget):
    lead = tenant.memberships["partnership_lead"]
    with pytest.raises(ValidationError), as_member(lead):
        budgets.budget_create(
            request=None, user=lead.user, partnership=tenant.partnership, financial_year=YEAR, allocation=D(1)
        )


# --- pages -----------------------------------------------------------------------------------------


def test_lead_and_host_head_work_a_budget_through_the_pages(client, tenant, host_head):
    lead = sign_in(client, tenant.users["partnership_lead"], tenant.memberships["partnership_lead"])
    response = lead.post(
        "/schools/budgets/new/",
        {"financial_year": YEAR, "allocation": "90000", "carried_forward": "0", "surplus_plan": ""},
    )
    assert response.status_code == 302
    with transaction.atomic(), tenant_scope(TenantScope.system(partnerships=[tenant.partnership.pk])):
        b = Budget.objects.get()
    url = f"/schools/budgets/{b.pk}/"
    assert (
        lead.post(f"{url}lines/", {"category": "staffing", "name": "TA", "planned": "40000"}).status_code
        == 302
    )
    line_id = line(b).pk
    body = {
        "line": line_id,
        "description": "Outreach TA contract",
        "amount": "36000",
        "spent_on": f"{YEAR}-06-01",
    }
    assert lead.post(f"{url}spend/", body).status_code == 302
    bad = {**body, "spent_on": f"{YEAR + 1}-04-01"}
    assert lead.post(f"{url}spend/", bad).status_code == 400
    with transaction.atomic(), tenant_scope(TenantScope.system(partnerships=[tenant.partnership.pk])):
        item = SpendItem.objects.get()
    page = lead.get(url)
    assert page.status_code == 200 and "Approve for the partnership" in page.content.decode()
    assert lead.post(f"{url}spend/{item.pk}/approve/").status_code == 302
    client.logout()
    head = sign_in(client, host_head.user, host_head)
    page = head.get(url).content.decode()
    assert "Approve for the host school" in page and "Add a line" not in page
    assert head.post(f"{url}lines/", {"category": "other", "name": "x", "planned": "1"}).status_code == 403
    assert head.post(f"{url}spend/{item.pk}/approve/").status_code == 302
    assert reload(item).status == "committed"
    assert "£36,000.00" in head.get(url).content.decode()


@pytest.mark.parametrize("role", ["senco", "practitioner", "provision_lead", "la_admin", "platform_admin"])
def test_roles_without_budgets_get_403(client, tenant, budget, role):
    sign_in(client, tenant.users[role], tenant.memberships[role])
    for url in (
        "/schools/budgets/",
        f"/schools/budgets/{budget.pk}/",
        "/api/v1/budgets/",
        f"/api/v1/budgets/{budget.pk}/",
    ):
        assert client.get(url).status_code == 403, url


def test_another_partnerships_budget_is_404(client, tenant, other, budget):
    # Another LA's partnership lead and LA officer, and a headteacher whose school hosts nothing.
    for member in (
        other.memberships["partnership_lead"],
        other.memberships["la_officer"],
        tenant.memberships["headteacher"],
    ):
        client.logout()
        sign_in(client, member.user, member)
        for url in (f"/schools/budgets/{budget.pk}/", f"/api/v1/budgets/{budget.pk}/"):
            assert client.get(url).status_code == 404, (member.role, url)
        assert tenant.partnership.name not in client.get("/schools/budgets/").content.decode()
        assert client.get("/api/v1/budgets/").json() == []


def test_la_officer_reads_but_does_not_change(client, tenant, budget):
    officer = sign_in(client, tenant.users["la_officer"], tenant.memberships["la_officer"])
    assert officer.get(f"/schools/budgets/{budget.pk}/").status_code == 200
    assert [b["id"] for b in officer.get("/api/v1/budgets/").json()] == [budget.pk]
    body = {"line": line(budget).pk, "description": "x", "amount": "5", "spent_on": f"{YEAR}-05-01"}
    assert (
        officer.post(f"/api/v1/budgets/{budget.pk}/spend/", body, content_type="application/json").status_code
        == 403
    )


# --- API -------------------------------------------------------------------------------------------


def test_api_create_spend_and_dual_approval(client, tenant, other, host_head):
    lead = sign_in(client, tenant.users["partnership_lead"], tenant.memberships["partnership_lead"])
    created = lead.post(
        "/api/v1/budgets/",
        {"financial_year": YEAR, "allocation": "80000.00", "partnership": other.partnership.pk},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["partnership"] == tenant.partnership.pk  # never taken from the body
    b = Budget(pk=data["id"], partnership_id=tenant.partnership.pk)
    with as_member(tenant.memberships["partnership_lead"]):
        budgets.line_add(request=None, budget=b, category="training", name="CPD", planned=D("5000"))
    spend = f"/api/v1/budgets/{b.pk}/spend/"
    body = {
        "line": line(b, "training").pk,
        "description": "Trauma-informed training",
        "amount": "31000",
        "spent_on": f"{YEAR}-10-01",
    }
    posted = lead.post(spend, body, content_type="application/json")
    assert (
        posted.status_code == 201 and posted.json()["status"] == "proposed" and posted.json()["quarter"] == 3
    )
    item_id = posted.json()["id"]
    # A line of another budget (another LA's) in the body: 400, nothing saved.
    with as_member(other.memberships["partnership_lead"]):
        ob = budgets.budget_create(
            request=None,
            user=other.users["partnership_lead"],
            partnership=other.partnership,
            financial_year=YEAR,
            allocation=D(1),
        )
        other_line = budgets.line_add(request=None, budget=ob, category="other", name="x", planned=D(1))
    assert (
        lead.post(spend, {**body, "line": other_line.pk}, content_type="application/json").status_code == 400
    )
    approve_url = f"{spend}{item_id}/approve/"
    assert lead.post(approve_url).json()["status"] == "proposed"
    detail = lead.get(f"/api/v1/budgets/{b.pk}/").json()
    assert detail["awaiting_approval"] == [item_id]
    assert detail["figures"]["forecast"] == "31000.00" and detail["figures"]["committed"] == "0.00"
    assert [q["forecast"] for q in detail["quarters"]] == ["0.00", "0.00", "31000.00", "31000.00"]
    client.logout()
    head = sign_in(client, host_head.user, host_head)
    response = head.post(approve_url)
    assert response.status_code == 200 and response.json()["status"] == "committed"
    assert head.post(approve_url).status_code == 400  # already committed
    assert head.post(f"/api/v1/budgets/{ob.pk}/spend/1/approve/").status_code == 404


def test_changes_are_audited_with_numbers_only(client, tenant, host_head):
    lead = sign_in(client, tenant.users["partnership_lead"], tenant.memberships["partnership_lead"])
    b_id = lead.post(
        "/api/v1/budgets/", {"financial_year": YEAR, "allocation": "1000"}, content_type="application/json"
    ).json()["id"]
    b = Budget(pk=b_id, partnership_id=tenant.partnership.pk)
    with as_member(tenant.memberships["partnership_lead"]):
        budgets.line_add(request=None, budget=b, category="other", name="Room", planned=D("100"))
    body = {
        "line": line(b, "other").pk,
        "description": "Secret text",
        "amount": "40000",
        "spent_on": f"{YEAR}-04-02",
    }
    item_id = lead.post(f"/api/v1/budgets/{b_id}/spend/", body, content_type="application/json").json()["id"]
    lead.post(f"/api/v1/budgets/{b_id}/spend/{item_id}/approve/")
    client.logout()
    sign_in(client, host_head.user, host_head).post(f"/api/v1/budgets/{b_id}/spend/{item_id}/approve/")
    scope = TenantScope.system(schools=[tenant.sibling.pk], local_authorities=[tenant.la.pk])
    with transaction.atomic(), tenant_scope(scope):
        rows = list(
            AuditEvent._base_manager.filter(object_type__in=["schools.budget", "schools.spenditem"]).order_by(
                "id"
            )
        )
    assert [(r.action, r.object_type, r.detail.get("approved")) for r in rows] == [
        ("create", "schools.budget", None),
        ("create", "schools.spenditem", None),
        ("update", "schools.spenditem", "partnership"),
        ("update", "schools.spenditem", "host_school"),
    ]
    assert rows[-1].school_id == tenant.sibling.pk and rows[-1].detail["status"] == "committed"
    assert not any("Secret" in str(r.detail) for r in rows)


# --- query counts ----------------------------------------------------------------------------------


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("path", ["page", "api-detail", "api-list", "list"])
def test_budget_query_count_does_not_grow_with_items(client, tenant, budget, host_head, path):
    urls = {
        "page": f"/schools/budgets/{budget.pk}/",
        "api-detail": f"/api/v1/budgets/{budget.pk}/",
        "api-list": "/api/v1/budgets/",
        "list": "/schools/budgets/",
    }
    add(tenant, budget, "10")
    sign_in(client, tenant.users["partnership_lead"], tenant.memberships["partnership_lead"])
    client.get(urls[path])
    small = _count(client, urls[path])
    for i in range(8):
        add(tenant, budget, "40000" if i % 2 else "15.50", category="resources" if i % 3 else "staffing")
    assert _count(client, urls[path]) == small


def test_seed_budgets_is_idempotent_and_leaves_one_approval_pending(db):
    from schools.demo import seed_organisations, seed_users
    from schools.demo_budgets import seed_budgets

    world = seed_organisations()
    seed_users(world)
    today = datetime.date(2026, 11, 25)
    assert seed_budgets(world, today=today) == 2
    assert seed_budgets(world, today=today) == 0
    ids = [p.pk for p in world.partnerships]
    with transaction.atomic(), tenant_scope(TenantScope.system(partnerships=ids)):
        assert Budget.objects.filter(financial_year=2026).count() == 2
        pending = list(SpendItem.objects.filter(status="proposed"))
        assert len(pending) == 1 and pending[0].amount > D(30000)
        assert pending[0].partnership_approved_by_id and pending[0].host_school_approved_by_id is None
        assert pending[0].partnership_id == world.provision.partnership_id
