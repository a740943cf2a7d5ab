"""Support plans in the browser: make, change and review a plan; the reviews a SENCO has to
do; and the pupil's timeline. Pupils are opened through the register's selector, so
another school's pupil or plan is a 404, and every page that shows a pupil is audited."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from graduated_response import plans, selectors
from graduated_response.forms_plans import PlanForm, ReviewForm, target_formset, target_inputs
from graduated_response.models import SupportPlan
from graduated_response.placements import current_placement
from graduated_response.timeline import pupil_timeline
from graduated_response.views import _errors, _pupil_or_404, writers_only
from pupils.models import Pupil
from schools.access import get_in_scope_or_404, require_pupil_level
from schools.audit import Action, audit
from schools.models import RECORD_KEEPERS
from schools.selectors import school_calendar
from schools.tenancy import require_scope


def _plan_or_404(request: HttpRequest, pupil: Pupil, plan_id: int) -> SupportPlan:
    return get_in_scope_or_404(request, selectors.plans_for_pupil(pupil), plan_id)


def _plan_url(plan: SupportPlan) -> str:
    return reverse("graduated_response:plan", kwargs={"pk": plan.pupil_id, "plan_id": plan.pk})


def _status(form: PlanForm, targets) -> int:
    return 400 if form.errors or targets.total_error_count() else 200


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest, pk: int) -> HttpResponse:
    pupil = _pupil_or_404(request, pk)
    placement = current_placement(pupil)
    if placement is None:
        messages.error(request, "Place the pupil on a step before making a support plan.")
        return redirect(reverse("pupils:detail", kwargs={"pk": pupil.pk}) + "#graduated-response")
    data = request.POST if request.method == "POST" else None
    form = PlanForm(data, catalogue=plans.catalogue_for(placement.step))
    targets = target_formset(data)
    if data is not None and form.is_valid() and targets.is_valid():
        try:
            plan = plans.plan_create(
                request=request,
                pupil=pupil,
                data=form.plan_data(),
                starts_on=form.cleaned_data["starts_on"],
                review_due=form.cleaned_data["review_due"],
                targets=target_inputs(targets),
                strategies=form.strategy_inputs(),
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"Support plan made; its review is due on {plan.review_due:%d %B %Y}.")
            return redirect(_plan_url(plan))
    audit(request, Action.VIEW, pupil, detail={"page": "plan-new"})
    context = {"form": form, "targets": targets, "pupil": pupil, "step": placement.step, "plan": None}
    return render(request, "graduated_response/plan_form.html", context, status=_status(form, targets))


@login_required
@require_http_methods(["GET"])
def plan_detail(request: HttpRequest, pk: int, plan_id: int) -> HttpResponse:
    require_pupil_level(request)
    pupil = _pupil_or_404(request, pk)
    plan = _plan_or_404(request, pupil, plan_id)
    audit(request, Action.VIEW, pupil, detail={"page": "plan", "plan": plan.pk})
    reviews = list(plan.reviews.all())
    latest = {o.target_id: o for o in reviews[0].outcomes.all()} if reviews else {}
    context = {
        "pupil": pupil,
        "plan": plan,
        "targets": [(t, latest.get(t.pk)) for t in plan.targets.all()],
        "overdue": plan.is_overdue(timezone.localdate()),
        "can_write": request.membership.role in RECORD_KEEPERS,
    }
    return render(request, "graduated_response/plan_detail.html", context)


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int, plan_id: int) -> HttpResponse:
    pupil = _pupil_or_404(request, pk)
    plan = _plan_or_404(request, pupil, plan_id)
    if plan.status != SupportPlan.Status.OPEN:
        messages.error(request, "This plan is closed: make a new plan instead.")
        return redirect(_plan_url(plan))
    data = request.POST if request.method == "POST" else None
    initial = {field: getattr(plan, field) for field in plans.PLAN_FIELDS}
    initial["review_due"] = plan.review_due
    form = PlanForm(data, initial=initial, catalogue=plans.catalogue_for(plan), editing=True)
    targets = target_formset(data, plan=plan)
    if data is not None and form.is_valid() and targets.is_valid():
        try:
            plans.plan_update(
                request=request,
                plan=plan,
                data=form.plan_data(),
                review_due=form.cleaned_data["review_due"],
                targets=target_inputs(targets),
                strategies=form.strategy_inputs(),
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, "Support plan saved.")
            return redirect(_plan_url(plan))
    audit(request, Action.VIEW, pupil, detail={"page": "plan-edit", "plan": plan.pk})
    context = {"form": form, "targets": targets, "pupil": pupil, "step": plan.step, "plan": plan}
    return render(request, "graduated_response/plan_form.html", context, status=_status(form, targets))


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def plan_review(request: HttpRequest, pk: int, plan_id: int) -> HttpResponse:
    pupil = _pupil_or_404(request, pk)
    plan = _plan_or_404(request, pupil, plan_id)
    if plan.status != SupportPlan.Status.OPEN:
        messages.error(request, "This plan is closed: it cannot be reviewed again.")
        return redirect(_plan_url(plan))
    form = ReviewForm(request.POST or None, targets=list(plan.targets.all()))
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            review = plans.plan_review_record(
                request=request,
                plan=plan,
                reviewed_on=data["reviewed_on"],
                decision=data["decision"],
                outcomes=form.outcomes(),
                summary=data["summary"],
                pupil_views=data["pupil_views"],
                parent_views=data["parent_views"],
                next_review_due=data["next_review_due"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            if review.next_review_due:
                messages.success(
                    request, f"Review saved; the next is due on {review.next_review_due:%d %B %Y}."
                )
                return redirect(_plan_url(plan))
            messages.success(request, "Review saved and the plan closed.")
            if review.decision in ("step_up", "step_down"):
                messages.info(request, "Now record the step change, then make the plan for the new step.")
                return redirect("graduated_response:step", pk=pupil.pk)
            return redirect(_plan_url(plan))
    audit(request, Action.VIEW, pupil, detail={"page": "plan-review", "plan": plan.pk})
    context = {"form": form, "pupil": pupil, "plan": plan}
    return render(request, "graduated_response/plan_review.html", context, status=400 if form.errors else 200)


@login_required
@writers_only
@require_http_methods(["GET"])
def reviews_due(request: HttpRequest) -> HttpResponse:
    """The SENCO's list: open plans whose review is overdue or due within two weeks."""
    require_pupil_level(request)
    today = timezone.localdate()
    page = Paginator(selectors.reviews_due(require_scope(), today=today, within_days=14), 50).get_page(
        request.GET.get("page")
    )
    rows = list(page.object_list)
    school = request.membership.school
    calendar = school_calendar(school.local_authority_id) if school else None
    for plan in rows:
        plan.overdue = plan.review_due < today
        if plan.overdue and calendar is not None:
            plan.school_days_late = calendar.school_days_between(plan.review_due, today)
    audit(
        request,
        Action.LIST,
        object_type="graduated_response.supportplan",
        detail={"page": page.number, "shown": len(rows), "list": "reviews due"},
    )
    context = {
        "page": page,
        "plans": rows,
        "today": today,
        "overdue_count": sum(1 for p in rows if p.overdue),
    }
    return render(request, "graduated_response/reviews_due.html", context)


@login_required
@require_http_methods(["GET"])
def timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """Steps, plans, reviews, strategies and observations in one dated list, printable."""
    require_pupil_level(request)
    pupil = _pupil_or_404(request, pk)
    printing = request.GET.get("print") == "1"
    audit(request, Action.PRINT if printing else Action.VIEW, pupil, detail={"page": "timeline"})
    context = {
        "pupil": pupil,
        "events": pupil_timeline(pupil),
        "printing": printing,
        "printed_at": timezone.localtime(),
    }
    return render(request, "graduated_response/timeline.html", context)
