from django.http import HttpRequest
from django.urls import reverse

from schools.roles import NAVIGATION


def navigation(request: HttpRequest) -> dict:
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"nav_items": [], "active_membership": None, "memberships": []}
    current = request.resolver_match.view_name if request.resolver_match else ""
    items = [
        {"label": label, "url": reverse(name), "current": name == current}
        for label, name in NAVIGATION.get(membership.role, [])
    ]
    return {
        "nav_items": items,
        "active_membership": membership,
        "memberships": getattr(request, "memberships", []),
    }
