"""Pupil grants: a behaviour provision reads a placed pupil only while the placement runs;
a transfer gives the receiving school the whole history and leaves the sending school what
it recorded. Checked through the pages (the ORM wall) and raw SQL as the app role (the
database wall)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from interventions.models import ProvisionPlacement
from interventions.placements import placement_end, placement_refer, placement_start
from pupils.codes import SenStatus
from pupils.models import Pupil, SenStatusChange
from pupils.transfers import transfer_pupil
from schools.memberships import memberships_of
from schools.models import PupilGrant
from schools.scopes import scope_for_membership
from schools.tenancy import TenantScope, tenant_scope
from tests.conftest import sign_in

TODAY = timezone.localdate()


def _refer(tenant, pupil, **extra):
    values = {
        "provision": tenant.provision,
        "referred_on": TODAY - timedelta(days=20),
        "referral_reason": "Three fixed-term suspensions this term despite a step 4 plan.",
        "consent_on": TODAY - timedelta(days=21),
        "consent_note": "Mother, signed form",
        "pattern": "part_time",
        "days_per_week": Decimal(2),
    }
    values.update(extra)
    return placement_refer(None, pupil, **values)


def _as_school(school):
    return tenant_scope(TenantScope.for_school(school.pk, la_id=school.local_authority_id))


def _lead_scope(tenant) -> TenantScope:
    [membership] = [m for m in memberships_of(tenant.users["provision_lead"]) if m.role == "provision_lead"]
    return scope_for_membership(membership)


def _pupil_ids_seen_by_database(scope: TenantScope) -> set[int]:
    with transaction.atomic(), tenant_scope(scope), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM pupils_pupil")
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def placed(tenant):
    """A pupil of school A referred to the partnership's provision (hosted by the sibling)."""
    pupil = tenant.pupils[0]
    with transaction.atomic(), _as_school(tenant.school):
        placement = _refer(tenant, pupil)
    return pupil, placement


def test_provision_reads_a_placed_pupil_only_while_the_placement_runs(client, tenant, placed):
    pupil, placement = placed
    lead = tenant.users["provision_lead"]
    sign_in(client, lead)
    url = f"/pupils/{pupil.pk}/"

    # Referred, not yet started: no access, in the pages or in the database.
    assert client.get(url).status_code == 404
    assert pupil.pk not in _pupil_ids_seen_by_database(_lead_scope(tenant))

    with transaction.atomic(), _as_school(tenant.school):
        placement_start(None, placement, TODAY - timedelta(days=10))
    page = client.get(url)
    assert page.status_code == 200 and pupil.last_name in page.content.decode()
    assert _pupil_ids_seen_by_database(_lead_scope(tenant)) == {pupil.pk}
    # Only that pupil: the host school's own pupils and the home school's others stay shut.
    assert client.get(f"/pupils/{tenant.pupils[1].pk}/").status_code == 404
    assert client.get(f"/pupils/{tenant.sibling_pupils[0].pk}/").status_code == 404

    with transaction.atomic(), _as_school(tenant.school):
        placement.refresh_from_db()
        placement_end(None, placement, ends_on=TODAY - timedelta(days=1), exit_outcome="returned")
    assert client.get(url).status_code == 404
    assert pupil.pk not in _pupil_ids_seen_by_database(_lead_scope(tenant))
    # The placement itself stays in the provision's history.
    with transaction.atomic(), tenant_scope(_lead_scope(tenant)):
        assert list(ProvisionPlacement.objects.values_list("pk", flat=True)) == [placement.pk]


def test_home_school_keeps_full_access_throughout(client, tenant, placed):
    pupil, placement = placed
    with transaction.atomic(), _as_school(tenant.school):
        placement_start(None, placement, TODAY - timedelta(days=5))
    sign_in(client, tenant.users["senco"])
    assert client.get(f"/pupils/{pupil.pk}/").status_code == 200


def test_grant_rows_cannot_be_written_for_another_schools_records(tenant):
    pupil = tenant.pupils[0]
    # The database refuses (row-level security), whatever the ORM would let through.
    with transaction.atomic(), _as_school(tenant.neighbour), pytest.raises(DatabaseError):  # noqa: SIM117
        with transaction.atomic():
            PupilGrant.objects.create(
                pupil_id=pupil.pk,
                school=tenant.neighbour,
                records_school=tenant.school,
                kind="record",
                reason="transfer_in",
                source_id=0,
                starts_on=TODAY,
            )
    assert not PupilGrant.objects.exists()


