"""Named access helpers: return the object in scope, or raise 404 (never 403 for existence).

Every denied lookup is audited, so repeated probing of ids shows in the school's log.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest

from schools.audit import Action, audit
from schools.tenancy import TenantModel, current_scope

M = TypeVar("M", bound=TenantModel)


def require_pupil_level(request: HttpRequest) -> None:
    """Aggregate-only roles (partnership lead, LA officer, LA admin) get 403 on pupil routes.

    The answer depends on the role alone, never on whether an object exists.
    """
    scope = current_scope()
    if scope is None or not scope.pupil_level:
        audit(request, Action.DENIED, object_type="pupil-route", detail={"reason": "role"})
        raise PermissionDenied("Your role sees figures, not individual pupils.")


def get_in_scope_or_404(request: HttpRequest, qs: models.QuerySet[M], pk: object) -> M:
    """`qs` comes from a selector, so it already holds only what the scope may open."""
    try:
        return qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        audit(request, Action.DENIED, object_type=qs.model._meta.label_lower, object_id=_id_for_audit(pk))
        raise Http404("Not found.") from None


def get_named_in_body_or_400(
    request: HttpRequest, qs: models.QuerySet[M], pk: object, *, field: str, message: str
) -> M:
    """An object a request body names by id (SECURITY.md 2): out of scope or unknown, it is
    a 400 — the same answer for both, so nothing says it exists — and the attempt is audited
    as a refusal. The API answers on the field; a browser form gets the error page."""
    from django.core.exceptions import BadRequest
    from rest_framework.exceptions import ValidationError as BodyError

    try:
        return qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        audit(request, Action.DENIED, object_type=qs.model._meta.label_lower, object_id=_id_for_audit(pk))
        if request.path.startswith("/api/"):
            raise BodyError({field: [message]}) from None
        raise BadRequest(message) from None


def _id_for_audit(pk: object) -> str:
    """The id a refused request named, if it is one: the log is append-only, so text typed
    where an id belongs (which could be a child's name) never reaches it."""
    text = str(pk).strip()
    return text[:40] if text.isdigit() else "(not an id)"
