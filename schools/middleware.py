"""Request plumbing for tenancy and sign-in.

Order matters (see MIDDLEWARE in settings): the app role and the transaction come first,
so sessions, users and memberships are read as the app role; the tenant scope comes last,
once the user and the active membership are known.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from schools import tokens
from schools.memberships import choose_membership, memberships_of, requires_two_factor
from schools.scopes import scope_for_membership
from schools.tenancy import app_role, tenant_scope

Handler = Callable[[HttpRequest], HttpResponse]


class AppDatabaseRoleMiddleware:
    """Run the whole request in one transaction as the app role (no ownership, no BYPASSRLS)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with transaction.atomic():
            # Outermost (not nested in a test's transaction): the commit below resets the role.
            with app_role(transaction_ends_here=not connection.savepoint_ids):
                response = self.get_response(request)
            if response.status_code >= 500:
                # Django turned an exception into this response inside the block; nothing
                # the failed request wrote may stay.
                transaction.set_rollback(True)
            return response


class ApiTokenMiddleware:
    """`Authorization: Token …` signs the request in before the tenant scope is chosen."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.api_token = None
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header.startswith("Token "):
            token = tokens.authenticate(header.removeprefix("Token ").strip())
            if token is None:
                return JsonResponse({"detail": "Invalid or expired token."}, status=401)
            request.user = token.user
            request.api_token = token
        return self.get_response(request)


class SessionTimeoutMiddleware:
    """Idle and absolute session limits, checked on every request."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.api_token is None and request.user.is_authenticated:
            now = int(time.time())
            # A session without its clocks did not come through sign-in: treat it as ended.
            started = request.session.get("signed_in_at", 0)
            last = request.session.get("last_seen", 0)
            if now - last > settings.SESSION_IDLE_SECONDS or now - started > settings.SESSION_COOKIE_AGE:
                logout(request)
                return redirect(f"{reverse('login')}?expired=1")
            if now - last > 30:  # avoid a session write on every click
                request.session["last_seen"] = now
        return self.get_response(request)


# Pages a signed-in user may reach before finishing two-factor.
TWO_FACTOR_OPEN = ("login", "logout", "two_factor_challenge", "two_factor_setup")


class TwoFactorRequiredMiddleware:
    """Until a required second factor is given, only the two-factor pages and sign-out answer."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.memberships = []
        user = request.user
        if not user.is_authenticated:
            return self.get_response(request)
        request.memberships = memberships_of(user)
        if request.api_token is not None:
            verified = request.api_token.two_factor_verified
        else:
            verified = user.is_verified()
        request.two_factor_required = requires_two_factor(user, request.memberships) or (
            request.api_token is None and request.session.get("two_factor", False)
        )
        if request.two_factor_required and not verified:
            match = _resolve(request)
            if match is None or match.url_name not in TWO_FACTOR_OPEN:
                if request.path.startswith("/api/"):
                    return JsonResponse({"detail": "Two-factor authentication required."}, status=403)
                return redirect("two_factor_challenge")
        return self.get_response(request)


def _resolve(request: HttpRequest):
    from django.urls import Resolver404, resolve

    try:
        return resolve(request.path_info)
    except Resolver404:
        return None


class TenantScopeMiddleware:
    """Activate the scope of the request's active membership for ORM and database alike."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = None
        memberships = getattr(request, "memberships", [])
        if not memberships:
            return self.get_response(request)
        membership = choose_membership(request, memberships)
        if membership is None:
            return JsonResponse({"detail": "You do not hold that membership."}, status=403)
        request.membership = membership
        with tenant_scope(scope_for_membership(membership)):
            return self.get_response(request)