def test_outside_key_stage_needs_a_recorded_meeting_and_is_flagged(tenant):
    tenant.provision.key_stages = "KS3,KS4"
    tenant.provision.save()
    pupil = tenant.pupils[0]  # year 5: key stage 2
    with transaction.atomic(), _as_school(tenant.school):
        with pytest.raises(ValidationError) as refused:
            _refer(tenant, pupil)
        assert "multidisciplinary meeting" in str(refused.value)
        placement = _refer(
            tenant, pupil, mdt_meeting_on=TODAY - timedelta(days=25), mdt_note="Agreed by the panel."
        )
    assert placement.outside_key_stage is True


def test_pupil_with_an_ehc_plan_only_as_a_recorded_exception(tenant):
    pupil = tenant.pupils[1]
    with transaction.atomic(), _as_school(tenant.school):
        Pupil.objects.filter(pk=pupil.pk).update(sen_status=SenStatus.EHC_PLAN, primary_need="SEMH")
        pupil.refresh_from_db()
        with pytest.raises(ValidationError) as refused:
            _refer(tenant, pupil)
        assert "EHC plan" in str(refused.value)
        placement = _refer(tenant, pupil, ehc_exception="Emergency annual review agreed a short placement.")
    assert placement.ehc_exception


def test_consent_is_required(tenant):
    with transaction.atomic(), _as_school(tenant.school), pytest.raises(ValidationError) as refused:
        _refer(tenant, tenant.pupils[0], consent_on=None)
    assert "consent" in str(refused.value)


def test_pupil_from_outside_the_partnership_is_refused(tenant):
    with transaction.atomic(), _as_school(tenant.neighbour), pytest.raises(ValidationError) as refused:
        _refer(tenant, tenant.neighbour_pupils[0])
    assert "partnership" in str(refused.value)


def test_transfer_gives_the_receiving_school_the_history_and_leaves_the_sender_its_records(client, tenant):
    pupil = tenant.pupils[0]
    with transaction.atomic(), _as_school(tenant.school):
        recorded = SenStatusChange.objects.create(
            school=tenant.school, pupil=pupil, status="K", primary_need="SEMH", start_date=TODAY
        )
        transfer_pupil(None, pupil, to_school=tenant.sibling, reason="transition", transferred_on=TODAY)

    # The receiving school: the pupil is on its register with the sending school's record.
    receiving = TenantScope.for_school(tenant.sibling.pk)
    with (
        transaction.atomic(),
        tenant_scope(
            TenantScope(
                role="senco",
                read_school=receiving.read_school,
                write_school=receiving.write_school,
                read_pupil=frozenset({pupil.pk}),
                read_pairs=frozenset({(pupil.pk, tenant.school.pk)}),
                grant_school=frozenset({tenant.school.pk}),
                pupil_level=True,
            )
        ),
    ):
        assert Pupil.objects.get(pk=pupil.pk).school_id == tenant.sibling.pk
        assert SenStatusChange.objects.filter(pk=recorded.pk).exists()
        # Read, never changed: the row is the sending school's.
        row = SenStatusChange.objects.get(pk=recorded.pk)
        with pytest.raises(PermissionDenied):
            row.save()

    # Through the app's own scopes (grants read with the memberships).
    sibling_senco = _senco_of(tenant.sibling)
    sign_in(client, sibling_senco)
    assert client.get(f"/pupils/{pupil.pk}/").status_code == 200
    sign_in(client, tenant.users["senco"])
    # The sender: off its register and its pupil pages, but its own rows stay readable.
    assert client.get(f"/pupils/{pupil.pk}/").status_code == 404
    [membership] = [m for m in memberships_of(tenant.users["senco"]) if m.role == "senco"]
    scope = scope_for_membership(membership)
    assert pupil.pk in scope.name_pupil
    with transaction.atomic(), tenant_scope(scope):
        assert SenStatusChange.objects.filter(pk=recorded.pk).exists()
        assert Pupil.objects.filter(pk=pupil.pk).exists()  # the name beside its records
    # A school outside the transfer sees nothing of the pupil.
    assert pupil.pk not in _pupil_ids_seen_by_database(TenantScope.for_school(tenant.neighbour.pk))


def test_transfer_to_another_la_is_refused(tenant, other):
    with transaction.atomic(), _as_school(tenant.school), pytest.raises(ValidationError) as refused:
        transfer_pupil(
            None, tenant.pupils[0], to_school=other.school, reason="moving_home", transferred_on=TODAY
        )
    assert "another local authority" in str(refused.value)


def _senco_of(school):
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory(username=f"senco-{school.pk}")
    MembershipFactory(user=user, role="senco", school=school)
    return user


def test_access_ends_the_moment_the_placement_is_ended(client, tenant, placed):
    pupil, placement = placed
    with transaction.atomic(), _as_school(tenant.school):
        placement_start(None, placement, TODAY - timedelta(days=3))
    sign_in(client, tenant.users["provision_lead"])
    assert client.get(f"/pupils/{pupil.pk}/").status_code == 200
    with transaction.atomic(), _as_school(tenant.school):
        placement.refresh_from_db()
        placement_end(None, placement, ends_on=TODAY, exit_outcome="returned")  # ended today
    assert client.get(f"/pupils/{pupil.pk}/").status_code == 404
    assert pupil.pk not in _pupil_ids_seen_by_database(_lead_scope(tenant))


