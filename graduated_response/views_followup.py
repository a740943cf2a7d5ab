"""Following up moves on the graduated response: the overrides waiting for a headteacher,
and reviewing a strategy tried after the event (a reviewed strategy counts towards the
step's escalation rule).

Pupils and their records are opened through the register's selector and
`get_in_scope_or_404`, so another school's pupil or strategy is a 404; every page that
shows pupils is audited.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from graduated_response import placements, selectors
from graduated_response.forms import DateInput
from graduated_response.views import _back, _errors, _pupil_or_404, writers_only
from schools.access import get_in_scope_or_404, require_pupil_level
from schools.audit import Action, audit
from schools.models import Role
from schools.roles import roles_required
from schools.tenancy import require_scope


@login_required
@roles_required([Role.HEADTEACHER, Role.SENCO])
@require_GET
def overrides(request: HttpRequest) -> HttpResponse:
    """Moves up made before the step's rule was met, oldest first; a headteacher approves
    each one here. One query for the rows however many there are."""
    require_pupil_level(request)
    rows = list(selectors.pending_overrides(require_scope()).select_related("recorded_by"))
    audit(
        request,
        Action.LIST,
        object_type="graduated_response.stepplacement",
        detail={"page": "overrides", "shown": len(rows)},
    )
    context = {"overrides": rows, "can_approve": request.membership.role == Role.HEADTEACHER}
    return render(request, "graduated_response/overrides.html", context)


class StrategyReviewForm(forms.Form):
    reviewed_on = forms.DateField(
        label="Reviewed on",
        widget=DateInput,
        initial=timezone.localdate,
        error_messages={"required": "Give the date of the review.", "invalid": "Give a real date."},
    )
    outcome = forms.CharField(
        label="What the review found",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        help_text=(
            "Did it help, and what happens next? Only reviewed strategies count towards moving up a step."
        ),
        error_messages={"required": "Say what the review found."},
    )


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def strategy_review(request: HttpRequest, pk: int, tried_id: int) -> HttpResponse:
    pupil = _pupil_or_404(request, pk)
    tried = get_in_scope_or_404(request, selectors.strategies_tried(pupil), tried_id)
    form = StrategyReviewForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            placements.strategy_tried_review(
                request=request,
                tried=tried,
                reviewed_on=form.cleaned_data["reviewed_on"],
                outcome=form.cleaned_data["outcome"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"The review of “{tried.label}” is recorded.")
            return redirect(_back(pupil))
    audit(request, Action.VIEW, pupil, detail={"page": "strategy review", "strategy_tried": tried.pk})
    context = {"form": form, "pupil": pupil, "tried": tried}
    return render(
        request, "graduated_response/strategy_review.html", context, status=400 if form.errors else 200
    )
