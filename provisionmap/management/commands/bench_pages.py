"""`manage.py bench_pages`: server time and SQL query count of the main pages and API lists,
as a demo SENCO sees them (run `seed_demo` first). A benchmark that reports figures, not a
test: nothing is asserted, and the numbers depend on the machine."""

from __future__ import annotations

import statistics
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from graduated_response.models import SupportPlan
from interventions.models import InterventionGroup
from schools.models import Membership, Role, User
from schools.tenancy import TenantScope, tenant_scope


class Command(BaseCommand):
    help = "Time the main pages and API lists for a demo SENCO: median and 95th percentile, and queries."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="senco", help="A SENCO who needs no second factor.")
        parser.add_argument("--runs", type=int, default=20, help="Requests per page (after one to warm up).")

    def handle(self, *args, username: str, runs: int, **options) -> None:
        user = User.objects.filter(username=username).first()
        membership = Membership.objects.filter(user=user, role=Role.SENCO).select_related("school").first()
        if membership is None:
            raise CommandError(f"No SENCO called {username!r}: run seed_demo first.")
        school = membership.school
        with (
            transaction.atomic(),
            tenant_scope(TenantScope.for_school(school.pk, la_id=school.local_authority_id)),
        ):
            plan = SupportPlan.objects.filter(status="open").order_by("pk").first()
            group = InterventionGroup.objects.order_by("-starts_on", "pk").first()
        if plan is None or group is None:
            raise CommandError("The school has no open plan or group: run seed_demo first.")
        pages = {
            "/pupils/": "/pupils/",
            "/pupils/{pupil}/": f"/pupils/{plan.pupil_id}/",
            "/pupils/{pupil}/timeline/": f"/pupils/{plan.pupil_id}/timeline/",
            "/pupils/{pupil}/observations/": f"/pupils/{plan.pupil_id}/observations/",
            "/pupils/{pupil}/plans/{plan}/": f"/pupils/{plan.pupil_id}/plans/{plan.pk}/",
            "/pupils/reviews/": "/pupils/reviews/",
            "/interventions/": "/interventions/",
            "/interventions/groups/{group}/": f"/interventions/groups/{group.pk}/",
            "/interventions/groups/{group}/sessions/new/": f"/interventions/groups/{group.pk}/sessions/new/",
            "/provision-map/": "/provision-map/",
            "/what-works/": "/what-works/",
            "/pupils/{pupil}/provision/": f"/pupils/{plan.pupil_id}/provision/",
            "/api/v1/support-plans/": "/api/v1/support-plans/",
            "/api/v1/observations/": "/api/v1/observations/",
            "/api/v1/groups/": "/api/v1/groups/",
            "/api/v1/provision-map/": "/api/v1/provision-map/",
            "/api/v1/what-works/": "/api/v1/what-works/",
        }
        client = Client(SERVER_NAME=(settings.ALLOWED_HOSTS or ["localhost"])[0].lstrip(".") or "localhost")
        client.force_login(user)
        self.stdout.write("| page | status | SQL queries | median ms | p95 ms |\n|---|---|---|---|---|")
        for label, url in pages.items():
            client.get(url)
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            times.sort()
            p95 = times[max(0, round(len(times) * 0.95) - 1)]
            self.stdout.write(
                f"| {label} | {response.status_code} | {len(queries.captured_queries)} "
                f"| {statistics.median(times):.0f} | {p95:.0f} |"
            )
