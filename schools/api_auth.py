"""API authentication, permission and errors: the same scope as the browser."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from schools.audit import Action, audit
from schools.tenancy import current_scope


class ApiTokenAuthentication(BaseAuthentication):
    """Reads what ApiTokenMiddleware established; the middleware already refused bad tokens."""

    def authenticate(self, request):
        token = getattr(request._request, "api_token", None)
        if token is None:
            return None
        return (token.user, token)

    def authenticate_header(self, request) -> str:
        return "Token"


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "schools.api_auth.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>` from POST /api/v1/auth/token/",
        }


class HasActiveMembership(BasePermission):
    """Signed in, past two-factor (the middleware checks), with a membership in scope."""

    message = "Sign in with an account that holds a membership."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and current_scope() is not None)


class PupilLevel(HasActiveMembership):
    message = "Your role sees figures, not individual pupils."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if current_scope().pupil_level:
            return True
        audit(request._request, Action.DENIED, object_type="pupil-route", detail={"reason": "role"})
        return False
