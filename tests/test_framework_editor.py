"""The LA administrator's framework editor in the browser: copying a template, editing steps
and strategies, versions once pupils are placed, read-only views for other roles, isolation
between LAs, audit, and query counts."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from graduated_response.models import Framework, Step, StepPlacement, Strategy
from graduated_response.placements import step_place
from graduated_response.services import (
    STEP_EDITABLE,
    framework_copy_for_la,
    framework_in_use,
    framework_new_version,
    step_update,
    strategy_add,
)
from schools.models import AuditEvent
from schools.scopes import scope_for_membership
from schools.tenancy import TenantScope, tenant_scope
from tests.conftest import sign_in


def la_scope(*las):
    return tenant_scope(TenantScope.system(local_authorities=[la.pk for la in las]))


def copy(t, key: str = "nw-six-step") -> Framework:
    with transaction.atomic(), la_scope(t.la):
        return framework_copy_for_la(la=t.la, template_key=key)


def steps_of(t, framework: Framework) -> dict[int, Step]:
    with transaction.atomic(), la_scope(t.la):
        return {s.number: s for s in Step.objects.filter(framework=framework)}


def reload_step(t, pk: int) -> Step:
    with transaction.atomic(), la_scope(t.la):
        return Step.objects.get(pk=pk)


def strategy_names(t, step: Step) -> list[str]:
    with transaction.atomic(), la_scope(t.la):
        return list(
            Strategy.objects.filter(step_id=step.pk).order_by("order", "id").values_list("name", flat=True)
        )


def la_audit(t, **filters) -> list[AuditEvent]:
    """Audit rows written by the LA's roles (they name no school), oldest first."""
    with transaction.atomic(), tenant_scope(scope_for_membership(t.memberships["la_admin"])):
        return list(AuditEvent._base_manager.filter(**filters).order_by("at", "id"))


def place_pupil(t, step: Step) -> StepPlacement:
    with transaction.atomic(), tenant_scope(TenantScope.for_school(t.school.pk, la_id=t.la.pk)):
        return step_place(
            request=None, pupil=t.pupils[0], step=step, reason="Concerns", placed_on=date.today()
        )


def step_form(step: Step, **changes) -> dict:
    data = {field: getattr(step, field) for field in STEP_EDITABLE}
    data["min_strategies_to_escalate"] = data["min_strategies_to_escalate"] or ""
    data.update(changes)
    return data


@pytest.fixture
def admin(client, tenant):
    return sign_in(client, tenant.users["la_admin"], tenant.memberships["la_admin"])


# --- copying and reading --------------------------------------------------------------------


