"""Browser pages for partnership budgets: the list, one budget with its lines, spend,
approvals awaited and quarterly monitoring, and the forms that change them.

Thin on purpose: the budget comes from `budgets_for` (the scope's own, else 404), figures
from `budget_figures`, every change from a service that checks the role again.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from schools import budgets
from schools.access import get_in_scope_or_404
from schools.forms_budgets import BudgetForm, LineForm, SpendForm
from schools.models import Budget, Role, financial_year_of
from schools.roles import roles_required
from schools.tenancy import require_scope

budget_roles = roles_required(budgets.BUDGET_READERS)


def _budget(request: HttpRequest, pk: int) -> Budget:
    return get_in_scope_or_404(request, budgets.budgets_for(require_scope()), pk)


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
@budget_roles
def budget_list(request: HttpRequest) -> HttpResponse:
    scope = require_scope()
    rows = [(b, budgets.budget_figures(b)) for b in budgets.budgets_for(scope)]
    can_create = scope.role == Role.PARTNERSHIP_LEAD
    return render(request, "schools/budget_list.html", {"rows": rows, "can_create": can_create})


@login_required
@roles_required([Role.PARTNERSHIP_LEAD])
@require_http_methods(["GET", "POST"])
def budget_create(request: HttpRequest) -> HttpResponse:
    partnership = request.membership.partnership  # never from the body
    initial = {"financial_year": financial_year_of(timezone.localdate()), "carried_forward": "0.00"}
    form = BudgetForm(request.POST or None, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            budget = budgets.budget_create(
                request=request, user=request.user, partnership=partnership, **form.cleaned_data
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"Budget {budget.year_label} set up.")
            return redirect("schools:budget", pk=budget.pk)
    context = {"form": form, "partnership": partnership}
    return render(request, "schools/budget_form.html", context, status=400 if form.errors else 200)


def _detail(request: HttpRequest, budget: Budget, *, line_form=None, spend_form=None) -> HttpResponse:
    scope = require_scope()
    figures = budgets.budget_figures(budget)
    manage = budgets.can_manage(scope, budget)
    if manage:
        line_form = line_form or LineForm()
        spend_form = spend_form or SpendForm(budget=budget, initial={"spent_on": timezone.localdate()})
    items = [(item, budgets.can_sign(scope, item, request.user)) for item in budget.spend.all()]
    context = {
        "budget": budget,
        "figures": figures,
        "items": items,
        "pending": [(i, ok) for i, ok in items if i in figures.pending],
        "can_manage": manage,
        "side": budgets.approval_side(scope, budget),
        "line_form": line_form,
        "spend_form": spend_form,
        "limit": budgets.DUAL_APPROVAL_OVER,
    }
    failed = bool((line_form and line_form.errors) or (spend_form and spend_form.errors))
    return render(request, "schools/budget_detail.html", context, status=400 if failed else 200)


@login_required
@budget_roles
def budget_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _budget(request, pk))


@login_required
@roles_required([Role.PARTNERSHIP_LEAD])
@require_POST
def line_add(request: HttpRequest, pk: int) -> HttpResponse:
    budget = _budget(request, pk)
    form = LineForm(request.POST)
    if form.is_valid():
        try:
            budgets.line_add(request=request, budget=budget, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "Line added.")
            return redirect("schools:budget", pk=budget.pk)
    return _detail(request, budget, line_form=form)


@login_required
@roles_required([Role.PARTNERSHIP_LEAD])
@require_POST
def spend_add(request: HttpRequest, pk: int) -> HttpResponse:
    budget = _budget(request, pk)
    form = SpendForm(request.POST, budget=budget)
    if form.is_valid():
        try:
            item = budgets.spend_add(request=request, user=request.user, budget=budget, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            if item.status == "proposed":
                messages.success(
                    request, "Item entered. It is over £30,000, so it needs both approvals before it counts."
                )
            else:
                messages.success(request, "Item entered and committed.")
            return redirect("schools:budget", pk=budget.pk)
    return _detail(request, budget, spend_form=form)


@login_required
@roles_required([Role.PARTNERSHIP_LEAD, Role.HEADTEACHER])
@require_POST
def spend_approve(request: HttpRequest, pk: int, item_id: int) -> HttpResponse:
    budget = _budget(request, pk)
    item = get_in_scope_or_404(request, budgets.spend_items_of(budget), item_id)
    try:
        item = budgets.spend_approve(request=request, user=request.user, item=item)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if item.status == "committed":
            messages.success(request, "Approved. Both sides have now approved: the item is committed.")
        else:
            messages.success(request, "Approved. The item now awaits the other side's approval.")
    return redirect("schools:budget", pk=budget.pk)


@login_required
@roles_required([Role.PARTNERSHIP_LEAD])
@require_POST
def spend_paid(request: HttpRequest, pk: int, item_id: int) -> HttpResponse:
    budget = _budget(request, pk)
    item = get_in_scope_or_404(request, budgets.spend_items_of(budget), item_id)
    try:
        budgets.spend_mark_paid(request=request, item=item)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Marked as paid.")
    return redirect("schools:budget", pk=budget.pk)
