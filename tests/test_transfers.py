"""Transfers between schools, through the pages and the API as the people who use them.

A pupil of school A with a whole history (steps and strategies, a plan with a review, an
intervention with sessions, an ended placement in a behaviour provision, observations,
outcomes) is transferred by A's SENCO to A's sibling school B. Then: B sees all of it and
carries on; B cannot change what A recorded; A loses the pupil from its register and pages
but keeps a read-only view of what it recorded, and nothing B adds; both sides are audited;
a transfer that must not happen is refused with a message and changes nothing.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from graduated_response.models import SupportPlan
from graduated_response.observations import observation_record
from graduated_response.placements import step_place, strategy_tried_record
from graduated_response.plans import TargetInput, plan_create, plan_review_record
from interventions import services as interventions
from interventions.models import Enrolment
from interventions.placements import placement_end, placement_refer, placement_start
from pupils.models import OutcomeRecord, Pupil, Transfer
from schools.models import AuditEvent, PupilGrant, Role
from schools.tenancy import TenantScope, tenant_scope
from tests.conftest import sign_in
from tests.factories import MembershipFactory, PupilFactory, UserFactory
from tests.test_interventions import enrol, make_group
from tests.test_placements import nw, school_scope  # noqa: F401  (nw is a fixture)

TODAY = timezone.localdate()
EARLIER = TODAY - timedelta(days=60)


def member(school, role: str = Role.SENCO):
    user = UserFactory(username=f"{role}-{school.pk}")
    return user, MembershipFactory(user=user, role=role, school=school)


def as_school(school):
    return tenant_scope(TenantScope.for_school(school.pk, la_id=school.local_authority_id))


def text(response) -> str:
    return response.content.decode()


def transfer_in_browser(client, pupil, to_school, **extra):
    body = {"to_school": to_school.pk, "reason": "transition", "transferred_on": TODAY.isoformat(), **extra}
    return client.post(f"/pupils/{pupil.pk}/transfer/", body)


def api_transfer(client, pupil, to_school, **extra):
    body = {"pupil": pupil.pk, "to_school": to_school, "reason": "managed_move", **extra}
    return client.post("/api/v1/transfers/", body, content_type="application/json")


def new_plan(client, pupil):
    """The receiving school's own plan for the pupil, made through the API; the answer."""
    plan = {
        "pupil": pupil.pk,
        "title": "Settling at secondary",
        "starts_on": TODAY.isoformat(),
        "targets": [{"description": "Uses the quiet room", "success_criteria": "Twice a week"}],
    }
    return client.post("/api/v1/support-plans/", plan, content_type="application/json")


def ended_placement(pupil, provision):
    """A placement at the provision, referred, started and ended in the last three weeks (in
    the active scope), so the pupil has a whole placement's rows."""
    placement = placement_refer(
        None,
        pupil,
        provision=provision,
        referred_on=TODAY - timedelta(days=20),
        referral_reason="Suspensions despite the plan",
        consent_on=TODAY - timedelta(days=21),
        consent_note="Mother, signed form",
        pattern="part_time",
        days_per_week=Decimal(2),
    )
    placement_start(None, placement, TODAY - timedelta(days=15))
    placement.refresh_from_db()
    placement_end(None, placement, ends_on=TODAY - timedelta(days=5), exit_outcome="returned")
    return placement