def test_la_admin_copies_a_template_from_the_list(admin, tenant):
    page = admin.get("/frameworks/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "No frameworks yet" in body and body.count("Copy for our LA") == 3

    response = admin.post("/frameworks/copy/", {"template": "nw-six-step"})
    assert response.status_code == 302
    with transaction.atomic(), la_scope(tenant.la):
        framework = Framework.objects.get()
    assert (framework.slug, framework.version, framework.local_authority_id) == (
        "nw-six-step",
        1,
        tenant.la.pk,
    )
    assert response["Location"] == f"/frameworks/{framework.pk}/"

    body = admin.get("/frameworks/").content.decode()
    assert framework.name in body and body.count("Copy for our LA") == 2
    # A second copy of the same template is refused with the reason, and adds nothing.
    again = admin.post("/frameworks/copy/", {"template": "nw-six-step"})
    assert again.status_code == 400 and "already has" in again.content.decode()
    assert admin.post("/frameworks/copy/", {"template": "no-such"}).status_code == 400
    with transaction.atomic(), la_scope(tenant.la):
        assert Framework.objects.count() == 1
    [row] = la_audit(tenant, action="create", object_type="graduated_response.framework")
    assert row.detail == {"event": "copied", "template": "nw-six-step"}
    assert row.user_id == tenant.users["la_admin"].pk and row.local_authority_id == tenant.la.pk


def test_detail_shows_every_field_of_every_step_and_the_catalogue(admin, tenant):
    framework = copy(tenant)
    body = admin.get(f"/frameworks/{framework.pk}/").content.decode()
    for heading in (
        "Support level",
        "Who leads",
        "Behaviour descriptors",
        "Assessment expectations",
        "Planning expectations",
        "Grouping for teaching",
        "Staffing",
        "Methods and approach",
        "Review expectations",
        "Possible next step",
        "Escalation rule",
    ):
        assert heading in body, heading
    assert "Step 6: Specialist" in body and "AIP level 3" in body
    assert "At least 5 distinct strategies" in body
    step2 = steps_of(tenant, framework)[2]
    for name in strategy_names(tenant, step2):
        assert name in body
    assert "Edit step 2" in body and "Add a strategy to step 2" in body


@pytest.mark.parametrize("role", ["senco", "headteacher", "practitioner", "la_officer", "partnership_lead"])
def test_other_roles_read_the_framework_but_get_no_edit_controls(client, tenant, role):
    framework = copy(tenant)
    sign_in(client, tenant.users[role], tenant.memberships[role])
    listing = client.get("/frameworks/")
    assert listing.status_code == 200 and framework.name in listing.content.decode()
    assert "Copy for our LA" not in listing.content.decode()
    body = client.get(f"/frameworks/{framework.pk}/").content.decode()
    assert "Step 2: Universal Plus" in body
    assert "Edit step" not in body and "Add a strategy" not in body and "Make a new version" not in body


def test_platform_admin_has_no_framework_pages(client, tenant):
    sign_in(client, tenant.users["platform_admin"])
    assert client.get("/frameworks/").status_code == 403


# --- editing ----------------------------------------------------------------------------------


def test_la_admin_edits_a_step_and_the_change_is_audited(admin, tenant):
    framework = copy(tenant)
    step = steps_of(tenant, framework)[2]
    url = f"/frameworks/{framework.pk}/steps/{step.pk}/edit/"
    assert admin.get(url).status_code == 200
    form = step_form(
        step,
        tier_label="Early help",
        min_strategies_to_escalate=3,
        assessment="Observation in class\n\n   Talk with parents  \n",
    )
    response = admin.post(url, form)
    assert response.status_code == 302 and response["Location"].endswith("#step-2")
    saved = reload_step(tenant, step.pk)
    assert (saved.tier_label, saved.min_strategies_to_escalate) == ("Early help", 3)
    assert saved.assessment == "Observation in class\nTalk with parents"
    assert saved.behaviour_descriptors == step.behaviour_descriptors
    [row] = la_audit(tenant, action="update", object_type="graduated_response.step")
    assert row.object_id == str(step.pk)
    assert sorted(row.detail["fields"]) == ["assessment", "min_strategies_to_escalate", "tier_label"]
    assert "Early help" not in str(row.detail)  # names of fields, never their text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tier_label": ""}, "This field is required"),
        ({"min_strategies_to_escalate": "0"}, "Give 1 or more"),
        ({"min_strategies_to_escalate": "two"}, "whole number"),
        ({"min_strategies_to_escalate": "31"}, "at most 30"),
        ({"tier_label": "x" * 101}, "at most 100 characters"),
    ],
)
def test_bad_step_input_is_a_400_and_changes_nothing(admin, tenant, changes, message):
    framework = copy(tenant)
    step = steps_of(tenant, framework)[2]
    form = step_form(step, summary="Changed summary", **changes)
    response = admin.post(f"/frameworks/{framework.pk}/steps/{step.pk}/edit/", form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert reload_step(tenant, step.pk).summary == step.summary


def test_la_admin_adds_edits_moves_and_removes_strategies(admin, tenant):
    framework = copy(tenant, "waves-apdr")
    step = steps_of(tenant, framework)[1]
    base = f"/frameworks/{framework.pk}/steps/{step.pk}/strategies"
    before = strategy_names(tenant, step)

    assert admin.get(f"{base}/add/").status_code == 200
    assert (
        admin.post(f"{base}/add/", {"name": "  Lego therapy ", "description": "Small group"}).status_code
        == 302
    )
    assert strategy_names(tenant, step) == [*before, "Lego therapy"]
    duplicate = admin.post(f"{base}/add/", {"name": "lego THERAPY"})
    assert duplicate.status_code == 400 and "already has a strategy called" in duplicate.content.decode()
    assert admin.post(f"{base}/add/", {"name": "   "}).status_code == 400
    assert strategy_names(tenant, step) == [*before, "Lego therapy"]

    with transaction.atomic(), la_scope(tenant.la):
        lego = Strategy.objects.get(step_id=step.pk, name="Lego therapy")
        first = Strategy.objects.get(step_id=step.pk, name=before[0])
    assert admin.post(f"{base}/{lego.pk}/edit/", {"name": "Lego-based therapy"}).status_code == 302
    clash = admin.post(f"{base}/{lego.pk}/edit/", {"name": before[0]})
    assert clash.status_code == 400
    assert strategy_names(tenant, step)[-1] == "Lego-based therapy"

    assert admin.post(f"{base}/{lego.pk}/move/", {"direction": "up"}).status_code == 302
    assert strategy_names(tenant, step)[-2:] == ["Lego-based therapy", before[-1]]
    assert admin.post(f"{base}/{first.pk}/move/", {"direction": "up"}).status_code == 302  # already first
    assert strategy_names(tenant, step)[0] == before[0]
    assert admin.post(f"{base}/{lego.pk}/move/", {"direction": "sideways"}).status_code == 400

    assert admin.get(f"{base}/{lego.pk}/remove/").status_code == 200
    assert admin.post(f"{base}/{lego.pk}/remove/").status_code == 302
    assert strategy_names(tenant, step) == before

    events = [
        (r.action, r.detail["event"]) for r in la_audit(tenant, object_type="graduated_response.strategy")
    ]
    assert events == [
        ("create", "strategy added"),
        ("update", "strategy changed"),
        ("delete", "strategy removed"),
    ]
    [reorder] = la_audit(tenant, detail__event="strategies reordered")
    assert reorder.object_id == str(step.pk)


def test_another_las_framework_step_and_strategy_are_404(admin, tenant, other):
    own = copy(tenant, "waves-apdr")
    own_step = steps_of(tenant, own)[1]
    theirs = copy(other, "waves-apdr")
    their_step = steps_of(other, theirs)[1]
    with transaction.atomic(), la_scope(other.la):
        their_strategy = Strategy.objects.filter(step_id=their_step.pk).first()
        their_names = list(Strategy.objects.values_list("name", flat=True))
    with transaction.atomic(), la_scope(tenant.la):
        own_strategy = Strategy.objects.filter(step_id=own_step.pk).first()
    urls = [
        ("get", f"/frameworks/{theirs.pk}/"),
        ("post", f"/frameworks/{theirs.pk}/new-version/"),
        ("get", f"/frameworks/{theirs.pk}/steps/{their_step.pk}/edit/"),
        ("post", f"/frameworks/{theirs.pk}/steps/{their_step.pk}/edit/"),
        # Own framework, another LA's step or strategy under it: still a 404.
        ("get", f"/frameworks/{own.pk}/steps/{their_step.pk}/edit/"),
        ("post", f"/frameworks/{own.pk}/steps/{their_step.pk}/strategies/add/"),
        ("post", f"/frameworks/{own.pk}/steps/{own_step.pk}/strategies/{their_strategy.pk}/edit/"),
        ("post", f"/frameworks/{own.pk}/steps/{own_step.pk}/strategies/{their_strategy.pk}/remove/"),
        ("post", f"/frameworks/{theirs.pk}/steps/{their_step.pk}/strategies/{their_strategy.pk}/move/"),
        # Own ids under the wrong parent.
        ("get", f"/frameworks/{own.pk}/steps/{own_step.pk + 1}/strategies/{own_strategy.pk}/edit/"),
    ]
    body = {"name": "Taken over", "tier_label": "Taken over", "direction": "down"}
    for method, url in urls:
        response = getattr(admin, method)(url, body)
        assert response.status_code == 404, (method, url, response.status_code)
        assert other.marker not in response.content.decode()
    with transaction.atomic(), la_scope(other.la):
        assert list(Strategy.objects.values_list("name", flat=True)) == their_names
        assert Framework.objects.count() == 1
        assert Step.objects.get(pk=their_step.pk).tier_label == their_step.tier_label


def test_a_school_role_cannot_edit_and_the_attempt_is_audited(client, tenant):
    framework = copy(tenant)
    step = steps_of(tenant, framework)[2]
    sign_in(client, tenant.users["senco"], tenant.memberships["senco"])
    url = f"/frameworks/{framework.pk}/steps/{step.pk}/edit/"
    assert client.get(url).status_code == 403
    assert client.post(url, step_form(step, tier_label="Changed by a school")).status_code == 403
    assert client.post("/frameworks/copy/", {"template": "four-tier"}).status_code == 403
    assert client.post(f"/frameworks/{framework.pk}/new-version/").status_code == 403
    assert reload_step(tenant, step.pk).tier_label == step.tier_label
    with transaction.atomic(), tenant_scope(TenantScope.for_school(tenant.school.pk)):
        denied = AuditEvent.objects.filter(action="denied", user=tenant.users["senco"])
        assert sorted(e.object_id for e in denied) == sorted(
            [url, url, "/frameworks/copy/", f"/frameworks/{framework.pk}/new-version/"]
        )


def test_the_services_refuse_a_scope_that_cannot_write_the_la(tenant):
    framework = copy(tenant)
    step = steps_of(tenant, framework)[2]
    senco = scope_for_membership(tenant.memberships["senco"])
    with transaction.atomic(), tenant_scope(senco):
        with pytest.raises(PermissionDenied):
            step_update(step=Step.objects.get(pk=step.pk), data={"tier_label": "Changed"})
        with pytest.raises(PermissionDenied):
            strategy_add(step=Step.objects.get(pk=step.pk), name="New")
    assert reload_step(tenant, step.pk).tier_label == step.tier_label


# --- versions once pupils are placed ------------------------------------------------------------


def test_a_framework_in_use_is_versioned_and_placed_pupils_keep_theirs(admin, tenant):
    v1 = copy(tenant)
    steps = steps_of(tenant, v1)
    placement = place_pupil(tenant, steps[2])
    edit_v1 = f"/frameworks/{v1.pk}/steps/{steps[2].pk}/edit/"

    detail = admin.get(f"/frameworks/{v1.pk}/").content.decode()
    assert "Pupils are placed under version 1" in detail and "Make a new version to edit" in detail
    assert "Edit step 2" not in detail
    locked = admin.get(edit_v1)
    assert locked.status_code == 409 and "Make a new version to edit" in locked.content.decode()
    assert admin.post(edit_v1, step_form(steps[2], tier_label="Rewritten")).status_code == 409
    with transaction.atomic(), la_scope(tenant.la):
        strategy = Strategy.objects.filter(step_id=steps[2].pk).first()
    strategy_url = f"/frameworks/{v1.pk}/steps/{steps[2].pk}/strategies/{strategy.pk}"
    assert admin.post(f"{strategy_url}/remove/").status_code == 409
    assert admin.post(f"{strategy_url}/edit/", {"name": "Renamed"}).status_code == 409
    assert reload_step(tenant, steps[2].pk).tier_label == "Universal Plus"
    # The service refuses too, whoever calls it.
    with transaction.atomic(), la_scope(tenant.la):
        assert framework_in_use(v1)
        with pytest.raises(ValidationError, match="Make a new version"):
            step_update(step=Step.objects.get(pk=steps[2].pk), data={"tier_label": "Rewritten"})

    # "Make a new version to edit" from the step's page lands on the same step in version 2.
    made = admin.post(f"/frameworks/{v1.pk}/new-version/", {"step_number": "2"})
    assert made.status_code == 302
    with transaction.atomic(), la_scope(tenant.la):
        v2 = Framework.objects.get(is_current=True)
        new_step2 = Step.objects.get(framework=v2, number=2)
        assert not framework_in_use(v2)
    assert v2.version == 2 and made["Location"] == f"/frameworks/{v2.pk}/steps/{new_step2.pk}/edit/"
    assert admin.post(made["Location"], step_form(new_step2, tier_label="Early help")).status_code == 302

    assert reload_step(tenant, new_step2.pk).tier_label == "Early help"
    assert reload_step(tenant, steps[2].pk).tier_label == "Universal Plus"
    with transaction.atomic(), tenant_scope(TenantScope.for_school(tenant.school.pk, la_id=tenant.la.pk)):
        kept = StepPlacement.objects.select_related("step").get(pk=placement.pk)
        assert (kept.framework_id, kept.step.tier_label) == (v1.pk, "Universal Plus")
    # The old version stays readable, says so, and cannot be edited or versioned again.
    old = admin.get(f"/frameworks/{v1.pk}/").content.decode()
    assert "an older version kept for the pupils placed under it" in old and f"/frameworks/{v2.pk}/" in old
    assert admin.get(edit_v1).status_code == 409
    again = admin.post(f"/frameworks/{v1.pk}/new-version/")
    assert again.status_code == 302 and again["Location"] == f"/frameworks/{v1.pk}/"
    listing = admin.get("/frameworks/").content.decode()
    assert "Version 2" in listing and f'href="/frameworks/{v1.pk}/">Version 1' in listing
    [made_row] = la_audit(tenant, detail__event="new version")
    assert made_row.detail == {"event": "new version", "copied_from": v1.pk, "version": 2}


def test_an_la_admin_learns_a_version_is_in_use_without_seeing_any_pupil(admin, tenant):
    framework = copy(tenant)
    place_pupil(tenant, steps_of(tenant, framework)[1])
    body = admin.get(f"/frameworks/{framework.pk}/").content.decode()
    assert "Pupils are placed under version 1" in body
    assert not any(name in body for name in tenant.pupil_names())


# --- query counts ------------------------------------------------------------------------------


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]])


@pytest.mark.parametrize("role", ["la_admin", "senco"])
def test_list_and_detail_query_counts_do_not_grow(client, tenant, role):
    sign_in(client, tenant.users[role], tenant.memberships[role])
    small = copy(tenant, "waves-apdr")  # 3 steps
    client.get("/frameworks/")  # warm up
    list_small = _count(client, "/frameworks/")
    detail_small = _count(client, f"/frameworks/{small.pk}/")

    large = copy(tenant, "nw-six-step")  # 6 steps, more strategies
    copy(tenant, "four-tier")
    with transaction.atomic(), la_scope(tenant.la):
        framework_new_version(Framework.objects.get(pk=large.pk))
        large = Framework.objects.get(slug="nw-six-step", is_current=True)
        for step in Step.objects.filter(framework=large):
            strategy_add(step=step, name=f"Extra at {step.number}")
    place_pupil(tenant, steps_of(tenant, large)[1])
    assert _count(client, "/frameworks/") == list_small
    assert _count(client, f"/frameworks/{large.pk}/") == detail_small
