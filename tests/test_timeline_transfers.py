"""The pupil's timeline at a school that received the pupil by transfer.

The transfer is an event of its own; what the sending school recorded stays on the timeline
as text that names that school, with no link to its pages (an intervention group), which
the receiving school cannot open. Every link left on the page opens for the viewer, and the
page costs the same number of queries however long the history grows.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from graduated_response.models import BehaviourObservation
from interventions.models import Enrolment
from pupils.models import Transfer
from schools.tenancy import TenantScope, tenant_scope
from tests.conftest import sign_in
from tests.test_interventions import enrol, make_group, make_provision
from tests.test_placements import nw  # noqa: F401  (a fixture the history uses)
from tests.test_provision_placements import _refer, _start
from tests.test_transfers import TODAY, history, moved, new_plan, receiving, text  # noqa: F401  (fixtures)

LINKED = ("/pupils/", "/interventions/", "/placements/", "/transfers/")


def events(html: str) -> list[str]:
    """The timeline's entries, one string of HTML each."""
    return re.findall(r'<li class="timeline__.*?</li>', html, flags=re.S)


def entry(html: str, title: str) -> str:
    found = [e for e in events(html) if title in e]
    assert found, f"no timeline entry for {title!r}"
    return found[0]


def hrefs(html: str) -> set[str]:
    return {h for h in re.findall(r'href="([^"]+)"', html) if h.startswith(LINKED)}


def assert_every_link_opens(client, html: str) -> None:
    links = hrefs(html)
    assert links  # the page's own links at least: a check over nothing proves nothing
    for href in sorted(links):
        assert client.get(href).status_code == 200, href


def both_schools(tenant):
    """Test set-up that writes rows straight into both schools, as each would have recorded
    them, without going through either school's pages."""
    schools = [tenant.school.pk, tenant.sibling.pk]
    return tenant_scope(TenantScope.system(schools=schools, local_authorities=[tenant.la.pk]))


def test_the_receiving_school_sees_the_transfer_and_the_senders_events_as_text(client, tenant, moved):  # noqa: F811
    pupil, group = moved["pupil"], moved["enrolment"].group
    sender_name = tenant.school.name
    senco = receiving(client, tenant)
    page = senco.get(f"/pupils/{pupil.pk}/timeline/")
    assert page.status_code == 200
    html = text(page)

    moved_entry = entry(
        html, f"Moved from {sender_name} to {tenant.sibling.name} (transition to the next phase)"
    )
    assert "Loves Lego." in moved_entry  # the sender's note
    assert f'href="/transfers/{moved["transfer"].pk}/"' in moved_entry
    assert "recorded at" not in moved_entry  # it names both schools already

    # The sender's group: told as text, with the sender's name, and never linked.
    joined = entry(html, f"Joined the group {group.name}")
    assert f"recorded at {sender_name}" in joined and "href=" not in joined
    assert f"/interventions/groups/{group.pk}/" not in html
    placement = entry(html, f"Placement at {tenant.provision.name} ended")
    assert f"recorded at {sender_name}" in placement and "href=" not in placement
    for title in (
        "Concerns at lunchtime",
        "Strategy tried at step 2: Movement breaks",
        "1 behaviour observation",
    ):
        assert f"recorded at {sender_name}" in entry(html, title), title
    # The step carried on at B on transfer is B's own row.
    assert "recorded at" not in entry(html, f"Carried on from {sender_name} on transfer.")

    # The sender's plan is a page of the pupil's record, which B reads through the transfer.
    plan = entry(html, "SEN support plan made at step 2: Calmer lunchtimes")
    assert f"recorded at {sender_name}" in plan
    assert f'href="/pupils/{pupil.pk}/plans/{moved["plan"].pk}/"' in plan

    assert_every_link_opens(senco, html)


def test_what_the_receiving_school_records_itself_is_not_marked(client, tenant, moved):  # noqa: F811
    pupil = moved["pupil"]
    senco = receiving(client, tenant)
    made = new_plan(senco, pupil)
    assert made.status_code == 201, made.content
    html = text(senco.get(f"/pupils/{pupil.pk}/timeline/"))
    own = entry(html, "Settling at secondary")
    assert "recorded at" not in own
    assert f'href="/pupils/{pupil.pk}/plans/{made.json()["id"]}/"' in own
    assert_every_link_opens(senco, html)