@pytest.fixture
def history(tenant, nw):  # noqa: F811
    """Everything school A records about its first pupil before the transfer."""
    pupil = tenant.pupils[0]
    with transaction.atomic(), school_scope(tenant):
        step_place(request=None, pupil=pupil, step=nw[2], reason="Concerns at lunchtime", placed_on=EARLIER)
        catalogue = list(nw[2].strategies.order_by("order", "id")[:2])
        for strategy in catalogue:  # enough, reviewed, for the step's rule
            strategy_tried_record(
                request=None,
                pupil=pupil,
                step=nw[2],
                strategy=strategy,
                started_on=EARLIER,
                reviewed_on=EARLIER + timedelta(days=30),
                outcome="Helped",
            )
        unreviewed = strategy_tried_record(
            request=None, pupil=pupil, step=nw[2], name="Movement breaks", started_on=EARLIER
        )
        plan = plan_create(
            request=None,
            pupil=pupil,
            data={"title": "Calmer lunchtimes"},
            starts_on=EARLIER + timedelta(days=1),
            targets=[TargetInput(description="Joins a lunchtime club", success_criteria="3 days a week")],
        )
        target = plan.targets.get()
        plan_review_record(
            request=None,
            plan=plan,
            reviewed_on=TODAY - timedelta(days=10),
            decision="continue",
            outcomes={target.pk: ("achieved", "")},
        )
        observation_record(
            request=None,
            pupil=pupil,
            observed_at=timezone.now() - timedelta(days=2),
            setting="lesson",
            behaviour="Left the room",
            intensity=3,
        )
        outcome = OutcomeRecord.objects.create(
            school=tenant.school, pupil=pupil, academic_year=2024, term="summer", attendance_pct=Decimal(91)
        )
    group = make_group(tenant, name="Lunchtime Lego")
    enrolment = enrol(tenant, group, pupil)
    with transaction.atomic(), school_scope(tenant):
        interventions.session_record(
            request=None, group=group, held_on=TODAY, marks={enrolment.pk: interventions.Mark(present=True)}
        )
        ended_placement(pupil, tenant.provision)
    return {
        "pupil": pupil,
        "plan": plan,
        "unreviewed": unreviewed,
        "enrolment": enrolment,
        "outcome": outcome,
    }


@pytest.fixture
def sender(client, tenant):
    return sign_in(client, tenant.users["senco"], tenant.memberships["senco"])


@pytest.fixture
def moved(client, tenant, history):
    """The pupil transferred by A's SENCO, in the browser, to the sibling school B."""
    sign_in(client, tenant.users["senco"], tenant.memberships["senco"])
    response = transfer_in_browser(client, history["pupil"], tenant.sibling, note="Loves Lego.")
    assert response.status_code == 302, text(response)
    with transaction.atomic(), as_school(tenant.school):
        transfer = Transfer.objects.get()
    assert response["Location"] == f"/transfers/{transfer.pk}/"
    return {**history, "transfer": transfer}


def receiving(client, tenant):
    user, membership = member(tenant.sibling)
    return sign_in(client, user, membership)


# --- the sending SENCO's form -----------------------------------------------------------------


def test_the_pupil_page_offers_the_transfer_and_the_form_explains_it(sender, tenant, history):
    pupil = history["pupil"]
    page = text(sender.get(f"/pupils/{pupil.pk}/"))
    assert f'href="/pupils/{pupil.pk}/transfer/"' in page and "Transfer to another school" in page
    form = sender.get(f"/pupils/{pupil.pk}/transfer/")
    assert form.status_code == 200
    html = text(form)
    # The LA's other schools, with their URNs; never the school itself or another LA's.
    assert f"{tenant.sibling.name} (URN {tenant.sibling.urn})" in html
    assert tenant.neighbour.name in html
    assert f"{tenant.school.name} (URN" not in html
    assert "history goes with the pupil" in html.lower() or "whole history" in html
    assert "keeps read access to what it recorded" in html
    assert "Open support plans close" in html and "intervention groups end" in html
    assert "current step carries on" in html
    assert f'value="{TODAY.isoformat()}"' in html  # the date defaults to today


