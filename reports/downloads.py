"""Sending a finished report's PDF or JSON snapshot, for the browser and the API alike.

A download is a read of what the report holds, so each one is audited (ids only); the file
goes out as an attachment that no cache keeps (SECURITY.md 12, 14), named by the report's
kind, id, period and version, never by a pupil's name.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest

from reports.models import ReportRequest
from schools.audit import Action, audit

FILES = {"pdf": ("pdf", "application/pdf"), "snapshot": ("json", "application/json")}


def download_name(row: ReportRequest, which: str) -> str:
    extension = FILES[which][0]
    return f"{row.kind}-{row.pk}-{row.period or 'current'}-v{row.version}.{extension}"


def download_response(request: HttpRequest, row: ReportRequest, which: str) -> FileResponse:
    """The file of a report already opened through the scope; 404 until it is built."""
    stored = getattr(row, which)
    if row.status != ReportRequest.Status.DONE or not stored:
        raise Http404("This report is not ready.")
    try:
        handle = stored.open("rb")
    except FileNotFoundError:  # removed since (retention): as if never built
        raise Http404("This report is not ready.") from None
    detail = {"file": which, "kind": row.kind, "version": row.version}
    if row.pupil_id:
        detail["pupil"] = row.pupil_id
    audit(request, Action.DOWNLOAD, row, detail=detail)
    response = FileResponse(
        handle, as_attachment=True, filename=download_name(row, which), content_type=FILES[which][1]
    )
    response["Cache-Control"] = "no-store"
    return response
