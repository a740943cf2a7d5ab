"""API error bodies: 404 says only "Not found." so nothing about the object leaks."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    # Django's 403 from a role check and 404 keep their meaning; nothing else leaks detail.
    if isinstance(exc, DjangoPermissionDenied) and context.get("request") is not None:
        from provisionmap.errors import audit_refused_change

        audit_refused_change(context["request"]._request, exc)
    if isinstance(exc, DjangoPermissionDenied) and exc.args:
        # A refusal a service explains keeps its words (DRF would put its own).
        exc = exceptions.PermissionDenied(str(exc))
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.NotFound):
        response.data = {"detail": "Not found."}
    return response