def test_practitioners_and_other_roles_cannot_transfer(client, tenant, history):
    pupil = history["pupil"]
    for role in ("practitioner", "provision_lead", "partnership_lead", "la_officer"):
        sign_in(client, tenant.users[role], tenant.memberships[role])
        assert client.get(f"/pupils/{pupil.pk}/transfer/").status_code == 403, role
        assert transfer_in_browser(client, pupil, tenant.sibling).status_code == 403, role
        assert client.get("/transfers/").status_code == 403, role
        assert api_transfer(client, pupil, tenant.sibling.pk).status_code == 403, role
        assert client.get("/api/v1/transfers/").status_code == 403, role
    with transaction.atomic(), as_school(tenant.school):
        assert not Transfer.objects.exists()
        assert Pupil.objects.filter(pk=pupil.pk).exists()


def test_errors_show_beside_the_fields_and_change_nothing(sender, tenant, history):
    pupil = history["pupil"]
    future = (TODAY + timedelta(days=3)).isoformat()
    response = transfer_in_browser(sender, pupil, tenant.sibling, transferred_on=future, reason="")
    assert response.status_code == 400
    html = text(response)
    assert "There is a problem" in html
    assert "Choose why the pupil is moving." in html
    # The future date is the service's rule: the form passes it, the reason stops it first.
    response = transfer_in_browser(sender, pupil, tenant.sibling, transferred_on=future)
    assert response.status_code == 400
    assert "on the day the pupil moves" in text(response)
    # A school of another LA (or the pupil's own) is not on the list.
    response = transfer_in_browser(sender, pupil, tenant.school)
    assert response.status_code == 400 and "Choose one of the listed schools" in text(response)
    with transaction.atomic(), as_school(tenant.school):
        assert not Transfer.objects.exists()
        assert Pupil.objects.get(pk=pupil.pk).school_id == tenant.school.pk
        assert SupportPlan.objects.get(pk=history["plan"].pk).status == "open"
    assert not PupilGrant.objects.exclude(reason="placement").exists()


# --- the receiving school ---------------------------------------------------------------------


def test_the_receiving_school_sees_the_whole_history(client, tenant, moved):
    pupil = moved["pupil"]
    senco = receiving(client, tenant)
    page = senco.get(f"/pupils/{pupil.pk}/")
    assert page.status_code == 200
    html = text(page)
    date = f"{TODAY.day} {TODAY:%B %Y}"
    assert f"Transferred from {tenant.school.name} on {date}" in html
    assert "Transition to the next phase" in html and "Loves Lego." in html
    assert f"Carried on from {tenant.school.name} on transfer." in html  # the step, carried on
    assert "Concerns at lunchtime" in html  # A's placement on the step
    assert "Movement breaks" in html  # a strategy tried at A
    assert "Calmer lunchtimes" in html and f"Closed {TODAY.day} {TODAY:%b %Y}" in html
    assert "Lunchtime Lego" in html and "% of 1" in html  # the group, its session
    assert tenant.provision.name in html and "Returned to the home school" in html
    assert "1 observation in the last 4 weeks" in html
    assert "Summer" in html and "91%" in html  # outcomes A recorded
    assert f'href="/pupils/{pupil.pk}/transfer/"' in html  # B may send the pupil on in turn

    timeline = text(senco.get(f"/pupils/{pupil.pk}/timeline/"))
    for event in (
        "Placed on step 2",
        "SEN support plan made at step 2: Calmer lunchtimes",
        "Plan reviewed: Calmer lunchtimes",
        "Strategy tried at step 2: Movement breaks",
        "Joined the group Lunchtime Lego",
        f"Placement at {tenant.provision.name} ended",
        "1 behaviour observation in",
    ):
        assert event in timeline, event

    # And on its register, in the browser and the API.
    assert pupil.last_name in text(senco.post("/pupils/", {}))
    assert senco.get(f"/api/v1/pupils/{pupil.pk}/").json()["school"] == tenant.sibling.pk


