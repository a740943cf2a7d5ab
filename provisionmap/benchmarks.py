"""The figures `manage.py bench` measures, and the Markdown it writes (docs/benchmarks.md).

A benchmark reports numbers; it asserts nothing. For each LA it is pointed at (the demo LA
and one made by `generate_scale_data`), it measures:

- every main page and API list of each role: server time in the process (the test client
  runs the whole middleware stack, so this is the time the app spends, without a network),
  median and 95th percentile over a number of runs, and the SQL queries of one request;
- beside the pages that count, a floor: the same aggregate as one hand-written SQL query,
  timed the same way, and the page's median as a multiple of it;
- every kind of report: the figures (the builder's queries) and the PDF, and as the floor
  WeasyPrint rendering the report's final HTML alone;
- a 5,000-row pupil import (read, preview, commit) into a throwaway school.

Everything that writes (report requests, the import) happens in a transaction that is
rolled back, so the database is left as it was; two-factor devices the roles need to be
signed in are the one thing kept (made confirmed, with a random key no one knows).
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from graduated_response.models import SupportPlan
from interventions.models import InterventionGroup
from pupils.models import Pupil
from reports.builders import build
from reports.models import KIND_PERIOD, PeriodKind, ReportKind
from reports.pdf import html_to_pdf
from reports.periods import latest_complete
from reports.services import report_scope, request_report
from schools.memberships import SESSION_KEY
from schools.models import BehaviourProvision, LocalAuthority, Membership, Partnership, Role, School
from schools.scopes import scope_for_membership
from schools.tenancy import TenantScope, app_role, tenant_scope

DOCS = Path(settings.BASE_DIR) / "docs"
ROLES = (
    Role.SENCO,
    Role.HEADTEACHER,
    Role.PRACTITIONER,
    Role.PROVISION_LEAD,
    Role.PARTNERSHIP_LEAD,
    Role.LA_OFFICER,
)


class _Rollback(Exception):
    pass


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(len(ordered) * share) - 1)]


def timed(work: Callable, runs: int) -> tuple[list[float], int, object]:
    """Milliseconds of `runs` calls after one to warm up, the queries of the last, its result."""
    result = work()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as queries:
        result = work()
    return times, len(queries.captured_queries), result


@dataclass
class Subject:
    """An LA and the people and things whose pages are measured in it."""

    la: LocalAuthority
    label: str
    memberships: dict[str, Membership] = field(default_factory=dict)
    school: School | None = None
    pupil_id: int | None = None
    plan_id: int | None = None
    group_id: int | None = None
    partnership: Partnership | None = None
    provision: BehaviourProvision | None = None
    pupils: int = 0

    def urls(self, role: str) -> dict[str, str]:
        """The pages and API lists of a role: {label with placeholders: address}."""
        school, pupil = self.school.pk, self.pupil_id
        by_role = {
            Role.SENCO: {
                "/ (dashboard)": "/",
                "/pupils/": "/pupils/",
                "/pupils/{pupil}/": f"/pupils/{pupil}/",
                "/pupils/{pupil}/timeline/": f"/pupils/{pupil}/timeline/",
                "/pupils/{pupil}/plans/{plan}/": f"/pupils/{pupil}/plans/{self.plan_id}/",
                "/pupils/reviews/": "/pupils/reviews/",
                "/interventions/": "/interventions/",
                "/interventions/groups/{group}/": f"/interventions/groups/{self.group_id}/",
                "/provision-map/": "/provision-map/",
                "/what-works/": "/what-works/",
                "/api/v1/pupils/": "/api/v1/pupils/",
                "/api/v1/support-plans/": "/api/v1/support-plans/",
                "/api/v1/observations/": "/api/v1/observations/",
                "/api/v1/groups/": "/api/v1/groups/",
                "/api/v1/figures/ (school)": f"/api/v1/figures/?scope_type=school&scope_id={school}",
            },
            Role.HEADTEACHER: {
                "/ (dashboard)": "/",
                "/pupils/overrides/": "/pupils/overrides/",
                "/schools/audit/": "/schools/audit/",
                "/placements/": "/placements/",
            },
            Role.PRACTITIONER: {"/ (home)": "/", "/interventions/": "/interventions/"},
            Role.PROVISION_LEAD: {
                "/ (dashboard)": "/",
                "/placements/": "/placements/",
                "/partnership/kpis/": "/partnership/kpis/",
                "/api/v1/placements/": "/api/v1/placements/",
            },
            Role.PARTNERSHIP_LEAD: {
                "/ (dashboard)": "/",
                "/partnership/overview/": "/partnership/overview/",
                "/partnership/kpis/": "/partnership/kpis/",
                "/schools/budgets/": "/schools/budgets/",
                "/api/v1/figures/ (partnership)": (
                    f"/api/v1/figures/?scope_type=partnership&scope_id={self.partnership.pk}"
                ),
            },
            Role.LA_OFFICER: {
                "/ (dashboard)": "/",
                "/partnership/overview/": "/partnership/overview/",
                "/dashboard/partnership/{partnership}/": f"/dashboard/partnership/{self.partnership.pk}/",
                "/reports/": "/reports/",
                "/api/v1/figures/ (LA)": f"/api/v1/figures/?scope_type=local_authority&scope_id={self.la.pk}",
            },
        }
        return by_role[role]


def subject(la: LocalAuthority, label: str) -> Subject:
    """The LA's first member of each role (the SENCO's school decides the pupil pages)."""
    s = Subject(la=la, label=label)
    for role in ROLES:
        found = (
            Membership.objects.filter(role=role)
            .filter(
                **{
                    Role.SENCO: {"school__local_authority": la},
                    Role.HEADTEACHER: {"school__local_authority": la},
                    Role.PRACTITIONER: {"school__local_authority": la},
                    Role.PROVISION_LEAD: {"provision__partnership__local_authority": la},
                    Role.PARTNERSHIP_LEAD: {"partnership__local_authority": la},
                    Role.LA_OFFICER: {"local_authority": la},
                }[role]
            )
            .select_related("user", "school", "partnership", "provision")
            .order_by("pk")
            .first()
        )
        if found is not None:
            s.memberships[role] = found
    senco = s.memberships.get(Role.SENCO)
    if senco is None:
        return s
    s.school = senco.school
    s.partnership = getattr(s.memberships.get(Role.PARTNERSHIP_LEAD), "partnership", None)
    s.provision = getattr(s.memberships.get(Role.PROVISION_LEAD), "provision", None)
    with transaction.atomic(), tenant_scope(TenantScope.for_school(s.school.pk, la_id=la.pk)):
        plan = SupportPlan.objects.filter(status="open").order_by("pk").first()
        group = InterventionGroup.objects.order_by("-starts_on", "pk").first()
        s.pupil_id, s.plan_id = (plan.pupil_id, plan.pk) if plan else (None, None)
        s.group_id = group.pk if group else None
    with transaction.atomic(), tenant_scope(la_wide(la)):
        s.pupils = Pupil.objects.count()
    return s


def la_wide(la: LocalAuthority) -> TenantScope:
    schools = list(School.objects.filter(local_authority=la).values_list("pk", flat=True))
    return TenantScope.system(schools=schools, local_authorities=[la.pk], count_schools=schools)


def signed_in(membership: Membership) -> Client:
    """A client signed in as the member, past two-factor where the role needs it."""
    client = Client(SERVER_NAME=(settings.ALLOWED_HOSTS or ["localhost"])[0].lstrip(".") or "localhost")
    client.force_login(membership.user)
    device = TOTPDevice.objects.filter(user=membership.user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=membership.user, name="benchmark", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[SESSION_KEY] = membership.pk
    session.save()
    return client


# --- floors: one hand-written query for what a page counts ---------------------------------------

FLOORS = {
    # The school's pupils on roll by current step and SEN status.
    (Role.SENCO, "/ (dashboard)"): """
        SELECT s.number, p.sen_status, count(*) FROM pupils_pupil p
        LEFT JOIN graduated_response_stepplacement sp ON sp.pupil_id = p.id AND sp.status = 'active'
        LEFT JOIN graduated_response_step s ON s.id = sp.step_id
        WHERE p.school_id = %(school)s AND p.is_active GROUP BY 1, 2""",
    # The first page of the register.
    (Role.SENCO, "/pupils/"): """
        SELECT p.id, p.last_name, p.first_name, p.nc_year, p.sen_status, s.number FROM pupils_pupil p
        LEFT JOIN graduated_response_stepplacement sp ON sp.pupil_id = p.id AND sp.status = 'active'
        LEFT JOIN graduated_response_step s ON s.id = sp.step_id
        WHERE p.school_id = %(school)s AND p.is_active ORDER BY p.last_name, p.first_name LIMIT 50""",
    # Each school of the partnership: register, steps 4 to 6.
    (Role.PARTNERSHIP_LEAD, "/ (dashboard)"): """
        SELECT p.school_id, count(*) FILTER (WHERE p.sen_status = 'K'),
               count(*) FILTER (WHERE p.sen_status = 'E'), count(*) FILTER (WHERE s.number >= 4)
        FROM pupils_pupil p JOIN schools_school sc ON sc.id = p.school_id
        LEFT JOIN graduated_response_stepplacement sp ON sp.pupil_id = p.id AND sp.status = 'active'
        LEFT JOIN graduated_response_step s ON s.id = sp.step_id
        WHERE sc.partnership_id = %(partnership)s AND p.is_active GROUP BY 1""",
    # Each partnership of the LA: the same counts.
    (Role.LA_OFFICER, "/ (dashboard)"): """
        SELECT sc.partnership_id, count(*) FILTER (WHERE p.sen_status = 'K'),
               count(*) FILTER (WHERE p.sen_status = 'E'), count(*) FILTER (WHERE s.number >= 4)
        FROM pupils_pupil p JOIN schools_school sc ON sc.id = p.school_id
        LEFT JOIN graduated_response_stepplacement sp ON sp.pupil_id = p.id AND sp.status = 'active'
        LEFT JOIN graduated_response_step s ON s.id = sp.step_id
        WHERE sc.local_authority_id = %(la)s AND p.is_active GROUP BY 1""",
}


def floor_ms(s: Subject, sql: str, runs: int) -> float:
    params = {"school": s.school.pk, "la": s.la.pk, "partnership": s.partnership.pk if s.partnership else 0}

    def query():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    with transaction.atomic(), app_role(), tenant_scope(la_wide(s.la)):
        times, _, _ = timed(query, runs)
    return statistics.median(times)


def measure_pages(s: Subject, runs: int, say: Callable[[str], None]) -> list[dict]:
    rows = []
    for role in ROLES:
        membership = s.memberships.get(role)
        if membership is None:
            continue
        client = signed_in(membership)
        for label, url in s.urls(role).items():
            times, queries, response = timed(lambda url=url, client=client: client.get(url), runs)
            row = {
                "role": role.label,
                "page": label,
                "status": response.status_code,
                "queries": queries,
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(percentile(times, 0.95), 1),
            }
            sql = FLOORS.get((role, label))
            if sql:
                floor = floor_ms(s, sql, runs)
                row["floor_ms"] = round(floor, 2)
                row["ratio"] = round(row["median_ms"] / floor, 1) if floor else None
            rows.append(row)
            ms = f"{row['median_ms']:8.1f} ms  p95 {row['p95_ms']:8.1f}"
            say(f"  {role.label:17} {label:45} {ms}  {queries} q")
            if (role, label) in FRESH_SUPPRESSION:
                times = []
                for _ in range(max(3, runs // 4)):
                    forget_suppression()
                    start = time.perf_counter()
                    client.get(url)
                    times.append((time.perf_counter() - start) * 1000)
                fresh = {key: value for key, value in row.items() if key not in ("floor_ms", "ratio")} | {
                    "page": f"{label}, new counts",
                    "median_ms": round(statistics.median(times), 1),
                    "p95_ms": round(percentile(times, 0.95), 1),
                }
                rows.append(fresh)
                ms = f"{fresh['median_ms']:8.1f} ms  p95 {fresh['p95_ms']:8.1f}"
                say(f"  {role.label:17} {fresh['page']:45} {ms}")
    return rows


# Pages whose suppressed tables are remembered (interventions/aggregates.remembered): they
# are measured a second time with nothing remembered, as the first view after the counts
# change finds them.
FRESH_SUPPRESSION = {(Role.PARTNERSHIP_LEAD, "/ (dashboard)"), (Role.LA_OFFICER, "/ (dashboard)")}


def forget_suppression() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    pattern = f"{settings.CACHES['default']['KEY_PREFIX']}:*suppressed*"
    keys = list(client.scan_iter(pattern))
    if keys:
        client.delete(*keys)


# --- reports -------------------------------------------------------------------------------------

REPORT_SCOPES = {
    ReportKind.SCHOOL_TERMLY: ("school", Role.SENCO),
    ReportKind.PUPIL_PROVISION_MAP: ("pupil", Role.SENCO),
    ReportKind.PUPIL_PROFILE: ("pupil", Role.SENCO),
    ReportKind.TRANSITION_RECORD: ("pupil", Role.SENCO),
    ReportKind.PROVISION_TERMLY: ("provision", Role.PROVISION_LEAD),
    ReportKind.PARTNERSHIP_ANNUAL: ("partnership", Role.PARTNERSHIP_LEAD),
    ReportKind.FINANCIAL_QUARTERLY: ("partnership", Role.PARTNERSHIP_LEAD),
    ReportKind.LA_OVERVIEW: ("local_authority", Role.LA_OFFICER),
}


def measure_reports(s: Subject, runs: int, say: Callable[[str], None]) -> list[dict]:
    ids = {
        "school": s.school.pk,
        "pupil": s.pupil_id,
        "provision": s.provision.pk if s.provision else None,
        "partnership": s.partnership.pk if s.partnership else None,
        "local_authority": s.la.pk,
    }
    rows = []
    try:
        with transaction.atomic():
            for kind, (scope_type, role) in REPORT_SCOPES.items():
                membership = s.memberships.get(role)
                if membership is None or ids[scope_type] is None:
                    continue
                period = ""
                if KIND_PERIOD[kind] != PeriodKind.NONE:
                    period = latest_complete(KIND_PERIOD[kind], today=timezone.localdate()).code
                with tenant_scope(scope_for_membership(membership)):
                    row = request_report(
                        None,
                        kind=kind,
                        scope_type=scope_type,
                        scope_id=ids[scope_type],
                        period=period,
                        queue=False,
                    )
                with app_role():
                    scope = report_scope(row)

                    def figures(row=row, scope=scope):
                        with transaction.atomic(), tenant_scope(scope):
                            return build(row)

                    fig_times, queries, (data, template, context) = timed(figures, runs)
                html = render_to_string(template, {**context, "figures": data, "report": row})
                pdf_times, _, (_, pages) = timed(lambda html=html: html_to_pdf(html), max(1, runs // 2))
                build_ms = statistics.median(fig_times) + statistics.median(pdf_times)
                rows.append(
                    {
                        "kind": ReportKind(kind).label,
                        "figures_ms": round(statistics.median(fig_times), 1),
                        "queries": queries,
                        "pdf_ms": round(statistics.median(pdf_times), 1),
                        "pages": pages,
                        "build_ms": round(build_ms, 1),
                        "floor_ms": round(statistics.median(pdf_times), 1),
                        "ratio": round(build_ms / statistics.median(pdf_times), 2),
                    }
                )
                say(f"  {ReportKind(kind).label:45} {build_ms / 1000:6.2f} s ({pages} pages, {queries} q)")
            raise _Rollback
    except _Rollback:
        pass
    return rows


# --- the import ----------------------------------------------------------------------------------


def measure_import(rows: int) -> dict:
    from pupils.imports import commit_import, preview_import, read_table
    from pupils.management.commands.bench_import import make_csv

    out: dict = {"rows": rows}
    try:
        with transaction.atomic():
            # 909 is a real LA number (UPNs carry it); the demo LA's when it is there. The
            # school and its pupils go with the rollback either way.
            la, _ = LocalAuthority.objects.get_or_create(code="909", defaults={"name": "Benchmark LA"})
            urn = next(str(n) for n in range(999999, 900000, -1) if not School.objects.filter(urn=n).exists())
            school = School.objects.create(
                urn=urn, name="Benchmark School", local_authority=la, phase=School.Phase.ALL_THROUGH
            )
            with tenant_scope(TenantScope.for_school(school.pk, la_id=la.pk)):
                data = make_csv(rows, la_code=la.code, establishment="9876")
                start = time.perf_counter()
                with CaptureQueriesContext(connection) as queries:
                    table = read_table(data, "bench.csv")
                    preview = preview_import(school=school, rows=table)
                    commit_import(request=None, school=school, preview=preview, source="import")
                out["seconds"] = round(time.perf_counter() - start, 2)
                out["queries"] = len(queries.captured_queries)
            raise _Rollback
    except _Rollback:
        pass
    return out


# --- the files -----------------------------------------------------------------------------------


def machine() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return {
        "date": date.today().isoformat(),
        "python": platform.python_version(),
        "postgresql": pg,
        "cpus": __import__("os").cpu_count(),
        "platform": platform.platform(),
    }


def save(results: dict) -> Path:
    """Merge into docs/benchmarks.json (other tools add their sections) and write the Markdown."""
    DOCS.mkdir(exist_ok=True)
    path = DOCS / "benchmarks.json"
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(results)
    path.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    (DOCS / "benchmarks.md").write_text(markdown(current))
    return path


def table(headings: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    lines += ["| " + " | ".join("" if c is None else str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def targets(data: dict) -> list[str]:
    """The figures set beside the targets: pages under 250 ms at the 95th percentile at LA
    scale, query counts that do not grow with the data, the partnership annual PDF under 10 s."""
    sets = sorted((v for k, v in data.items() if k.startswith("dataset:")), key=lambda d: d["pupils"])
    if not sets:
        return []
    big, small = sets[-1], sets[0]
    warm = [r for r in big["pages"] if not r["page"].endswith("new counts")]
    fresh = [r for r in big["pages"] if r["page"].endswith("new counts")]
    slowest = max(warm, key=lambda r: r["p95_ms"])
    lines = [
        "## Against the targets",
        "",
        f"At {big['pupils']:,} pupils ({big['label']}):",
        "",
        f"- Main pages and API lists: the slowest 95th percentile is {slowest['p95_ms']:.0f} ms, "
        f"`{slowest['page']}` ({slowest['role']}). Target: 250 ms.",
    ]
    for r in fresh:
        lines.append(
            f"- `{r['page']}` ({r['role']}), the first view after the counts change: {r['p95_ms']:.0f} ms "
            "at the 95th percentile (the suppression worked out again)."
        )
    annual = next((r for r in big["reports"] if r["kind"].startswith("Partnership annual")), None)
    if annual:
        lines.append(
            f"- Partnership annual report: built in {annual['build_ms'] / 1000:.1f} s "
            f"({annual['pages']} pages). Target: 10 s."
        )
    if small is not big:
        before = {(r["role"], r["page"]): r["queries"] for r in small["pages"]}
        differ = [
            f"`{r['page']}` ({r['role']}: {before[(r['role'], r['page'])]} → {r['queries']})"
            for r in big["pages"]
            if (r["role"], r["page"]) in before and before[(r["role"], r["page"])] != r["queries"]
        ]
        same = len(big["pages"]) - len(differ)
        lines.append(
            f"- Queries per page: the same at {small['pupils']:,} and {big['pupils']:,} pupils on {same} of "
            f"{len(big['pages'])} pages."
            + (
                " Elsewhere: " + ", ".join(differ) + ". These pages show one pupil, plan or group, "
                "and the one measured differs between the two datasets (what it has recorded, not how "
                "much data there is, sets the count); tests/test_query_counts.py and "
                "tests/test_dashboards.py pin the counts as data is added."
                if differ
                else ""
            )
        )
    return [*lines, ""]


def markdown(data: dict) -> str:
    parts = [
        "# Benchmarks",
        "",
        "Figures measured on this project's own machine; written by `make bench` (which runs "
        "`python manage.py bench`) from `docs/benchmarks.json`. Nothing here is asserted by a "
        "test: they are figures to read, and to compare run with run.",
        "",
    ]
    if "machine" in data:
        m = data["machine"]
        parts += [
            f"Measured on {m['date']}: {m['cpus']} CPUs, Python {m['python']}, PostgreSQL {m['postgresql']}.",
            "",
        ]
    parts += [
        "## Reproduce",
        "",
        "```sh",
        "make bench                     # demo LA and an LA at scale, pages, reports, import",
        "python manage.py generate_scale_data --schools 120 --pupils-per-school 500 --seed 1",
        "python manage.py bench --runs 20",
        "make load                      # 50 users for 2 minutes: gunicorn, a Celery worker, locust",
        "make checks                    # the API fuzzing and fault tests, recorded here",
        "```",
        "",
    ]
    parts += targets(data)
    for key in sorted(k for k in data if k.startswith("dataset:")):
        d = data[key]
        parts += [f"## {d['label']}: {d['pupils']:,} pupils", ""]
        parts += [
            "Server time in the process, over "
            f"{d['runs']} requests after one to warm up; queries of one request. The floor is one "
            "hand-written SQL query for the same figures; the ratio is the page's median over it. "
            "Suppressing the partnership and LA tables is remembered for the counts it was worked "
            "out for; the rows marked *new counts* are the same page with nothing remembered, as "
            "the first view after the counts change finds it.",
            "",
        ]
        parts.append(
            table(
                ["role", "page", "status", "queries", "median ms", "p95 ms", "floor ms", "ratio"],
                [
                    [
                        r["role"],
                        f"`{r['page']}`",
                        r["status"],
                        r["queries"],
                        r["median_ms"],
                        r["p95_ms"],
                        r.get("floor_ms"),
                        r.get("ratio"),
                    ]
                    for r in d["pages"]
                ],
            )
        )
        parts += [
            "",
            "Report builds: the figures, then the PDF; the floor is WeasyPrint rendering the "
            "report's final HTML alone.",
            "",
        ]
        parts.append(
            table(
                ["report", "figures ms", "queries", "PDF ms", "pages", "build ms", "floor ms", "ratio"],
                [
                    [
                        r["kind"],
                        r["figures_ms"],
                        r["queries"],
                        r["pdf_ms"],
                        r["pages"],
                        r["build_ms"],
                        r["floor_ms"],
                        r["ratio"],
                    ]
                    for r in d["reports"]
                ],
            )
        )
        parts.append("")
    if "import" in data:
        i = data["import"]
        parts += [
            "## Import",
            "",
            f"A {i['rows']:,}-row CSV read, previewed and committed into a new school: {i['seconds']} s, "
            f"{i['queries']} queries.",
            "",
        ]
    for key, title in (("load", "Load test"), ("fuzz", "API fuzzing"), ("faults", "Fault tests")):
        if key in data:
            parts += [f"## {title}", "", data[key]["markdown"].rstrip(), ""]
    return "\n".join(parts).rstrip() + "\n"
