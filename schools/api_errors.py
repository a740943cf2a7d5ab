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


# Every operation can answer with some of these, whatever its view declares: the middleware
# and DRF refuse before the view runs (no or a bad token: 401; two-factor missing, a role or
# membership refused: 403), anything that names a row, by address or filter, can be out of
# scope (404, not 403: nothing is revealed), input can be malformed (400) or sent as a type
# the operation does not read (415), and the rate limits apply to every caller (429).
# Documented once here, so each view's own responses stay about what it does.
_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_FIELD_ERRORS = {
    "type": "object",
    "description": "`detail`, or field name → messages (`non_field_errors` for the whole body).",
    "additionalProperties": True,
}
_ERRORS = {
    "400": ("Malformed or refused input.", "FieldErrors", _FIELD_ERRORS),
    "401": ("No valid token or session.", "ErrorDetail", _DETAIL),
    "403": ("Two-factor missing, or the role or membership may not do this.", "ErrorDetail", _DETAIL),
    "404": ("Not found, or not yours (the same answer).", "ErrorDetail", _DETAIL),
    "415": ("The body's content type is not one this operation reads.", "ErrorDetail", _DETAIL),
    "429": ("Too many requests; try again later.", "ErrorDetail", _DETAIL),
}


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the shared error answers to each operation."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            parameters = {p.get("in") for p in operation.get("parameters", [])}
            codes = {"429"}
            if operation.get("security"):  # the token exchange itself takes no credentials
                codes |= {"401", "403"}
            # Any write may be refused by its service (an approval given twice, a step too
            # far), even one without a body.
            if "requestBody" in operation or "query" in parameters or method in ("post", "put", "patch"):
                codes.add("400")
            if parameters & {"path", "query"}:
                codes.add("404")
            if "requestBody" in operation:
                codes.add("415")
            responses = operation.setdefault("responses", {})
            for code in sorted(codes - set(responses)):
                description, name, schema = _ERRORS[code]
                components.setdefault(name, schema)
                responses[code] = {
                    "description": description,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
                }
    return result