def test_the_receiving_school_carries_on_the_step_and_makes_a_new_plan(client, tenant, moved, nw):  # noqa: F811
    pupil = moved["pupil"]
    senco = receiving(client, tenant)
    steps = senco.get(f"/api/v1/pupils/{pupil.pk}/steps/").json()
    assert [(s["step_number"], s["status"]) for s in steps if s["status"] == "active"] == [(2, "active")]
    # Moving up counts the strategies A tried and reviewed: the rule is met, no override.
    body = {"step": nw[3].pk, "reason": "Review at the new school", "placed_on": TODAY.isoformat()}
    moved_up = senco.post(f"/api/v1/pupils/{pupil.pk}/steps/", body, content_type="application/json")
    assert moved_up.status_code == 201, moved_up.content
    assert moved_up.json()["status"] == "active"
    made = new_plan(senco, pupil)
    assert made.status_code == 201, made.content
    page = text(senco.get(f"/pupils/{pupil.pk}/"))
    assert "Settling at secondary" in page and "Calmer lunchtimes" in page


def test_the_receiving_school_cannot_change_what_the_sender_recorded(client, tenant, moved):
    pupil = moved["pupil"]
    senco = receiving(client, tenant)
    # The term A recorded: recording it again would change A's row.
    body = {
        "outcome-academic_year": 2024,
        "outcome-term": "summer",
        "outcome-attendance_pct": "50",
        "outcome-suspensions": 0,
        "outcome-suspension_days": 0,
    }
    refused = senco.post(f"/pupils/{pupil.pk}/outcomes/", body)
    assert refused.status_code == 403
    assert "recorded by another school or service: you can read it but not change it" in text(refused)
    # A strategy A tried and never reviewed: its page offers no review, and a review posted
    # anyway is refused (B records its own strategies at the step it carried on).
    tried = moved["unreviewed"]
    assert f"/strategies/{tried.pk}/review/" not in text(senco.get(f"/pupils/{pupil.pk}/"))
    url = f"/pupils/{pupil.pk}/strategies/{tried.pk}/review/"
    refused = senco.post(url, {"reviewed_on": TODAY.isoformat(), "outcome": "Went well"})
    assert refused.status_code == 403
    assert "you can read it but not change it" in text(refused)
    # A's plan (closed by the transfer), changed through the API.
    patched = senco.patch(
        f"/api/v1/support-plans/{moved['plan'].pk}/", {"title": "Renamed"}, content_type="application/json"
    )
    assert patched.status_code == 403 and "not change it" in patched.json()["detail"]
    with transaction.atomic(), as_school(tenant.school):
        assert SupportPlan.objects.get(pk=moved["plan"].pk).title == "Calmer lunchtimes"
        assert OutcomeRecord.objects.get(pk=moved["outcome"].pk).attendance_pct == Decimal(91)
        tried.refresh_from_db()
        assert tried.reviewed_on is None and tried.outcome == ""


# --- the sending school -----------------------------------------------------------------------