def test_the_sending_school_keeps_its_links_before_the_transfer(client, tenant, history):  # noqa: F811
    pupil, group = history["pupil"], history["enrolment"].group
    senco = sign_in(client, tenant.users["senco"], tenant.memberships["senco"])
    html = text(senco.get(f"/pupils/{pupil.pk}/timeline/"))
    assert "recorded at" not in html and "Moved from" not in html
    assert f'href="/interventions/groups/{group.pk}/"' in entry(html, f"Joined the group {group.name}")
    assert 'href="/placements/' in entry(html, f"Placement at {tenant.provision.name} ended")
    assert f'href="/pupils/{pupil.pk}/plans/{history["plan"].pk}/"' in entry(html, "Calmer lunchtimes")
    assert_every_link_opens(senco, html)


def test_a_provision_lead_keeps_the_links_to_placements_shared_with_the_provision(client, tenant):
    # The same rule away from transfers: the provision reads a placed pupil's record but no
    # page of the home school, apart from the placement the two share.
    pupil = tenant.pupils[1]
    group = make_group(tenant, name="Anger management")
    enrol(tenant, group, pupil)
    placement = _refer(tenant, pupil)
    _start(placement)
    lead = sign_in(client, tenant.users["provision_lead"], tenant.memberships["provision_lead"])
    page = lead.get(f"/pupils/{pupil.pk}/timeline/")
    assert page.status_code == 200
    html = text(page)
    started = entry(html, f"Placement at {tenant.provision.name} started")
    assert f'href="/placements/{placement.pk}/"' in started
    assert f"recorded at {tenant.school.name}" in started
    joined = entry(html, "Joined the group Anger management")
    assert f"recorded at {tenant.school.name}" in joined and "href=" not in joined
    assert_every_link_opens(lead, html)


def test_the_timeline_costs_the_same_however_many_events(client, tenant, moved):  # noqa: F811
    pupil = moved["pupil"]
    senco = receiving(client, tenant)
    url = f"/pupils/{pupil.pk}/timeline/"

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            response = senco.get(url)
        assert response.status_code == 200
        return len(ctx.captured_queries), len(events(text(response)))

    senco.get(url)  # warm the session and caches
    before, shown = count()

    # More of everything, on both sides of the transfer: observations in earlier months,
    # groups, and earlier transfers at the sender; observations and a plan at the receiver.
    now = timezone.now()
    with transaction.atomic(), both_schools(tenant):
        for months in (3, 4, 5):
            for school in (tenant.school, tenant.sibling):
                BehaviourObservation.objects.create(
                    school=school,
                    pupil=pupil,
                    observed_at=now - timedelta(days=31 * months),
                    setting="lesson",
                    behaviour="Shouted out",
                    intensity=2,
                )
        for days in (200, 300):
            Transfer.objects.create(
                school=tenant.school,
                pupil=pupil,
                to_school=tenant.sibling,
                reason=Transfer.Reason.MANAGED_MOVE,
                transferred_on=TODAY - timedelta(days=days),
            )
    for n in range(2):
        group = make_group(
            tenant,
            make_provision(tenant, name=f"Earlier provision {n}"),
            name=f"Earlier group {n}",
            starts=TODAY - timedelta(days=120 + 30 * n),
            ends=TODAY - timedelta(days=100 + 30 * n),
        )
        with transaction.atomic(), both_schools(tenant):
            Enrolment.objects.create(
                school=tenant.school, group=group, pupil=pupil, starts_on=group.starts_on
            )
    assert new_plan(senco, pupil).status_code == 201

    after, shown_after = count()
    assert shown_after == shown + 13  # 6 observation months, 2 transfers, 4 group events, a plan
    assert after == before
    html = text(senco.get(url))
    assert html.count("(managed move)") == 2
    assert f"recorded at {tenant.school.name}" in entry(html, "Joined the group Earlier group 0")
    assert_every_link_opens(senco, html)
