"""Importing pupils in the browser: upload and preview, then commit.

Between the two steps the uploaded bytes wait in the cache under a random token, in a key
that names the membership, user and school (schools/cache.py), for 15 minutes. The commit
reads them back and previews them again, so nothing the form sends back is trusted but the
token.
"""

from __future__ import annotations

import re
import secrets

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from pupils.import_columns import HEADINGS, LABELS, REQUIRED
from pupils.import_files import max_upload_bytes, too_big_message
from pupils.imports import (
    LISTED,
    ImportPreview,
    ImportRejected,
    commit_import,
    preview_file,
)
from schools.access import require_pupil_level
from schools.audit import Action, audit
from schools.cache import tenant_key
from schools.models import RECORD_KEEPERS
from schools.roles import roles_required
from schools.tenancy import require_scope

KEEP_SECONDS = 15 * 60
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Pupil file (CSV or Excel .xlsx)",
        help_text=(
            "An export from your MIS with one row per pupil and the column headings in the first row. "
            "It needs the columns "
            + ", ".join(HEADINGS[name][0] for name in REQUIRED)
            + ". Other columns it reads are listed below."
        ),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".csv,.xlsx,text/csv,"
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            }
        ),
    )


def _cache_key(request: HttpRequest) -> str:
    # One file waits per membership (so per user and school): a new upload replaces the last,
    # so abandoned previews never pile up, and the key makes a token useless to anyone else,
    # or to the same person working as another membership.
    return tenant_key(require_scope(), "pupil-import")


def _headings() -> list[tuple[str, str, bool]]:
    return [
        (LABELS[name][0].upper() + LABELS[name][1:], ", ".join(h), name in REQUIRED)
        for name, h in HEADINGS.items()
    ]


def _upload_page(
    request: HttpRequest, form: ImportUploadForm, *, errors=(), status: int = 200
) -> HttpResponse:
    context = {"form": form, "errors": list(errors), "headings": _headings(), "max_bytes": max_upload_bytes()}
    return render(request, "pupils/import_upload.html", context, status=status)


def _preview_page(
    request: HttpRequest, preview: ImportPreview, *, filename: str, token: str = ""
) -> HttpResponse:
    rows = preview.rows
    listed = [r for r in rows if r.action != "unchanged" or r.problems or r.warnings][:LISTED]
    context = {
        "preview": preview,
        "filename": filename,
        "token": token if preview.is_valid else "",
        "counts": preview.counts,
        "rows": listed,
        "unlisted": len(rows) - len(listed),
        "listed_max": LISTED,
        "problems": [(r.number, p) for r in rows for p in r.problems][:200],
        "more_problems": max(0, sum(len(r.problems) for r in rows) - 200),
        "warnings": [w for r in rows for w in r.warnings],
        "ignored": ", ".join(preview.ignored_columns),
    }
    return render(request, "pupils/import_preview.html", context, status=200 if preview.is_valid else 400)


@login_required
@roles_required(RECORD_KEEPERS)
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    """Upload a file and see what importing it would do. Saves nothing."""
    require_pupil_level(request)
    if request.method != "POST":
        return _upload_page(request, ImportUploadForm())
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _upload_page(request, form, status=400)
    upload = form.cleaned_data["file"]
    if upload.size > max_upload_bytes():
        form.add_error("file", too_big_message())
        return _upload_page(request, form, status=400)
    data = upload.read()
    preview = preview_file(school=request.membership.school, data=data, filename=upload.name)
    audit(request, Action.LIST, object_type="pupils.import", detail={"previewed": preview.counts})
    token = ""
    cache.delete(_cache_key(request))
    if preview.is_valid:
        token = secrets.token_urlsafe(24)
        cache.set(_cache_key(request), {"token": token, "name": upload.name, "data": data}, KEEP_SECONDS)
    return _preview_page(request, preview, filename=upload.name, token=token)


@login_required
@roles_required(RECORD_KEEPERS)
@require_POST
def import_commit(request: HttpRequest) -> HttpResponse:
    """Save the previewed file, all or nothing, after previewing it again."""
    require_pupil_level(request)
    token = request.POST.get("token", "")
    stored = cache.get(_cache_key(request)) if TOKEN.fullmatch(token) else None
    if stored is None or not secrets.compare_digest(stored["token"], token):
        return _upload_page(
            request,
            ImportUploadForm(),
            errors=[
                "The uploaded file is no longer waiting to be imported (it is kept for 15 minutes, "
                "and only the latest upload). "
                "Upload it again."
            ],
            status=400,
        )
    school = request.membership.school
    preview = preview_file(school=school, data=stored["data"], filename=stored["name"])
    if not preview.is_valid:
        return _preview_page(request, preview, filename=stored["name"])
    try:
        summary = commit_import(request=request, school=school, preview=preview, source="import")
    except ImportRejected as exc:
        return _upload_page(request, ImportUploadForm(), errors=exc.messages, status=400)
    cache.delete(_cache_key(request))
    messages.success(request, f"Import saved from {stored['name']}: {summary}")
    return redirect("pupils:list")