def test_the_sender_loses_the_pupil_but_reads_what_it_recorded(client, tenant, moved):
    pupil, transfer = moved["pupil"], moved["transfer"]
    # The receiving school adds to the history afterwards.
    senco_b = receiving(client, tenant)
    senco_b.post(
        "/api/v1/observations/",
        {
            "pupil": pupil.pk,
            "observed_at": timezone.now().isoformat(),
            "setting": "corridor",
            "behaviour": "Ran off",
            "intensity": 4,
        },
        content_type="application/json",
    )
    assert new_plan(senco_b, pupil).status_code == 201

    sender = sign_in(client, tenant.users["senco"], tenant.memberships["senco"])
    assert pupil.last_name not in text(sender.post("/pupils/", {}))
    assert sender.get("/api/v1/pupils/").json()["count"] == len(tenant.pupils) - 1
    for url in (
        f"/pupils/{pupil.pk}/",
        f"/pupils/{pupil.pk}/print/",
        f"/pupils/{pupil.pk}/timeline/",
        f"/pupils/{pupil.pk}/transfer/",
        f"/pupils/{pupil.pk}/plans/{moved['plan'].pk}/",
        f"/api/v1/pupils/{pupil.pk}/",
    ):
        assert sender.get(url).status_code == 404, url

    listed = text(sender.get("/transfers/"))
    assert f'href="/transfers/{transfer.pk}/"' in listed and pupil.last_name in listed
    page = sender.get(f"/transfers/{transfer.pk}/")
    assert page.status_code == 200
    html = text(page)
    assert pupil.upn in html and pupil.last_name in html
    assert tenant.sibling.name in html and "Loves Lego." in html
    # What A recorded: the step, the strategies, the plan (closed), the group, the
    # placement, the observation count, the outcomes.
    for recorded in (
        "Concerns at lunchtime",
        "Movement breaks",
        "Calmer lunchtimes",
        "Lunchtime Lego",
        tenant.provision.name,
        "1 observation in the last 4 weeks",
        "91%",
    ):
        assert recorded in html, recorded
    # Nothing B recorded afterwards: its carried-on step, its plan, its observation.
    assert "Carried on from" not in html
    assert "Settling at secondary" not in html
    assert "2 observations" not in html
    # Read-only: no form and no link that changes anything.
    assert "<form" not in html.split('id="main"')[-1].split("</main>")[0]
    for write_link in (
        "/edit/",
        "/step/",
        "/strategies/",
        "/plans/",
        "/profile/",
        "/observations/",
        "/refer",
    ):
        assert f"/pupils/{pupil.pk}{write_link}" not in html, write_link
    assert "Mark reviewed" not in html and "Make a support plan" not in html


def test_what_the_transfer_closes_and_ends_at_the_sender(tenant, moved):
    with transaction.atomic(), as_school(tenant.school):
        plan = SupportPlan.objects.get(pk=moved["plan"].pk)
        assert (plan.status, plan.closed_on) == ("closed", TODAY)
        assert Enrolment.objects.get(pk=moved["enrolment"].pk).ends_on == TODAY


def test_both_schools_audit_the_transfer_and_its_reads(client, tenant, moved):
    pupil, transfer = moved["pupil"], moved["transfer"]
    sender = sign_in(client, tenant.users["senco"], tenant.memberships["senco"])
    assert sender.get(f"/transfers/{transfer.pk}/").status_code == 200
    with transaction.atomic(), as_school(tenant.school):
        rows = AuditEvent.objects.filter(object_type="pupils.pupil", object_id=str(pupil.pk))
        assert rows.filter(action="update", detail__event="transferred_out").count() == 1
        read = rows.get(action="view", detail__page="transfer")
        assert (read.school_id, read.user_id) == (tenant.school.pk, tenant.users["senco"].pk)
        # Ids only: no name, no note.
        assert "Lego" not in str(read.detail) and pupil.last_name not in str(rows.values("detail"))
    with transaction.atomic(), as_school(tenant.sibling):
        received = AuditEvent.objects.get(object_id=str(pupil.pk), detail__event="received")
        assert (received.school_id, received.detail["from_school"]) == (tenant.sibling.pk, tenant.school.pk)


# --- refusals ---------------------------------------------------------------------------------


def test_a_pupil_of_another_school_is_a_404_in_the_browser_and_a_400_in_the_api(sender, tenant, other):
    for foreign in (tenant.sibling_pupils[0], other.pupils[0]):
        assert sender.get(f"/pupils/{foreign.pk}/transfer/").status_code == 404
        assert transfer_in_browser(sender, foreign, tenant.neighbour).status_code == 404
        refused = api_transfer(sender, foreign, tenant.neighbour.pk)
        assert refused.status_code == 400
        assert refused.json() == {"pupil": ["No pupil with this id is on your school's record."]}
    assert not PupilGrant.objects.exists()  # no transfer, so no grant


