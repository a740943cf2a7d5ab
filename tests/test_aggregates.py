"""The partnership and LA overviews: counts of pupils on the SEN register, at steps 4–6 and
placed in behaviour provisions, per school and per partnership, with small-number
suppression that the totals cannot undo (checked by brute force on the rendered tables),
no child named, and a number of queries that does not grow with schools or pupils."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from graduated_response.models import Framework, Step
from graduated_response.placements import step_place
from graduated_response.services import frameworks_load_for_la
from interventions import aggregates
from interventions.placements import placement_refer, placement_start
from pupils.models import Pupil
from schools.models import LocalAuthority
from schools.partnership import partnerships_for
from schools.scopes import scope_for_membership
from schools.suppression import HIDDEN, SMALL, TOTAL, WITHHELD, SuppressedTable, suppress_table
from schools.tenancy import TenantScope, tenant_scope
from tests.conftest import sign_in
from tests.factories import PartnershipFactory, PupilFactory, SchoolFactory
from tests.test_kpis import place
from tests.test_suppression import assert_linked_safe, consistent_values

TODAY = timezone.localdate()


def _as_school(school):
    return tenant_scope(TenantScope.for_school(school.pk, la_id=school.local_authority_id))


def on_register(school, *, k: int = 0, e: int = 0, name: str = "Reg") -> list[Pupil]:
    made = [
        PupilFactory(school=school, sen_status="K", primary_need="SEMH", last_name=f"{name}K{i}")
        for i in range(k)
    ]
    made += [
        PupilFactory(school=school, sen_status="E", primary_need="ASD", last_name=f"{name}E{i}")
        for i in range(e)
    ]
    return made


def mark_sen_support(school, pupils) -> None:
    with transaction.atomic(), _as_school(school):
        Pupil.objects.filter(pk__in=[p.pk for p in pupils]).update(sen_status="K", primary_need="SEMH")


def sign_in_as(client, tenant, role):
    return sign_in(client, tenant.users[role], tenant.memberships[role])


def rendered_grid(page: str, section: str) -> tuple[list[str], list[list[str]]]:
    """The row labels and the cells (totals row last) of one table as the reader sees it."""
    part = re.search(rf'<section id="{section}">(.*?)</section>', page, re.S).group(1)
    rows = re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', part, re.S)
    labels = [re.sub(r"<[^>]+>", "", label) for label, _ in rows]
    grid = [[html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", cells)] for _, cells in rows]
    return labels, grid


def assert_not_recoverable(grid: list[list[str]]) -> None:
    """No "<5" can be pinned to one value from what else is shown (totals row and column last)."""
    cells = {c for row in grid for c in row}
    if WITHHELD in cells:
        assert cells == {WITHHELD}
        return
    n, m = len(grid) - 1, len(grid[0]) - 1
    shown_total = sum(int(c) for row in grid[:-1] for c in row[:-1] if c.isdigit())
    bound = max([int(c) for row in grid for c in row if c.isdigit()] + [shown_total]) + 6
    for cell, values in consistent_values(grid, bound, n, m).items():
        assert len(values) >= 2, f"cell {cell} can only be {values} in {grid}"


@pytest.fixture
def register(tenant):
    """School A: 3 pupils on SEN support (its whole register). The host school: 8 on SEN
    support and 6 with an EHC plan."""
    mark_sen_support(tenant.school, tenant.pupils)
    on_register(tenant.sibling, k=6, e=6)  # with its 2 pupils below: 8 on SEN support
    mark_sen_support(tenant.sibling, tenant.sibling_pupils)
    return tenant


def test_a_school_with_three_pupils_on_sen_support_shows_under_5_and_the_totals_cannot_undo_it(
    client, register
):
    sign_in_as(client, register, "partnership_lead")
    page = client.get("/partnership/overview/").content.decode()
    assert "Counts from 1 to 4 are shown as &lt;5; some other cells are hidden (x)" in page
    labels, grid = rendered_grid(page, "register")
    assert labels == [register.sibling.name, register.school.name, "Total"]  # by name
    assert grid[1] == [SMALL, "0", SMALL]
    # The host school's SEN support figure would give the 3 away from the column total.
    assert grid[0][0] == HIDDEN
    assert "3" not in {c for row in grid for c in row}
    assert_not_recoverable(grid)


def test_no_child_is_named_on_the_overviews_or_the_kpis(client, register):
    place(register.provision, register.pupils[0], start=TODAY - timedelta(days=3))
    names = register.pupil_names()
    urls = [
        "/partnership/overview/",
        f"/partnership/overview/{register.partnership.pk}/",
        "/partnership/kpis/",
    ]
    for role in ("partnership_lead", "la_officer"):
        sign_in_as(client, register, role)
        for url in [*urls, f"/api/v1/partnerships/{register.partnership.pk}/kpis/"]:
            response = client.get(url)
            assert response.status_code == 200, (role, url)
            body = response.content.decode()
            assert not [n for n in names if n in body], (role, url)
            assert "RegK" not in body and "RegE" not in body


def test_counts_per_school_cover_the_register_steps_and_placements(tenant):
    a = tenant.pupils
    mark_sen_support(tenant.school, a)
    la = LocalAuthority.objects.get(pk=tenant.la.pk)
    with (
        transaction.atomic(),
        tenant_scope(TenantScope.system(schools=[tenant.school.pk], local_authorities=[la.pk])),
    ):
        frameworks_load_for_la(la=la, template_keys=["nw-six-step"])
        framework = Framework.objects.get(slug="nw-six-step", is_current=True)
        steps = {s.number: s for s in Step.objects.filter(framework=framework)}
    with transaction.atomic(), _as_school(tenant.school):
        for pupil, number in ((a[0], 4), (a[1], 6), (a[2], 2)):
            step_place(request=None, pupil=pupil, step=steps[number], reason="Review", placed_on=TODAY)
    # One placed within its key stage, one outside it after a recorded meeting.
    place(tenant.provision, a[0], start=TODAY - timedelta(days=2))
    tenant.provision.key_stages = "KS3,KS4"
    tenant.provision.save()
    with transaction.atomic(), _as_school(tenant.school):
        outside = placement_refer(
            None,
            a[1],
            provision=tenant.provision,
            referred_on=TODAY - timedelta(days=5),
            referral_reason="Agreed at panel.",
            consent_on=TODAY - timedelta(days=6),
            consent_note="Mother, signed form",
            pattern="part_time",
            days_per_week=Decimal(2),
            mdt_meeting_on=TODAY - timedelta(days=6),
            mdt_note="The panel agreed the placement.",
        )
        placement_start(None, outside, TODAY - timedelta(days=1))
    # A pupil who has left counts nowhere.
    leaver = PupilFactory(school=tenant.school, sen_status="K", primary_need="SEMH", is_active=False)
    assert leaver.pk
    with transaction.atomic(), tenant_scope(scope_for_membership(tenant.memberships["partnership_lead"])):
        counts = aggregates.school_counts([tenant.school.pk, tenant.sibling.pk, tenant.neighbour.pk])
    assert counts[tenant.school.pk] == {
        "sen_support": 3,
        "ehc_plan": 0,
        "area_communication": 0,
        "area_cognition": 0,
        "area_semh": 3,
        "area_sensory_physical": 0,
        "area_other": 0,
        "step_4": 1,
        "step_5": 0,
        "step_6": 1,
        "placed_in_stage": 1,
        "placed_outside": 1,
    }
    assert counts[tenant.sibling.pk]["sen_support"] == 0
    # Another partnership's school is not the lead's to count: nothing comes back for it.
    assert tenant.neighbour.pk not in counts


@pytest.fixture
def three_partnerships(register):
    """Alpha Partnership (A: 3 K; host: 8 K, 6 E), its East neighbour (2 K, 9 E) and a
    North partnership with one school (7 K, 8 E)."""
    t = register
    on_register(t.neighbour, k=2, e=9, name="East")
    north = PartnershipFactory(local_authority=t.la, name="Alpha North Partnership")
    school = SchoolFactory(local_authority=t.la, partnership=north, name="Alpha North School")
    on_register(school, k=7, e=8, name="North")
    loose = SchoolFactory(local_authority=t.la, name="Alpha Free School")  # in no partnership
    on_register(loose, k=5, e=1, name="Loose")
    t.north = north
    return t


def _grid(table: aggregates.ShownTable) -> list[list[str]]:
    return [row.cells for row in table.rows] + [table.totals]


def _as_table(shown: aggregates.ShownTable, columns: list[str]) -> SuppressedTable:
    names = [*columns, TOTAL]
    rows = [{"label": row.label, **dict(zip(names, row.cells, strict=True))} for row in shown.rows]
    totals = {"label": TOTAL, **dict(zip(names, shown.totals, strict=True))}
    return SuppressedTable("label", columns, rows, totals, shown.suppressed, shown.withheld)


def assert_la_view_safe(la: aggregates.LaOverview, s: int, section, schools, counts) -> None:
    """Brute force over the LA table and every partnership's table of one section at once."""
    keys = [key for key, _ in section.columns]
    columns = [f"c{j}" for j in range(len(keys))]

    def of(group) -> list[list[int]]:
        return [[counts.get(school.pk, {}).get(key, 0) for key in keys] for school in group]

    top = la.la.tables[s]
    below_counts, below_shown, top_counts = {}, {}, []
    pks = {row.pk for row in top.rows if row.pk is not None}
    for i, row in enumerate(top.rows):
        if row.pk is not None:
            group = [x for x in schools if x.partnership_id == row.pk]
        else:  # schools in no partnership: one row, nothing below
            group = [x for x in schools if x.partnership_id not in pks]
        grid = of(group)
        top_counts.append([sum(r[j] for r in grid) for j in range(len(keys))])
        if row.pk is not None:
            below_counts[i] = grid
            below_shown[i] = _as_table(la.partnerships[row.pk].tables[s], columns)
    assert_linked_safe(top_counts, below_counts, _as_table(top, columns), below_shown, columns)


