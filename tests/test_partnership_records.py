"""A partnership's agreements with its provisions, their annual review and the annual
report's narratives: who writes, who reads, what is refused, and what is audited."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from schools.models import (
    SLA_SECTIONS,
    AuditEvent,
    NarrativeStatus,
    ReportNarrative,
    ServiceLevelAgreement,
    SlaReview,
    SlaStatus,
)
from schools.partnership import review_state
from schools.scopes import scope_for_membership
from schools.tenancy import TenantScope, tenant_scope
from schools.terms import academic_year_of
from tests.conftest import sign_in

TODAY = timezone.localdate()
YEAR = academic_year_of(TODAY)


def as_partnership(t):
    return _Scoped(TenantScope.system(partnerships=[t.partnership.pk]))


class _Scoped:
    def __init__(self, scope):
        self.scope = scope

    def __enter__(self):
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.ctx = tenant_scope(self.scope)
        return self.ctx.__enter__()

    def __exit__(self, *exc):
        self.ctx.__exit__(*exc)
        return self.atomic.__exit__(*exc)


def make_agreement(t, **kwargs) -> ServiceLevelAgreement:
    with as_partnership(t):
        fields = {
            "partnership": t.partnership,
            "provision": t.provision,
            "starts_on": TODAY - datetime.timedelta(days=30),
            "review_on": TODAY + datetime.timedelta(days=300),
            **{name: f"{t.marker} {heading}" for name, heading, _ in SLA_SECTIONS},
        }
        fields.update(kwargs)
        return ServiceLevelAgreement.objects.create(**fields)


def agreement_body(**overrides):
    body = {
        "starts_on": TODAY.isoformat(),
        "review_on": (TODAY + datetime.timedelta(days=365)).isoformat(),
        **{name: f"About {heading}" for name, heading, _ in SLA_SECTIONS},
    }
    body.update(overrides)
    return body


def review_body(**overrides):
    body = {
        "academic_year": YEAR,
        "reviewed_on": TODAY.isoformat(),
        "respondent": "Host headteacher",
        "reflects_vision": "4",
        "reflects_provision": "5",
        "reflects_practice": "3",
        "strengths": "Clear referrals",
    }
    body.update(overrides)
    return body


def audit_rows(t, **filters):
    # Rows that name no school (a partnership's records) are read with the LA's scope.
    with transaction.atomic(), tenant_scope(scope_for_membership(t.memberships["la_admin"])):
        return list(AuditEvent._base_manager.filter(**filters).order_by("at", "id"))


def test_the_partnership_lead_writes_agrees_and_reviews_an_agreement(client, tenant):
    lead = sign_in(client, tenant.users["partnership_lead"], tenant.memberships["partnership_lead"])
    url = f"/schools/provisions/{tenant.provision.pk}/agreements/new/"
    assert lead.get(url).status_code == 200
    response = lead.post(url, agreement_body())
    assert response.status_code == 302
    with as_partnership(tenant):
        agreement = ServiceLevelAgreement.objects.get()
    assert agreement.status == SlaStatus.DRAFT and agreement.partnership_id == tenant.partnership.pk
    assert lead.post(f"/schools/agreements/{agreement.pk}/agree/").status_code == 302
    with as_partnership(tenant):
        agreement.refresh_from_db()
    assert agreement.status == SlaStatus.AGREED and agreement.agreed_by == tenant.users["partnership_lead"]
    page = lead.get(f"/schools/agreements/{agreement.pk}/")
    assert page.status_code == 200 and b"About Funding" in page.content
    # The annual review moves the next review to a year after it.
    assert lead.post(f"/schools/agreements/{agreement.pk}/reviews/new/", review_body()).status_code == 302
    with as_partnership(tenant):
        review = SlaReview.objects.get()
        agreement.refresh_from_db()
    assert review.reflects_provision == 5 and review.recorded_by == tenant.users["partnership_lead"]
    assert agreement.review_on == TODAY.replace(year=TODAY.year + 1)
    # Changing an agreed agreement returns it to draft.
    assert (
        lead.post(f"/schools/agreements/{agreement.pk}/edit/", agreement_body(funding="New")).status_code
        == 302
    )
    with as_partnership(tenant):
        agreement.refresh_from_db()
    assert agreement.status == SlaStatus.DRAFT and agreement.agreed_at is None
    actions = [(e.action, e.object_type) for e in audit_rows(tenant, object_type__startswith="schools.s")]
    assert actions == [
        ("create", "schools.servicelevelagreement"),
        ("update", "schools.servicelevelagreement"),
        ("create", "schools.slareview"),
        ("update", "schools.servicelevelagreement"),
    ]
    # No section text in the audit log.
    assert all("About" not in str(e.detail) for e in audit_rows(tenant))


@pytest.mark.parametrize(
    "body",
    [
        agreement_body(review_on=(TODAY - datetime.timedelta(days=1)).isoformat()),
        agreement_body(review_on=TODAY.isoformat()),
        agreement_body(starts_on="2025-02-30"),
        agreement_body(starts_on=""),
    ],
)
def test_bad_dates_are_refused_and_save_nothing(client, tenant, body):
    lead = sign_in(client, tenant.users["partnership_lead"], tenant.memberships["partnership_lead"])
    response = lead.post(f"/schools/provisions/{tenant.provision.pk}/agreements/new/", body)
    assert response.status_code == 400
    with as_partnership(tenant):
        assert not ServiceLevelAgreement.objects.exists()


def test_an_agreement_with_empty_sections_cannot_be_agreed(client, tenant):
    agreement = make_agreement(tenant, funding="")
    lead = sign_in(client, tenant.users["partnership_lead"], tenant.memberships["partnership_lead"])
    lead.post(f"/schools/agreements/{agreement.pk}/agree/")
    with as_partnership(tenant):
        agreement.refresh_from_db()
    assert agreement.status == SlaStatus.DRAFT


@pytest.mark.parametrize(
    "overrides",
    [
        {"reviewed_on": (TODAY + datetime.timedelta(days=2)).isoformat()},
        {"reviewed_on": (TODAY - datetime.timedelta(days=400)).isoformat()},
        {"reflects_vision": "9"},
        {"academic_year": "1900"},
    ],
)
def test_bad_reviews_are_refused(client, tenant, overrides):
    agreement = make_agreement(tenant)
    lead = sign_in(client, tenant.users["partnership_lead"], tenant.memberships["partnership_lead"])
    response = lead.post(f"/schools/agreements/{agreement.pk}/reviews/new/", review_body(**overrides))
    assert response.status_code == 400
    with as_partnership(tenant):
        assert not SlaReview.objects.exists()


@pytest.mark.parametrize("role", ["provision_lead", "la_officer"])
def test_provision_lead_and_la_officer_read_but_do_not_write(client, tenant, role):
    agreement = make_agreement(tenant)
    reader = sign_in(client, tenant.users[role], tenant.memberships[role])
    assert b"Alpha Bridge" in reader.get("/schools/agreements/").content
    page = reader.get(f"/schools/agreements/{agreement.pk}/")
    assert page.status_code == 200 and b"Change the agreement" not in page.content
    assert reader.post(f"/schools/agreements/{agreement.pk}/edit/", agreement_body()).status_code == 403
    assert reader.post(f"/schools/agreements/{agreement.pk}/agree/").status_code == 403
    assert reader.post(f"/schools/agreements/{agreement.pk}/reviews/new/", review_body()).status_code == 403
    with as_partnership(tenant):
        agreement.refresh_from_db()
        assert agreement.status == SlaStatus.DRAFT and not SlaReview.objects.exists()


@pytest.mark.parametrize("role", ["senco", "practitioner", "headteacher", "la_admin", "platform_admin"])
def test_other_roles_are_refused(client, tenant, role):
    agreement = make_agreement(tenant)
    member = sign_in(client, tenant.users[role], tenant.memberships[role])
    assert member.get("/schools/agreements/").status_code == 403
    assert member.get(f"/schools/agreements/{agreement.pk}/").status_code == 403
    assert member.get(f"/schools/partnerships/{tenant.partnership.pk}/report/").status_code == 403
    assert (
        member.post(
            f"/schools/partnerships/{tenant.partnership.pk}/report/summary/",
            {"summary-text": "x", "year": YEAR},
        ).status_code
        == 403
    )


@pytest.mark.parametrize("role", ["partnership_lead", "la_officer", "provision_lead"])
def test_another_partnerships_records_are_not_found(client, tenant, other, role):
    theirs = make_agreement(other)
    member = sign_in(client, tenant.users[role], tenant.memberships[role])
    assert member.get(f"/schools/agreements/{theirs.pk}/").status_code == 404
    assert b"Zulu" not in member.get("/schools/agreements/").content
    if role != "provision_lead":
        assert member.get(f"/schools/partnerships/{other.partnership.pk}/report/").status_code == 404
    if role == "partnership_lead":
        assert member.post(f"/schools/agreements/{theirs.pk}/edit/", agreement_body()).status_code == 404
        assert member.get(f"/schools/provisions/{other.provision.pk}/agreements/new/").status_code == 404
        member.post(f"/schools/partnerships/{other.partnership.pk}/report/summary/", {"summary-text": "x"})
        with as_partnership(other):
            assert not ReportNarrative.objects.exists()


def test_the_neighbouring_partnership_in_the_same_la_is_out_of_reach_of_the_lead(client, tenant):
    east = tenant.neighbour.partnership
    lead = sign_in(client, tenant.users["partnership_lead"], tenant.memberships["partnership_lead"])
    assert lead.get(f"/schools/partnerships/{east.pk}/report/").status_code == 404
    officer = sign_in(client, tenant.users["la_officer"], tenant.memberships["la_officer"])
    assert officer.get(f"/schools/partnerships/{east.pk}/report/").status_code == 200


def test_narratives_are_saved_as_drafts_then_marked_final(client, tenant):
    lead = sign_in(client, tenant.users["partnership_lead"], tenant.memberships["partnership_lead"])
    assert lead.get("/schools/report/").status_code == 200  # the lead's own report, in place
    url = f"/schools/partnerships/{tenant.partnership.pk}/report/summary/"
    assert lead.post(url, {"summary-text": "First go", "year": YEAR, "action": "draft"}).status_code == 302
    assert lead.post(url, {"summary-text": "Better", "year": YEAR, "action": "final"}).status_code == 302
    # An empty section cannot be final.
    lead.post(
        f"/schools/partnerships/{tenant.partnership.pk}/report/contingency/",
        {"contingency-text": " ", "year": YEAR, "action": "final"},
    )
    with as_partnership(tenant):
        rows = list(ReportNarrative.objects.values_list("section", "text", "status", "academic_year"))
    assert rows == [("summary", "Better", NarrativeStatus.FINAL, YEAR)]
    assert lead.post(f"/schools/partnerships/{tenant.partnership.pk}/report/nonsense/", {}).status_code == 404
    officer = sign_in(client, tenant.users["la_officer"], tenant.memberships["la_officer"])
    page = officer.get(f"/schools/partnerships/{tenant.partnership.pk}/report/?year={YEAR}")
    assert page.status_code == 200 and b"Better" in page.content and b"Mark final" not in page.content
    assert officer.post(url, {"summary-text": "Mine", "year": YEAR}).status_code == 403
    assert officer.get(f"/schools/partnerships/{tenant.partnership.pk}/report/?year=abc").status_code == 404
    events = audit_rows(tenant, object_type="schools.reportnarrative")
    assert [(e.action, e.detail["status"]) for e in events] == [("create", "draft"), ("update", "final")]


def test_review_due_and_overdue():
    agreement = ServiceLevelAgreement(starts_on=TODAY, review_on=TODAY + datetime.timedelta(days=10))
    assert review_state(agreement, TODAY).label == "Due"
    assert review_state(agreement, TODAY + datetime.timedelta(days=11)).label == "Overdue"
    assert review_state(agreement, TODAY - datetime.timedelta(days=60)).label == "Not yet due"


def test_the_database_refuses_a_review_date_before_the_start(tenant):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        make_agreement(tenant, review_on=TODAY - datetime.timedelta(days=100))


def count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_pages_use_the_same_queries_however_many_records(client, tenant):
    make_agreement(tenant)
    lead = sign_in(client, tenant.users["partnership_lead"], tenant.memberships["partnership_lead"])
    report = f"/schools/partnerships/{tenant.partnership.pk}/report/?year={YEAR}"
    small = (count(lead, "/schools/agreements/"), count(lead, report))
    for i in range(5):
        agreement = make_agreement(tenant, starts_on=TODAY - datetime.timedelta(days=40 + i))
        with as_partnership(tenant):
            SlaReview.objects.create(
                partnership=tenant.partnership,
                agreement=agreement,
                academic_year=YEAR,
                reviewed_on=TODAY,
                respondent="x",
                reflects_vision=3,
                reflects_provision=3,
                reflects_practice=3,
                recorded_by=tenant.users["partnership_lead"],
            )
    for section in ("summary", "evaluation", "contingency"):
        lead.post(
            f"/schools/partnerships/{tenant.partnership.pk}/report/{section}/",
            {f"{section}-text": "Words", "year": YEAR},
        )
    lead.get(report)  # shows (and clears) the "saved" messages, which cost a session write
    assert (count(lead, "/schools/agreements/"), count(lead, report)) == small


def test_the_demo_seed_is_idempotent(db):
    from schools.demo import seed_organisations
    from schools.demo_partnership import seed_partnership_records

    with transaction.atomic():
        world = seed_organisations()
    first = seed_partnership_records(world)
    again = seed_partnership_records(world)
    assert first.pk == again.pk and first.status == SlaStatus.AGREED
    with (
        transaction.atomic(),
        tenant_scope(TenantScope.system(partnerships=[world.provision.partnership_id])),
    ):
        assert SlaReview.objects.count() == 1
        assert ReportNarrative.objects.filter(status="draft").count() == 3