def test_another_la_a_current_placement_and_a_upn_already_there_are_refused(sender, tenant, other):
    first, second, third = tenant.pupils
    refused = api_transfer(sender, first, other.school.urn)
    assert refused.status_code == 400
    assert "another local authority" in refused.json()["to_school"][0]
    assert api_transfer(sender, first, "999999").json() == {"to_school": ["No school has this id or URN."]}

    with transaction.atomic(), school_scope(tenant):
        placement_refer(
            None,
            second,
            provision=tenant.provision,
            referred_on=TODAY,
            referral_reason="Suspensions",
            consent_on=TODAY,
            consent_note="Father, by phone",
            pattern="outreach",
            days_per_week=Decimal(1),
        )
    refused = transfer_in_browser(sender, second, tenant.sibling)
    assert refused.status_code == 400
    assert "current referral or placement at a behaviour provision" in text(refused)

    with transaction.atomic(), as_school(tenant.sibling):
        PupilFactory(school=tenant.sibling, upn=third.upn)
    refused = api_transfer(sender, third, tenant.sibling.urn)
    assert refused.status_code == 400
    assert f"already has a pupil with UPN {third.upn}" in refused.json()["to_school"][0]

    with transaction.atomic(), as_school(tenant.school):
        assert not Transfer.objects.exists()
        assert Pupil.objects.filter(school=tenant.school).count() == 3
    assert not PupilGrant.objects.filter(reason__startswith="transfer").exists()


def test_an_import_naming_a_pupil_sent_on_is_refused_with_a_message(sender, tenant, moved):
    pupil = moved["pupil"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["UPN", "Legal Surname", "Legal Forename", "DOB", "NC Year", "SEN Status"])
    writer.writerow(
        [pupil.upn, pupil.last_name, pupil.first_name, pupil.date_of_birth.strftime("%d/%m/%Y"), "6", "N"]
    )
    upload = io.BytesIO(out.getvalue().encode())
    upload.name = "pupils.csv"
    response = sender.post("/api/v1/pupils/import/", {"file": upload, "commit": "true"})
    assert response.status_code == 400
    problems = " ".join(response.json()["problems"])
    assert f"the pupil with UPN {pupil.upn} was transferred to another school" in problems
    with transaction.atomic(), as_school(tenant.school):
        assert not Pupil.objects.filter(school=tenant.school, upn=pupil.upn).exists()


# --- the API ----------------------------------------------------------------------------------


def test_the_api_transfers_lists_and_reads_in_both_directions(client, tenant, other, history):
    pupil = history["pupil"]
    sign_in(client, tenant.users["headteacher"], tenant.memberships["headteacher"])
    made = api_transfer(client, pupil, tenant.sibling.urn, note="Managed move agreed by both heads.")
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["pupil"], body["from_school"], body["to_school"], body["direction"]) == (
        pupil.pk,
        tenant.school.pk,
        tenant.sibling.pk,
        "out",
    )
    assert body["transferred_on"] == TODAY.isoformat() and body["reason"] == "managed_move"
    out = client.get("/api/v1/transfers/?direction=out").json()
    assert [t["id"] for t in out["results"]] == [body["id"]]
    assert client.get("/api/v1/transfers/?direction=in").json()["count"] == 0
    assert client.get(f"/api/v1/transfers/{body['id']}/").json()["note"] == body["note"]
    assert client.get("/api/v1/transfers/?direction=sideways").status_code == 400

    senco_b = receiving(client, tenant)
    both = senco_b.get("/api/v1/transfers/").json()
    assert [(t["id"], t["direction"]) for t in both["results"]] == [(body["id"], "in")]
    assert senco_b.get(f"/api/v1/transfers/{body['id']}/").status_code == 200
    with transaction.atomic(), as_school(tenant.sibling):
        listed = AuditEvent.objects.get(object_type="pupils.transfer", action="list")
        assert listed.detail["pupils"] == [pupil.pk]

    # Another LA's school sees nothing of it.
    sign_in(client, other.users["senco"], other.memberships["senco"])
    assert client.get("/api/v1/transfers/").json()["count"] == 0
    assert client.get(f"/api/v1/transfers/{body['id']}/").status_code == 404
    assert client.get(f"/transfers/{body['id']}/").status_code == 404