def test_provision_staff_see_what_the_placement_needs_not_the_census_extras(client, tenant, placed):
    pupil, placement = placed
    with transaction.atomic(), _as_school(tenant.school):
        placement_start(None, placement, TODAY - timedelta(days=3))
    sign_in(client, tenant.users["provision_lead"])
    page = client.get(f"/pupils/{pupil.pk}/").content.decode()
    assert pupil.upn in page
    assert "Free school meals" not in page and "Ethnicity" not in page and "Pupil premium" not in page
    data = client.get(f"/api/v1/pupils/{pupil.pk}/").json()
    assert data["upn"] == pupil.upn
    assert not {"ethnicity", "fsm", "pupil_premium"} & set(data)
    # The home school sees them.
    sign_in(client, tenant.users["senco"])
    assert "Free school meals" in client.get(f"/pupils/{pupil.pk}/").content.decode()


def test_a_school_cannot_grant_itself_a_pupil_it_never_had(tenant, other):
    """The database takes a grant only as the record of a real placement or transfer."""
    stranger = other.pupils[0]
    with transaction.atomic(), _as_school(tenant.school), pytest.raises(DatabaseError):  # noqa: SIM117
        with transaction.atomic():
            for kind, reason in (("name", "transferred_out"), ("record", "transfer_in")):
                PupilGrant.objects.create(
                    pupil_id=stranger.pk,
                    school=tenant.school,
                    records_school=tenant.school,
                    kind=kind,
                    reason=reason,
                    source_id=0,
                    starts_on=TODAY,
                )
    assert not PupilGrant.objects.exists()


def test_starting_twice_at_once_leaves_one_grant_and_ending_closes_it(client, tenant, placed):
    pupil, placement = placed
    with transaction.atomic(), _as_school(tenant.school):
        stale_copy = ProvisionPlacement.objects.get(pk=placement.pk)
        placement_start(None, placement, TODAY - timedelta(days=4))
        with pytest.raises(ValidationError):
            placement_start(None, stale_copy, TODAY - timedelta(days=3))  # the second click
        placement_end(None, placement, ends_on=TODAY - timedelta(days=1), exit_outcome="returned")
    assert PupilGrant.objects.count() == 1
    assert PupilGrant.objects.get().ends_on is not None
    sign_in(client, tenant.users["provision_lead"])
    assert client.get(f"/pupils/{pupil.pk}/").status_code == 404


def test_the_provision_cannot_hand_a_placement_to_another_pupil(tenant, other, placed):
    _, placement = placed
    with transaction.atomic(), _as_school(tenant.school):
        placement_start(None, placement, TODAY - timedelta(days=2))
    with transaction.atomic(), tenant_scope(_lead_scope(tenant)), pytest.raises(DatabaseError):  # noqa: SIM117
        with transaction.atomic():
            ProvisionPlacement.objects.filter(pk=placement.pk).update(pupil_id=other.pupils[0].pk)


def test_the_register_shows_provision_staff_no_fsm_or_pupil_premium(client, tenant, placed):
    pupil, placement = placed
    with transaction.atomic(), _as_school(tenant.school):
        placement_start(None, placement, TODAY - timedelta(days=2))
    sign_in(client, tenant.users["provision_lead"])
    for response in (client.get("/pupils/"), client.post("/pupils/", {"q": ""})):
        page = response.content.decode()
        assert pupil.last_name in page
        assert "Free school meals" not in page and "Pupil premium" not in page


def test_changing_a_row_the_sending_school_recorded_is_refused_and_logged(client, tenant):
    from pupils.models import OutcomeRecord
    from schools.models import AuditEvent

    pupil = tenant.pupils[0]
    with transaction.atomic(), _as_school(tenant.school):
        OutcomeRecord.objects.create(
            school=tenant.school, pupil=pupil, academic_year=2025, term="autumn", attendance_pct=Decimal(91)
        )
        transfer_pupil(None, pupil, to_school=tenant.sibling, reason="transition", transferred_on=TODAY)
    sign_in(client, _senco_of(tenant.sibling))
    response = client.post(
        f"/api/v1/pupils/{pupil.pk}/outcomes/",
        {"academic_year": 2025, "term": "autumn", "attendance_pct": "50.0"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "another school" in response.json()["detail"]
    with transaction.atomic(), _as_school(tenant.school):
        assert OutcomeRecord.objects.get(pupil=pupil).attendance_pct == Decimal(91)
        refused = AuditEvent.objects.filter(action="denied", object_type="pupils.outcomerecord")
        assert refused.count() == 1
