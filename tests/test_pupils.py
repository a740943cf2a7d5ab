"""The pupil record: UPN check letter, census rules, the SEN register history."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from pupils import services
from pupils.codes import AREA_OF_NEED, AreaOfNeed, Need, lookup
from pupils.models import Pupil, SenStatusChange, validate_upn
from schools.models import AuditEvent


@pytest.mark.parametrize("upn", ["B801200005001", "b801200005001", " B801200005001 ", "A80120000501A"])
def test_valid_permanent_and_temporary_upns(upn):
    assert validate_upn(upn) == upn.strip().upper()


@pytest.mark.parametrize("upn", ["A801200005001", "B80120000500", "B80120000500X1", "", "B8012000050O1"])
def test_wrong_check_letter_or_shape_is_refused_with_the_reason(upn):
    with pytest.raises(ValidationError) as exc:
        validate_upn(upn)
    assert "not a valid UPN" in str(exc.value)


def test_every_need_has_an_area_and_the_semh_area_holds_semh():
    assert set(AREA_OF_NEED) == set(Need.values)
    assert AREA_OF_NEED[Need.SEMH] == AreaOfNeed.SEMH
    assert AREA_OF_NEED[Need.ASD] == AreaOfNeed.COMMUNICATION


@pytest.mark.parametrize(
    ("given", "code"),
    [("semh", "SEMH"), ("Social, emotional and mental health", "SEMH"), (" asd ", "ASD"), ("unknown", None)],
)
def test_codes_are_found_by_code_or_label_in_any_case(given, code):
    assert lookup(Need, given) == code


def pupil_data(**overrides):
    data = {
        "upn": "B801200005001",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": date(2016, 5, 1),
        "nc_year": 4,
        "sen_status": "K",
        "primary_need": "SEMH",
    }
    return {**data, **overrides}


def test_creating_a_pupil_starts_their_register_history_and_is_audited(tenant, as_school):
    with as_school(tenant.school):
        pupil = services.pupil_create(request=None, school=tenant.school, data=pupil_data())
        [entry] = SenStatusChange.objects.filter(pupil=pupil)
        assert (entry.status, entry.primary_need, entry.school_id) == ("K", "SEMH", tenant.school.pk)
        assert AuditEvent.objects.filter(action="create", object_id=str(pupil.pk)).count() == 1


def test_a_change_of_sen_status_appends_to_the_register(tenant, as_school):
    with as_school(tenant.school):
        pupil = services.pupil_create(
            request=None, school=tenant.school, data=pupil_data(), sen_start=date(2025, 9, 1)
        )
        changed = services.pupil_update(
            request=None,
            pupil=pupil,
            data={"sen_status": "E", "nc_year": 4},
            sen_change_date=date(2026, 1, 5),
        )
        assert changed == ["sen_status"]
        history = list(SenStatusChange.objects.filter(pupil=pupil).values_list("status", "start_date"))
        assert ("E", date(2026, 1, 5)) in history
        assert len(history) == 2
        # A change that touches no SEN field adds no register entry; no change, no audit row.
        services.pupil_update(request=None, pupil=pupil, data={"eal": True})
        assert SenStatusChange.objects.filter(pupil=pupil).count() == 2
        assert services.pupil_update(request=None, pupil=pupil, data={"eal": True}) == []
        updates = AuditEvent.objects.filter(action="update", object_id=str(pupil.pk))
        assert [e.detail["fields"] for e in updates.order_by("id")] == [["sen_status"], ["eal"]]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sen_status": "N", "primary_need": "SEMH"}, "primary_need"),
        ({"sen_status": "K", "primary_need": ""}, "primary_need"),
        ({"secondary_need": "SEMH"}, "secondary_need"),
        ({"nc_year": 15}, "nc_year"),
        ({"upn": "A801200005001"}, "upn"),
        ({"primary_need": "XYZ"}, "primary_need"),
    ],
)
def test_census_rules_are_enforced(tenant, as_school, overrides, field):
    with as_school(tenant.school), pytest.raises(ValidationError) as exc:
        services.pupil_create(request=None, school=tenant.school, data=pupil_data(**overrides))
    assert field in exc.value.message_dict


def test_the_same_upn_in_another_school_is_a_separate_record(tenant, other, as_school):
    with as_school(other.school):
        services.pupil_create(request=None, school=other.school, data=pupil_data())
    with as_school(tenant.school):
        pupil = services.pupil_create(request=None, school=tenant.school, data=pupil_data())
        assert Pupil.objects.filter(upn=pupil.upn).count() == 1  # only this school's is visible


def test_a_change_dated_before_the_latest_register_entry_is_refused(tenant, as_school):
    with as_school(tenant.school):
        pupil = services.pupil_create(
            request=None, school=tenant.school, data=pupil_data(), sen_start=date(2025, 9, 1)
        )
        with pytest.raises(ValidationError) as exc:
            services.pupil_update(
                request=None, pupil=pupil, data={"sen_status": "E"}, sen_change_date=date(2025, 1, 1)
            )
        assert "sen_change_date" in exc.value.message_dict
        assert SenStatusChange.objects.filter(pupil=pupil).count() == 1


@pytest.mark.parametrize(
    ("model_data", "field"),
    [
        ({"date_of_birth": date(2099, 1, 1)}, "date_of_birth"),
        ({"date_of_birth": date(1, 1, 1)}, "date_of_birth"),
        ({"left_on": date(2099, 1, 1), "is_active": False}, "left_on"),
    ],
)
def test_dates_that_cannot_be_right_are_refused(tenant, as_school, model_data, field):
    with as_school(tenant.school), pytest.raises(ValidationError) as exc:
        services.pupil_create(request=None, school=tenant.school, data=pupil_data(**model_data))
    assert field in exc.value.message_dict


def test_lower_case_upns_are_stored_upper_case(tenant, as_school):
    with as_school(tenant.school):
        pupil = services.pupil_create(
            request=None, school=tenant.school, data=pupil_data(upn="b801200005001")
        )
        assert Pupil.objects.get(pk=pupil.pk).upn == "B801200005001"