def test_a_chain_gives_the_last_school_the_records_of_every_earlier_one(client, tenant, moved, nw):  # noqa: F811
    pupil = moved["pupil"]
    senco_b = receiving(client, tenant)
    assert new_plan(senco_b, pupil).status_code == 201
    sent_on = api_transfer(senco_b, pupil, tenant.neighbour.pk)
    assert sent_on.status_code == 201, sent_on.content
    # B lost the pupil as A did, and keeps what it recorded.
    assert senco_b.get(f"/pupils/{pupil.pk}/").status_code == 404
    record_b = text(senco_b.get(f"/transfers/{sent_on.json()['id']}/"))
    assert "Settling at secondary" in record_b and "Calmer lunchtimes" not in record_b

    user_c, membership_c = member(tenant.neighbour)
    senco_c = sign_in(client, user_c, membership_c)
    page = text(senco_c.get(f"/pupils/{pupil.pk}/"))
    assert "Calmer lunchtimes" in page and "Settling at secondary" in page  # A's and B's plans
    assert "Lunchtime Lego" in page and tenant.provision.name in page
    assert f"Transferred from {tenant.sibling.name} on" in page
    assert f"Transferred from {tenant.school.name} to {tenant.sibling.name} on" in page
    timeline = text(senco_c.get(f"/pupils/{pupil.pk}/timeline/"))
    assert "Calmer lunchtimes" in timeline and "Settling at secondary" in timeline
    received = senco_c.get("/api/v1/transfers/?direction=in").json()
    assert [t["from_school"] for t in received["results"]] == [tenant.sibling.pk]


def test_the_transfers_list_costs_the_same_whatever_it_holds(client, tenant):
    sender = sign_in(client, tenant.users["senco"], tenant.memberships["senco"])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert sender.get("/transfers/").status_code == 200
        return len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]])

    assert transfer_in_browser(sender, tenant.pupils[0], tenant.sibling).status_code == 302
    sender.get("/transfers/")
    one = count()
    for pupil in tenant.pupils[1:]:
        assert transfer_in_browser(sender, pupil, tenant.neighbour).status_code == 302
    # And one received: the sibling school's SENCO sends a pupil to A.
    incoming = tenant.sibling_pupils[0]
    assert api_transfer(receiving(Client(), tenant), incoming, tenant.school.pk).status_code == 201
    html = text(sender.get("/transfers/"))
    assert incoming.last_name in html and tenant.pupils[2].last_name in html
    assert count() == one


# --- demo data --------------------------------------------------------------------------------


def test_the_demo_transfers_pupils_with_history_once(db):
    from django.core.management import call_command

    from graduated_response.models import BehaviourObservation
    from schools.models import School

    def state():
        call_command("seed_demo", "--json", stdout=io.StringIO())
        with (
            transaction.atomic(),
            tenant_scope(TenantScope.system(schools=School.objects.values_list("pk", flat=True))),
        ):
            transfers = list(Transfer.objects.values_list("pupil_id", "school_id", "to_school_id"))
            moved = [pupil for pupil, *_ in transfers]
            received = Q(pupil_id__in=moved, school_id__in=[to for *_, to in transfers])
            return {
                "transfers": transfers,
                "pupils": Pupil.objects.count(),
                "where": sorted(Pupil.objects.filter(pk__in=moved).values_list("pk", "school__urn")),
                "plans": SupportPlan.objects.filter(pupil_id__in=moved).count(),
                "plans_here": SupportPlan.objects.filter(received).count(),
                "observed_here": BehaviourObservation.objects.filter(received).count(),
            }

    first = state()
    assert sorted(school for _, school in first["where"]) == ["190003", "190004"]
    assert first["plans"] >= 1 and first["plans_here"] == first["observed_here"] == 0
    # A re-run makes no transfer, and nothing again: not the pupil at the school that sent
    # them, nor a plan or observations at the school that received them.
    assert state() == first
