from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from pupils.forms import PupilSearchForm
from pupils.selectors import pupil_list
from schools.access import get_in_scope_or_404, require_pupil_level
from schools.audit import Action, audit
from schools.tenancy import require_scope


@login_required
def pupil_index(request: HttpRequest) -> HttpResponse:
    """The pupil list. A search is POSTed so a child's name never sits in a URL or an access log."""
    require_pupil_level(request)
    data = request.POST if request.method == "POST" else request.GET
    form = PupilSearchForm(request.POST if request.method == "POST" else None)
    if form.is_bound and not form.is_valid():
        return render(request, "pupils/pupil_list.html", {"form": form, "page": None, "q": ""}, status=400)
    search = form.cleaned_data["q"] if form.is_bound else ""
    page = Paginator(pupil_list(require_scope(), search=search), 50).get_page(data.get("page"))
    audit(
        request,
        Action.SEARCH if search else Action.LIST,
        object_type="pupils.pupil",
        detail={"page": page.number, "shown": len(page.object_list)},
    )
    template = "pupils/_pupil_rows.html" if request.htmx else "pupils/pupil_list.html"
    return render(request, template, {"page": page, "q": search})


@login_required
def pupil_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_pupil_level(request)
    pupil = get_in_scope_or_404(request, pupil_list(require_scope(), include_leavers=True), pk)
    audit(request, Action.VIEW, pupil)
    return render(request, "pupils/pupil_detail.html", {"pupil": pupil})
