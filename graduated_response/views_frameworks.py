"""The LA's graduated-response frameworks in the browser.

Every role whose scope reads the LA's frameworks (school staff, partnership and LA roles)
sees them read-only: a SENCO checks what a step expects before moving a pupil. Only the LA
administrator edits, and only the current version while no pupil is placed under it;
otherwise the page offers a new version, and pupils keep the one they were placed under.

Objects are opened through the tenant scope with `get_in_scope_or_404`, each one inside
its parent (a step inside its framework, a strategy inside its step), so another LA's id,
or an id under the wrong parent, is a 404. The services check the write rights again and
audit every change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from graduated_response import selectors, services
from graduated_response.forms_frameworks import CopyTemplateForm, StepEditForm, StrategyForm
from graduated_response.models import Framework, Step, Strategy, lines
from graduated_response.views import _errors
from schools.access import get_in_scope_or_404
from schools.models import Role
from schools.roles import roles_required
from schools.tenancy import require_scope

# The platform administrator's scope holds no LA, so the pages would be empty for them.
READERS = [r for r in Role if r is not Role.PLATFORM_ADMIN]
readers = roles_required(READERS)
editors_only = roles_required([Role.LA_ADMIN])


def can_edit(request: HttpRequest) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and membership.role == Role.LA_ADMIN


def _framework_or_404(request: HttpRequest, pk: int) -> Framework:
    qs = selectors.framework_list(require_scope(), include_old_versions=True)
    return get_in_scope_or_404(request, qs, pk)


def _step_or_404(request: HttpRequest, framework: Framework, step_id: int) -> Step:
    return get_in_scope_or_404(request, Step.objects.filter(framework=framework), step_id)


def _strategy_or_404(request: HttpRequest, step: Step, strategy_id: int) -> Strategy:
    return get_in_scope_or_404(request, Strategy.objects.filter(step=step), strategy_id)


def _detail_url(framework: Framework, step: Step | None = None) -> str:
    url = reverse("frameworks:detail", kwargs={"pk": framework.pk})
    return f"{url}#step-{step.number}" if step is not None else url


def _locked(
    request: HttpRequest, framework: Framework, refusal: str, step: Step | None = None
) -> HttpResponse:
    """The version cannot be changed in place: say why, and offer a new version (409)."""
    context = {"framework": framework, "refusal": refusal, "step": step}
    return render(request, "graduated_response/frameworks/locked.html", context, status=409)


# --- reading --------------------------------------------------------------------------------


@dataclass
class FrameworkRow:
    current: Framework
    older: list[Framework] = field(default_factory=list)


def _framework_rows(frameworks: list[Framework]) -> list[FrameworkRow]:
    """One row per framework (an LA's slug), its current version first, older ones after."""
    rows: dict[tuple[int, str], list[Framework]] = {}
    for framework in frameworks:
        rows.setdefault((framework.local_authority_id, framework.slug), []).append(framework)
    result = []
    for versions in rows.values():
        versions.sort(key=lambda f: -f.version)
        current = next((f for f in versions if f.is_current), versions[0])
        result.append(FrameworkRow(current, [f for f in versions if f is not current]))
    return result


def _list_page(request: HttpRequest, form: CopyTemplateForm | None = None, status: int = 200) -> HttpResponse:
    frameworks = list(selectors.framework_list(require_scope(), include_old_versions=True))
    taken = {f.slug for f in frameworks} | {f.template_key for f in frameworks}
    context = {
        "rows": _framework_rows(frameworks),
        "templates": [(t, t.key in taken) for t in selectors.framework_templates()],
        "can_edit": can_edit(request),
        "form": form,
    }
    return render(request, "graduated_response/frameworks/list.html", context, status=status)


@login_required
@readers
@require_GET
def framework_list(request: HttpRequest) -> HttpResponse:
    """The LA's frameworks and the platform's templates: three queries whatever their number."""
    return _list_page(request)


@login_required
@readers
@require_GET
def framework_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = require_scope()
    framework = _framework_or_404(request, pk)
    steps = list(selectors.framework_steps(framework))
    for step in steps:
        step.text_lists = [
            (capfirst(Step._meta.get_field(name).verbose_name), lines(getattr(step, name)))
            for name in services.STEP_TEXT_LISTS
        ]
    versions = list(
        selectors.framework_list(scope, include_old_versions=True)
        .filter(local_authority_id=framework.local_authority_id, slug=framework.slug)
        .order_by("-version")
    )
    editor = can_edit(request)
    context = {
        "framework": framework,
        "steps": steps,
        "versions": versions,
        "current_version": next((v for v in versions if v.is_current), None),
        "can_edit": editor,
        # Only the editor needs to know whether the version may change (and may ask).
        "refusal": services.framework_edit_refusal(framework) if editor else "",
    }
    return render(request, "graduated_response/frameworks/detail.html", context)


# --- changing ---------------------------------------------------------------------------------


@login_required
@editors_only
@require_POST
def framework_copy(request: HttpRequest) -> HttpResponse:
    """Copy a platform template into the administrator's own LA (never one named in the form)."""
    form = CopyTemplateForm(request.POST)
    if form.is_valid():
        try:
            framework = services.framework_copy_for_la(
                la=request.membership.local_authority,
                template_key=form.cleaned_data["template"],
                request=request,
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"{framework.name} is copied for your local authority: adapt it below.")
            return redirect(_detail_url(framework))
    return _list_page(request, form, status=400)


@login_required
@editors_only
@require_POST
def framework_new_version(request: HttpRequest, pk: int) -> HttpResponse:
    framework = _framework_or_404(request, pk)
    try:
        new = services.framework_new_version(framework, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_detail_url(framework))
    messages.success(
        request,
        f"Version {new.version} is made and is now the one new placements use. Pupils placed under "
        f"version {framework.version} keep it.",
    )
    # Back to the step the administrator set out to change, in the new version.
    number = request.POST.get("step_number", "")
    step = Step.objects.filter(framework=new, number=number).first() if number.isdigit() else None
    if step is not None:
        return redirect("frameworks:step-edit", pk=new.pk, step_id=step.pk)
    return redirect(_detail_url(new))


@login_required
@editors_only
@require_http_methods(["GET", "POST"])
def step_edit(request: HttpRequest, pk: int, step_id: int) -> HttpResponse:
    framework = _framework_or_404(request, pk)
    step = _step_or_404(request, framework, step_id)
    refusal = services.framework_edit_refusal(framework)
    if refusal:
        return _locked(request, framework, refusal, step)
    form = StepEditForm(request.POST or None, step=step)
    if form.is_bound and form.is_valid():
        try:
            services.step_update(step=step, data=form.changes(), request=request)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"Step {step.number} is saved.")
            return redirect(_detail_url(framework, step))
    context = {"framework": framework, "step": step, "form": form}
    return render(
        request, "graduated_response/frameworks/step_form.html", context, status=400 if form.errors else 200
    )