def test_the_la_table_and_each_partnerships_schools_never_give_each_other_away(three_partnerships):
    t = three_partnerships
    with transaction.atomic(), tenant_scope(scope_for_membership(t.memberships["la_officer"])) as scope:
        partnerships = list(partnerships_for(scope))
        la = aggregates.la_overview(scope, partnerships)
    with transaction.atomic(), tenant_scope(scope_for_membership(t.memberships["partnership_lead"])) as scope:
        own = aggregates.partnership_overview(scope, t.partnership)
    for s, section in enumerate(aggregates.SECTIONS):
        top = la.la.tables[s]
        assert_not_recoverable(_grid(top))
        for row in top.rows:
            if row.pk is None:
                continue  # schools in no partnership: no table of their own
            below = la.partnerships[row.pk].tables[s]
            assert_not_recoverable(_grid(below))
            # A figure both tables show (the partnership's row; its schools' totals) is
            # hidden in both or in neither.
            hidden_up = [c in (HIDDEN, WITHHELD) for c in row.cells]
            hidden_down = [c in (HIDDEN, WITHHELD) for c in below.totals]
            assert hidden_up == hidden_down, (section.key, row.label, row.cells, below.totals)
            if row.pk == t.partnership.pk:
                # The LA officer never sees more of a partnership than its lead does.
                for mine, theirs in zip(_grid(own.tables[s]), _grid(below), strict=True):
                    for a, b in zip(mine, theirs, strict=True):
                        assert a == b or b in (HIDDEN, WITHHELD), (a, b)
    # And read all together, as the LA officer can: no "<5" on any of them is pinned.
    with transaction.atomic(), tenant_scope(scope_for_membership(t.memberships["la_officer"])) as scope:
        schools = list(aggregates.countable_schools(scope))
        counts = aggregates.school_counts([s.pk for s in schools])
    for s, section in enumerate(aggregates.SECTIONS):
        assert_la_view_safe(la, s, section, schools, counts)
    # North's own table alone would show its totals; next to the LA table they must go.
    register_row = {row.label: row for row in la.la.tables[0].rows}["Alpha North Partnership"]
    assert HIDDEN in register_row.cells
    assert HIDDEN in la.partnerships[t.north.pk].tables[0].totals


