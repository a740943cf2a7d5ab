"""Graduated-response frameworks: templates shipped as data, LA copies, versions, isolation."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from graduated_response.models import Framework, Step, Strategy
from graduated_response.selectors import framework_list, framework_steps, frameworks_with_steps
from graduated_response.services import (
    framework_copy_for_la,
    framework_new_version,
    frameworks_load_for_la,
    step_update,
    strategies_reorder,
    strategy_add,
)
from graduated_response.templates_data import TEMPLATES
from schools.scopes import scope_for_membership
from schools.tenancy import TenantScope, tenant_scope


def la_scope(*las):
    return TenantScope.system(local_authorities=[la.pk for la in las])


def fetch(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


# --- templates, as shipped -------------------------------------------------------------


@pytest.mark.parametrize(("key", "steps"), [("nw-six-step", 6), ("four-tier", 4), ("waves-apdr", 3)])
def test_each_template_has_its_steps_numbered_in_order(key, steps):
    template = TEMPLATES[key]
    assert [s.number for s in template.steps] == list(range(1, steps + 1))


def test_nw_six_step_tiers_support_levels_and_escalation_rules():
    steps = TEMPLATES["nw-six-step"].steps
    assert [s.tier_label for s in steps] == [
        "Universal",
        "Universal Plus",
        "Targeted",
        "Targeted",
        "Targeted to Specialist",
        "Specialist",
    ]
    assert [s.support_level for s in steps] == [
        "AIP level 1",
        "AIP level 1",
        "AIP level 2",
        "AIP level 3",
        "AIP level 3",
        "",
    ]
    assert [s.min_strategies_to_escalate for s in steps] == [None, 2, 3, 5, None, None]
    assert steps[-1].who_leads == "Specialist LA provision"
    for step in steps:
        # Every column of the seed's table is carried for every step.
        for field in ("behaviour_descriptors", "assessment", "planning", "grouping", "staffing", "methods"):
            assert getattr(step, field), (step.number, field)
        assert step.who_leads


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_every_step_of_every_template_has_a_strategy_catalogue(key):
    for step in TEMPLATES[key].steps:
        names = [s.name for s in step.strategies]
        assert names, (key, step.number)
        assert len(names) == len(set(names)), (key, step.number)  # escalation counts distinct names


# --- LA copies --------------------------------------------------------------------------


def test_copy_makes_rows_owned_by_the_la_and_matching_the_template(tenant):
    with transaction.atomic(), tenant_scope(la_scope(tenant.la)):
        framework = framework_copy_for_la(la=tenant.la, template_key="nw-six-step")
        steps = list(framework_steps(framework))
        assert framework.version == 1 and framework.is_current
        assert [s.tier_label for s in steps] == [t.tier_label for t in TEMPLATES["nw-six-step"].steps]
        assert [s.min_strategies_to_escalate for s in steps] == [None, 2, 3, 5, None, None]
        assert {s.local_authority_id for s in steps} == {tenant.la.pk}
        assert Strategy.objects.exclude(local_authority=tenant.la).count() == 0
        step2 = steps[1]
        assert [s.name for s in step2.strategies.all()] == [
            s.name for s in TEMPLATES["nw-six-step"].steps[1].strategies
        ]
        assert "Withdrawn or isolated" in step2.descriptor_lines()


def test_copied_frameworks_are_invisible_to_another_la_by_orm_and_by_raw_sql(tenant, other):
    with transaction.atomic(), tenant_scope(la_scope(tenant.la)):
        frameworks_load_for_la(la=tenant.la)
    with transaction.atomic(), tenant_scope(la_scope(other.la)):
        assert framework_list(la_scope(other.la)).count() == 0
        assert Step.objects.count() == 0 and Strategy.objects.count() == 0
        for table in ("framework", "step", "strategy"):
            assert fetch(f"SELECT count(*) FROM graduated_response_{table}") == [(0,)]
    with transaction.atomic(), tenant_scope(la_scope(tenant.la)):
        assert fetch("SELECT count(*) FROM graduated_response_framework") == [(3,)]
        assert fetch("SELECT count(*) FROM graduated_response_step") == [(6 + 4 + 3,)]


def test_the_las_schools_read_its_frameworks_but_cannot_change_them(tenant, other):
    with transaction.atomic(), tenant_scope(la_scope(tenant.la)):
        frameworks_load_for_la(la=tenant.la, template_keys=["nw-six-step"])
    own = scope_for_membership(tenant.memberships["senco"])
    with transaction.atomic(), tenant_scope(own):
        assert [f.slug for f in framework_list(own)] == ["nw-six-step"]
        with connection.cursor() as cursor:
            cursor.execute("UPDATE graduated_response_step SET tier_label = 'Changed'")
            assert cursor.rowcount == 0
    outsider = scope_for_membership(other.memberships["senco"])
    with transaction.atomic(), tenant_scope(outsider):
        assert framework_list(outsider).count() == 0
        assert fetch("SELECT count(*) FROM graduated_response_strategy") == [(0,)]


def test_an_la_cannot_write_a_framework_into_another_la(tenant, other):
    # The service refuses first; under it, the database refuses the row as well.
    with pytest.raises(PermissionDenied), transaction.atomic(), tenant_scope(la_scope(tenant.la)):
        framework_copy_for_la(la=other.la, template_key="four-tier")
    # A plain save is refused by the model with the reason; a bulk insert skips save(), and
    # the database refuses the row itself.
    with pytest.raises(PermissionDenied), transaction.atomic(), tenant_scope(la_scope(tenant.la)):
        Framework.objects.create(local_authority=other.la, slug="sneaked", name="Sneaked")
    with (
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
        tenant_scope(la_scope(tenant.la)),
    ):
        Framework.objects.bulk_create([Framework(local_authority=other.la, slug="sneaked", name="Sneaked")])


def test_copying_a_template_twice_is_refused_and_loading_skips_it(tenant):
    with transaction.atomic(), tenant_scope(la_scope(tenant.la)):
        framework_copy_for_la(la=tenant.la, template_key="four-tier")
        with pytest.raises(ValidationError, match="already has"):
            framework_copy_for_la(la=tenant.la, template_key="four-tier")
        copied, skipped = frameworks_load_for_la(la=tenant.la)
        assert (copied, skipped) == (["nw-six-step", "waves-apdr"], ["four-tier"])
        assert frameworks_load_for_la(la=tenant.la) == ([], ["nw-six-step", "four-tier", "waves-apdr"])
        assert Framework.objects.count() == 3


def test_an_unknown_template_is_refused_with_the_known_keys(tenant):
    with (
        pytest.raises(ValidationError, match="nw-six-step"),
        transaction.atomic(),
        tenant_scope(la_scope(tenant.la)),
    ):
        framework_copy_for_la(la=tenant.la, template_key="no-such")


# --- versions and edits -------------------------------------------------------------------


def test_new_version_increments_and_leaves_the_old_one_intact(tenant):
    with transaction.atomic(), tenant_scope(la_scope(tenant.la)):
        v1 = framework_copy_for_la(la=tenant.la, template_key="nw-six-step")
        v2 = framework_new_version(v1)
        step2 = v2.steps.get(number=2)
        step_update(step=step2, data={"min_strategies_to_escalate": 3, "tier_label": "Early help"})
        strategy_add(step=step2, name="Lego therapy")

        v1.refresh_from_db()
        assert (v1.version, v1.is_current, v2.version, v2.is_current) == (1, False, 2, True)
        assert v2.copied_from == v1
        old2 = v1.steps.get(number=2)
        assert (old2.tier_label, old2.min_strategies_to_escalate) == ("Universal Plus", 2)
        assert not old2.strategies.filter(name="Lego therapy").exists()
        assert step2.strategies.count() == old2.strategies.count() + 1
        assert v2.steps.count() == v1.steps.count() == 6
        assert [f.version for f in framework_list(la_scope(tenant.la))] == [2]
        with pytest.raises(ValidationError, match="current version"):
            framework_new_version(v1)
        assert framework_new_version(v2).version == 3


def test_step_edits_are_limited_to_descriptive_fields_and_strategies_reorder(tenant):
    with transaction.atomic(), tenant_scope(la_scope(tenant.la)):
        framework = framework_copy_for_la(la=tenant.la, template_key="waves-apdr")
        step = framework.steps.get(number=3)
        with pytest.raises(ValidationError, match="framework"):
            step_update(step=step, data={"framework": None})
        with pytest.raises(ValidationError):
            strategy_add(step=step, name=step.strategies.first().name)  # a catalogue names each once
        ids = list(step.strategies.values_list("pk", flat=True))
        strategies_reorder(step=step, strategy_ids=ids[::-1])
        assert list(framework_steps(framework)[2].strategies.all().values_list("pk", flat=True)) == ids[::-1]
        with pytest.raises(ValidationError, match="exactly once"):
            strategies_reorder(step=step, strategy_ids=ids[1:])


# --- command and query counts --------------------------------------------------------------


def test_load_frameworks_command_is_idempotent(tenant, other):
    out = io.StringIO()
    call_command("load_frameworks", "--la", tenant.la.code, "--template", "nw-six-step", stdout=out)
    assert "Copied nw-six-step" in out.getvalue()
    out = io.StringIO()
    call_command("load_frameworks", "--la", tenant.la.code, stdout=out)
    assert "Skipped nw-six-step" in out.getvalue() and "Copied waves-apdr" in out.getvalue()
    with transaction.atomic(), tenant_scope(la_scope(tenant.la, other.la)):
        assert sorted(Framework.objects.values_list("local_authority_id", "slug")) == sorted(
            (tenant.la.pk, key) for key in TEMPLATES
        )


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def _walk_steps(steps) -> None:
    for step in steps:
        list(step.strategies.all())


def _walk(frameworks) -> None:
    for framework in frameworks:
        _walk_steps(framework.steps.all())


def test_selector_query_counts_do_not_grow_with_steps_or_frameworks(tenant):
    scope = la_scope(tenant.la)
    with transaction.atomic(), tenant_scope(scope):
        small = framework_copy_for_la(la=tenant.la, template_key="waves-apdr")
        large = framework_copy_for_la(la=tenant.la, template_key="nw-six-step")
        # Two queries: the steps, then every step's strategies.
        assert _count(lambda: _walk_steps(framework_steps(small))) == 2
        assert _count(lambda: _walk_steps(framework_steps(large))) == 2
        # Three queries: frameworks, their steps, the steps' strategies.
        one = _count(lambda: _walk(frameworks_with_steps(scope)))
        framework_copy_for_la(la=tenant.la, template_key="four-tier")
        assert _count(lambda: _walk(frameworks_with_steps(scope))) == one == 3


def test_seed_demo_gives_the_demo_la_all_three_frameworks_once(db):
    from schools.demo import LA
    from schools.models import LocalAuthority

    for _ in range(2):
        call_command("seed_demo", "--json", stdout=io.StringIO())
    la = LocalAuthority.objects.get(code=LA["code"])
    with transaction.atomic(), tenant_scope(la_scope(la)):
        assert sorted(Framework.objects.values_list("slug", flat=True)) == sorted(TEMPLATES)