@login_required
@editors_only
@require_http_methods(["GET", "POST"])
def strategy_add(request: HttpRequest, pk: int, step_id: int) -> HttpResponse:
    framework = _framework_or_404(request, pk)
    step = _step_or_404(request, framework, step_id)
    return _strategy_form(request, framework, step, None)


@login_required
@editors_only
@require_http_methods(["GET", "POST"])
def strategy_edit(request: HttpRequest, pk: int, step_id: int, strategy_id: int) -> HttpResponse:
    framework = _framework_or_404(request, pk)
    step = _step_or_404(request, framework, step_id)
    strategy = _strategy_or_404(request, step, strategy_id)
    return _strategy_form(request, framework, step, strategy)


def _strategy_form(
    request: HttpRequest, framework: Framework, step: Step, strategy: Strategy | None
) -> HttpResponse:
    refusal = services.framework_edit_refusal(framework)
    if refusal:
        return _locked(request, framework, refusal, step)
    form = StrategyForm(request.POST or None, step=step, strategy=strategy)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            if strategy is None:
                services.strategy_add(
                    step=step, name=data["name"], description=data["description"], request=request
                )
            else:
                services.strategy_update(
                    strategy=strategy, name=data["name"], description=data["description"], request=request
                )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"Strategy “{data['name']}” is saved at step {step.number}.")
            return redirect(_detail_url(framework, step))
    context = {"framework": framework, "step": step, "strategy": strategy, "form": form}
    return render(
        request,
        "graduated_response/frameworks/strategy_form.html",
        context,
        status=400 if form.errors else 200,
    )


@login_required
@editors_only
@require_http_methods(["GET", "POST"])
def strategy_remove(request: HttpRequest, pk: int, step_id: int, strategy_id: int) -> HttpResponse:
    """GET asks to confirm; POST removes the strategy from this version's catalogue."""
    framework = _framework_or_404(request, pk)
    step = _step_or_404(request, framework, step_id)
    strategy = _strategy_or_404(request, step, strategy_id)
    refusal = services.framework_edit_refusal(framework)
    if refusal:
        return _locked(request, framework, refusal, step)
    if request.method == "POST":
        try:
            services.strategy_remove(strategy=strategy, request=request)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Strategy “{strategy.name}” is removed from step {step.number}.")
        return redirect(_detail_url(framework, step))
    context = {"framework": framework, "step": step, "strategy": strategy}
    return render(request, "graduated_response/frameworks/strategy_remove.html", context)


@login_required
@editors_only
@require_POST
def strategy_move(request: HttpRequest, pk: int, step_id: int, strategy_id: int) -> HttpResponse:
    """Move one strategy up or down the step's catalogue (the order SENCOs see it in)."""
    framework = _framework_or_404(request, pk)
    step = _step_or_404(request, framework, step_id)
    strategy = _strategy_or_404(request, step, strategy_id)
    direction = request.POST.get("direction", "")
    if direction not in ("up", "down"):
        return HttpResponseBadRequest("Say whether to move the strategy up or down.")
    refusal = services.framework_edit_refusal(framework)
    if refusal:
        return _locked(request, framework, refusal, step)
    ids = list(Strategy.objects.filter(step=step).order_by("order", "id").values_list("pk", flat=True))
    i = ids.index(strategy.pk)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
        try:
            services.strategies_reorder(step=step, strategy_ids=ids, request=request)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect(_detail_url(framework, step))