def test_the_la_officer_opens_each_partnership_and_the_lead_only_its_own(client, three_partnerships, other):
    t = three_partnerships
    sign_in_as(client, t, "la_officer")
    page = client.get("/partnership/overview/").content.decode()
    labels, grid = rendered_grid(page, "register")
    assert labels == [
        "Alpha East Partnership",
        "Alpha North Partnership",
        "Alpha Partnership",
        "Schools in no partnership",
        "Total",
    ]
    assert_not_recoverable(grid)
    assert f'href="/partnership/overview/{t.north.pk}/"' in page
    for pk in (t.partnership.pk, t.north.pk, t.neighbour.partnership_id):
        assert client.get(f"/partnership/overview/{pk}/").status_code == 200
    assert client.get(f"/partnership/overview/{other.partnership.pk}/").status_code == 404
    sign_in_as(client, t, "partnership_lead")
    assert client.get(f"/partnership/overview/{t.partnership.pk}/").status_code == 200
    assert client.get(f"/partnership/overview/{t.north.pk}/").status_code == 404
    page = client.get("/partnership/overview/").content.decode()
    assert t.neighbour.name not in page and "Alpha North School" not in page


@pytest.mark.parametrize("role", ["senco", "headteacher", "practitioner", "provision_lead", "la_admin"])
def test_other_roles_are_refused_the_overviews(client, tenant, role):
    sign_in_as(client, tenant, role)
    assert client.get("/partnership/overview/").status_code == 403
    assert client.get(f"/partnership/overview/{tenant.partnership.pk}/").status_code == 403


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# Per page, beside the request's own (savepoint, the transaction's settings, session, user,
# two-factor device, membership, the schools it counts, the scope's settings, and putting
# them back at the end): the partnership, its schools, and one grouped count inside
# counting() (two settings round trips). The LA officer's scope also loads the LA's
# partnerships, and its drill-down opens the partnership before the LA's figures. The KPI
# page: the provisions, one query of placements in counting(), one of targets.
PINNED = {"partnership_lead": [16, 16, 16], "la_officer": [17, 18, 17]}


