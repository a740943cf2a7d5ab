"""Error pages: plain words for people, JSON for the API, no detail that leaks."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def _respond(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return render(request, "error.html", {"title": title, "message": message}, status=status)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    # Our own BadRequest messages are written for people; anything else gets plain words.
    message = str(exception) if exception is not None and exception.__class__.__name__ == "BadRequest" else ""
    return _respond(
        request, 400, "That could not be done", message or "The request was not one we can act on."
    )


def audit_refused_change(request: HttpRequest, exception) -> None:
    """A change to a row another school recorded is a refused attempt: logged like any."""
    from schools.audit import Action, audit
    from schools.tenancy import RecordedElsewhere

    if isinstance(exception, RecordedElsewhere):
        audit(
            request,
            Action.DENIED,
            object_type=exception.object_type,
            object_id=exception.object_id,
            school_id=exception.school_id,
            detail={"reason": "recorded_elsewhere"},
        )


def forbidden(request: HttpRequest, exception=None) -> HttpResponse:
    # A refusal our services explain (say, a record another school keeps) keeps its words.
    message = str(exception) if isinstance(exception, PermissionDenied) and exception.args else ""
    audit_refused_change(request, exception)
    return _respond(
        request,
        403,
        "Not available to your role",
        message or "Your role cannot open this page. Switch membership in the header if you hold another.",
    )


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _respond(request, 404, "Page not found", "There is nothing here that you can open.")


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Something went wrong on our side; nothing was changed."}, status=500)
    # Rendered without context processors: the request may have failed half way.
    from django.template import loader

    html = loader.get_template("500.html").render()
    return HttpResponse(html, status=500)
