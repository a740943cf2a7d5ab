"""What each role's navigation offers, and a decorator that admits only some roles."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from schools.audit import Action, audit
from schools.models import Role

# (label, url name) per role, in the order the header shows them.
NAVIGATION: dict[str, list[tuple[str, str]]] = {
    Role.SENCO: [
        ("Home", "home"),
        ("Pupils", "pupils:list"),
        ("Reviews due", "graduated_response:reviews-due"),
        ("Interventions", "interventions:groups"),
        ("Provision map", "provision_map:school"),
        ("What works", "provision_map:what-works"),
        ("School", "schools:list"),
        ("Frameworks", "frameworks:list"),
    ],
    Role.PRACTITIONER: [("Home", "home"), ("Pupils", "pupils:list"), ("My groups", "interventions:groups")],
    Role.HEADTEACHER: [
        ("Home", "home"),
        ("Pupils", "pupils:list"),
        ("Reviews due", "graduated_response:reviews-due"),
        ("Interventions", "interventions:groups"),
        ("Provision map", "provision_map:school"),
        ("What works", "provision_map:what-works"),
        ("School", "schools:list"),
        ("Overrides", "graduated_response:overrides"),
        ("Frameworks", "frameworks:list"),
        ("Audit log", "schools:audit"),
    ],
    Role.PROVISION_LEAD: [
        ("Home", "home"),
        ("Provision", "schools:provisions"),
        ("Agreements", "schools:sla-list"),
    ],
    Role.PARTNERSHIP_LEAD: [
        ("Home", "home"),
        ("Schools", "schools:list"),
        ("Provision", "schools:provisions"),
        ("Agreements", "schools:sla-list"),
        ("Annual report", "schools:report"),
    ],
    Role.LA_OFFICER: [
        ("Home", "home"),
        ("Schools", "schools:list"),
        ("Provisions", "schools:provisions"),
        ("Agreements", "schools:sla-list"),
        ("Annual reports", "schools:report"),
    ],
    Role.LA_ADMIN: [
        ("Home", "home"),
        ("Schools", "schools:list"),
        ("Provisions", "schools:provisions"),
        ("Frameworks", "frameworks:list"),
        ("LA settings", "schools:la-settings"),
    ],
    Role.PLATFORM_ADMIN: [("Home", "home"), ("Administration", "admin:index")],
}


def roles_required(roles: Iterable[str]) -> Callable:
    allowed = {str(r) for r in roles}

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            membership = getattr(request, "membership", None)
            if membership is None or membership.role not in allowed:
                # Every refused attempt is audited (SECURITY.md 12).
                audit(
                    request,
                    Action.DENIED,
                    object_type="route",
                    object_id=request.path[:40],
                    detail={"reason": "role"},
                )
                raise PermissionDenied("Your role cannot open this page.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# Partnership budgets (issue 6): appended so this block stays whole.
for _role in (Role.PARTNERSHIP_LEAD, Role.HEADTEACHER, Role.LA_OFFICER):
    NAVIGATION[_role].append(("Budgets", "schools:budgets"))

# Placements in behaviour provisions (issue 6): appended so this block stays whole.
for _role in (Role.SENCO, Role.HEADTEACHER, Role.PROVISION_LEAD):
    NAVIGATION[_role].append(("Placements", "placements:list"))

# Figures for roles over many schools (issue 6): appended so this block stays whole. The
# overview is their first page after Home; the pages live in interventions (they count
# pupils), so only url names appear here.
for _role in (Role.PARTNERSHIP_LEAD, Role.LA_OFFICER):
    NAVIGATION[_role].insert(1, ("Overview", "partnership:overview"))
for _role in (Role.PARTNERSHIP_LEAD, Role.LA_OFFICER, Role.PROVISION_LEAD):
    NAVIGATION[_role].append(("KPIs", "partnership:kpis"))

# Transfers of pupils between schools (issue 6): appended so this block stays whole.
for _role in (Role.SENCO, Role.HEADTEACHER):
    NAVIGATION[_role].append(("Transfers", "transfers:list"))

# Reports (issue 7): appended so this block stays whole. The pages live in reports (they read
# every app), so only the url name appears here.
for _role in (Role.SENCO, Role.HEADTEACHER, Role.PROVISION_LEAD, Role.PARTNERSHIP_LEAD, Role.LA_OFFICER):
    NAVIGATION[_role].append(("Reports", "reports:list"))