@pytest.mark.parametrize("role", ["partnership_lead", "la_officer"])
def test_overview_query_count_does_not_grow_with_schools_or_pupils(client, register, role):
    t = register
    sign_in_as(client, t, role)
    urls = ["/partnership/overview/", f"/partnership/overview/{t.partnership.pk}/", "/partnership/kpis/"]
    before = [_queries(client, url) for url in urls]
    for i in range(2):
        school = SchoolFactory(local_authority=t.la, partnership=t.partnership, name=f"Alpha Extra {i}")
        on_register(school, k=6, e=2, name=f"Extra{i}")
    place(t.provision, t.pupils[1], start=TODAY - timedelta(days=4))
    after = [_queries(client, url) for url in urls]
    assert before == PINNED[role]
    assert after == before


def test_hide_starts_a_cell_hidden_and_protects_around_it():
    rows = [{"label": "a", "x": 9, "y": 7}, {"label": "b", "x": 6, "y": 8}]
    plain = suppress_table(rows, ["x", "y"])
    assert plain.suppressed == 0
    linked = suppress_table(rows, ["x", "y"], hide=[("Total", "x")])
    assert linked.totals["x"] == HIDDEN
    # One hidden cell on a line gives itself away: the rule hides more around it.
    assert linked.suppressed >= 2
    # A 0 or a small count is never an "x".
    zero = suppress_table([{"label": "a", "x": 0, "y": 3}], ["x", "y"], hide=[(0, "x")])
    assert zero.rows[0]["x"] == "0" and zero.rows[0]["y"] == SMALL


def _remembered_keys() -> set[str]:
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    client = redis.Redis.from_url(settings.REDIS_URL)
    return {k.decode() for k in client.scan_iter(f"{prefix}:*suppressed*")}


def test_suppression_is_remembered_per_tenant_and_per_counts_so_it_is_never_stale(three_partnerships):
    """The LA's linked suppression is kept in the cache under the tenant and a hash of the
    counts: a second look reads it back, changed counts are a new key (never a stale
    answer), and another scope's answer sits under its own key."""
    t = three_partnerships
    officer = scope_for_membership(t.memberships["la_officer"])

    def overview():
        with transaction.atomic(), tenant_scope(officer) as scope:
            return aggregates.la_overview(scope, list(partnerships_for(scope)))

    first = overview()
    kept = _remembered_keys()
    assert kept and all(":tenant:" in k for k in kept)
    assert any("suppressed-linked" in k for k in kept)
    assert overview() == first and _remembered_keys() == kept  # read back, nothing new
    # Three more pupils on SEN support at North: new counts, new keys, the new figures.
    school = t.north.schools.get()
    PupilFactory.create_batch(3, school=school, sen_status="K")
    after = overview()
    assert _remembered_keys() > kept
    north = {row.label: row for row in after.la.tables[0].rows}["Alpha North Partnership"]
    before = {row.label: row for row in first.la.tables[0].rows}["Alpha North Partnership"]
    assert north.cells != before.cells or after.partnerships[t.north.pk] != first.partnerships[t.north.pk]
    # The partnership lead's own tables are remembered under the lead's scope.
    with transaction.atomic(), tenant_scope(scope_for_membership(t.memberships["partnership_lead"])) as scope:
        aggregates.partnership_overview(scope, t.partnership)
    lead = f":m{t.memberships['partnership_lead'].pk}:"
    assert any(lead in k for k in _remembered_keys() - kept)


def test_the_annual_report_of_a_partnership_takes_the_las_linked_tables(three_partnerships):
    """North alone would show its schools' totals; in the LA's linked tables they are hidden,
    and the annual report (which the LA reads) shows them as the LA does."""
    from reports.build_partnership import schools_as_the_la_reads_them

    t = three_partnerships
    with transaction.atomic(), tenant_scope(scope_for_membership(t.memberships["la_officer"])) as scope:
        la = aggregates.la_overview(scope, list(partnerships_for(scope)))
    build = TenantScope.system(partnerships=[t.north.pk], local_authorities=[t.la.pk])
    with transaction.atomic(), tenant_scope(build):
        report = schools_as_the_la_reads_them(t.north)
    assert report == la.partnerships[t.north.pk]
    assert HIDDEN in report.tables[0].totals
