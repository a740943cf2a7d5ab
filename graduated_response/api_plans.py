"""Support plans over the API: list, make, read, change, and review. The same scope,
selectors and services as the browser; a plan is reached only through a pupil the
scope reads, so another school's plan is a 404."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from graduated_response import plans, selectors
from graduated_response.models import (
    PlanReview,
    PlanStrategy,
    PlanTarget,
    Strategy,
    SupportPlan,
    TargetOutcome,
)
from graduated_response.placements import current_placement
from pupils.api import PupilAccess
from pupils.selectors import RegisterFilters, pupil_named_in_body, pupil_register
from pupils.serializers import as_drf_error
from schools.access import get_in_scope_or_404
from schools.audit import Action, audit
from schools.tenancy import require_scope


class TargetSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanTarget
        fields = ["id", "order", "description", "success_criteria"]


class PlanStrategySerializer(serializers.ModelSerializer):
    strategy = serializers.IntegerField(source="tried.strategy_id", allow_null=True)
    name = serializers.CharField(source="tried.label")
    started_on = serializers.DateField(source="tried.started_on")
    reviewed_on = serializers.DateField(source="tried.reviewed_on", allow_null=True)

    class Meta:
        model = PlanStrategy
        fields = ["id", "strategy", "name", "how", "started_on", "reviewed_on"]
        read_only_fields = fields


class TargetOutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = TargetOutcome
        fields = ["target", "rating", "note"]


class ReviewSerializer(serializers.ModelSerializer):
    outcomes = TargetOutcomeSerializer(many=True, read_only=True)

    class Meta:
        model = PlanReview
        fields = [
            "id",
            "plan",
            "reviewed_on",
            "decision",
            "summary",
            "pupil_views",
            "parent_views",
            "next_review_due",
            "outcomes",
            "recorded_by",
        ]
        read_only_fields = fields


class SupportPlanSerializer(serializers.ModelSerializer):
    step_number = serializers.IntegerField(source="step.number", read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField()
    targets = TargetSerializer(many=True, read_only=True)
    strategies = PlanStrategySerializer(source="plan_strategies", many=True, read_only=True)
    reviews = ReviewSerializer(many=True, read_only=True)

    class Meta:
        model = SupportPlan
        fields = [
            "id",
            "pupil",
            "step",
            "step_number",
            *plans.PLAN_FIELDS,
            "starts_on",
            "review_due",
            "status",
            "closed_on",
            "overdue",
            "targets",
            "strategies",
            "reviews",
        ]
        read_only_fields = fields

    def get_overdue(self, plan: SupportPlan) -> bool:
        return plan.is_overdue(timezone.localdate())


class TargetWrite(serializers.Serializer):
    id = serializers.IntegerField(required=False, help_text="An existing target to change (PATCH).")
    description = serializers.CharField(max_length=4000)
    success_criteria = serializers.CharField(max_length=4000)


class StrategyWrite(serializers.Serializer):
    strategy = serializers.IntegerField(required=False, help_text="A strategy of the step's catalogue.")
    name = serializers.CharField(max_length=200, required=False, help_text="Or one outside the catalogue.")
    how = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)

    def validate(self, attrs):
        if not attrs.get("strategy") and not (attrs.get("name") or "").strip():
            raise serializers.ValidationError("Give a catalogue strategy's id or a name.")
        return attrs


def _text(**kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=4000, required=False, default="", allow_blank=True, **kwargs)


class PlanWrite(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SupportPlan.Kind.choices, default=SupportPlan.Kind.SUPPORT)
    title = serializers.CharField(max_length=200)
    concerns = _text()
    triggers = _text()
    frequency_intensity = _text()
    assessments = _text()
    key_adult = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    pupil_involvement = _text()
    parent_involvement = _text()
    delivery_notes = _text()
    review_due = serializers.DateField(
        required=False, help_text="Leave out for the LA's interval in school weeks from the start."
    )
    targets = TargetWrite(many=True, max_length=plans.MAX_TARGETS)
    strategies = StrategyWrite(many=True, required=False, default=list)


class PlanCreate(PlanWrite):
    pupil = serializers.IntegerField()
    starts_on = serializers.DateField()


class OutcomeWrite(serializers.Serializer):
    target = serializers.IntegerField(help_text="A target of this plan.")
    rating = serializers.ChoiceField(choices=TargetOutcome.Rating.choices)
    note = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class ReviewWrite(serializers.Serializer):
    reviewed_on = serializers.DateField()
    decision = serializers.ChoiceField(choices=PlanReview.Decision.choices)
    summary = _text()
    pupil_views = _text()
    parent_views = _text()
    next_review_due = serializers.DateField(required=False, allow_null=True, default=None)
    outcomes = OutcomeWrite(many=True, max_length=plans.MAX_TARGETS)


class PlanQuery(serializers.Serializer):
    pupil = serializers.IntegerField(required=False, min_value=1)
    status = serializers.ChoiceField(choices=SupportPlan.Status.choices, required=False)
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)
    due_before = serializers.DateField(required=False, help_text="Open plans with a review due on or before.")


def _strategies(plan_step_id: int | None, items: list[dict]) -> list[plans.StrategyInput]:
    ids = [i["strategy"] for i in items if i.get("strategy")]
    if ids and plan_step_id is None:
        raise serializers.ValidationError(
            {"strategies": ["Place the pupil on a step before choosing its strategies."]}
        )
    catalogue = {s.pk: s for s in Strategy.objects.filter(pk__in=ids, step_id=plan_step_id)}
    out = []
    for item in items:
        if item.get("strategy"):
            strategy = catalogue.get(item["strategy"])
            if strategy is None:
                raise serializers.ValidationError(
                    {
                        "strategies": [
                            f"Strategy {item['strategy']} is not in the catalogue of the plan's step."
                        ]
                    }
                )
            out.append(plans.StrategyInput(strategy=strategy, how=item.get("how", "")))
        else:
            out.append(plans.StrategyInput(name=item["name"], how=item.get("how", "")))
    return out


def _targets(items: list[dict]) -> list[plans.TargetInput]:
    return [
        plans.TargetInput(
            id=t.get("id"), description=t["description"], success_criteria=t["success_criteria"]
        )
        for t in items
    ]


def _plan(request: Request, pk: int) -> SupportPlan:
    """A plan of a pupil the scope reads (the register's selector), or 404."""
    pupils = pupil_register(require_scope(), RegisterFilters(include_leavers=True))
    qs = selectors.plan_list(require_scope()).filter(pupil__in=pupils.values("pk"))
    return get_in_scope_or_404(request._request, qs, pk)


def _raise(exc: DjangoValidationError):
    raise as_drf_error(exc) from None


class SupportPlanList(generics.GenericAPIView):
    """Support plans of the pupils you may read, newest first; filter by pupil, status, overdue
    or review due date. POST makes a plan at the pupil's current step."""

    permission_classes = [PupilAccess]
    serializer_class = SupportPlanSerializer

    @extend_schema(parameters=[PlanQuery], responses=SupportPlanSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = PlanQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        pupils = pupil_register(require_scope(), RegisterFilters(include_leavers=True))
        qs = selectors.plan_list(require_scope()).filter(pupil__in=pupils.values("pk"))
        today = timezone.localdate()
        if q.get("pupil"):
            qs = qs.filter(pupil_id=q["pupil"])
        if q.get("status"):
            qs = qs.filter(status=q["status"])
        if q.get("overdue") is not None:
            overdue = SupportPlan.overdue_q(today)
            qs = qs.filter(overdue) if q["overdue"] else qs.exclude(overdue)
        if q.get("due_before"):
            qs = qs.filter(status=SupportPlan.Status.OPEN, review_due__lte=q["due_before"])
        page = self.paginate_queryset(qs)
        audit(
            request._request,
            Action.LIST,
            object_type="graduated_response.supportplan",
            detail={"shown": len(page), "pupils": sorted({p.pupil_id for p in page})},
        )
        return self.get_paginated_response(SupportPlanSerializer(page, many=True).data)

    @extend_schema(request=PlanCreate, responses={201: SupportPlanSerializer})
    def post(self, request: Request) -> Response:
        form = PlanCreate(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        pupil = pupil_named_in_body(request._request, data.pop("pupil"))
        placement = current_placement(pupil)
        try:
            plan = plans.plan_create(
                request=request._request,
                pupil=pupil,
                data={k: data[k] for k in plans.PLAN_FIELDS if k in data},
                starts_on=data["starts_on"],
                review_due=data.get("review_due"),
                targets=_targets(data["targets"]),
                strategies=_strategies(placement.step_id if placement else None, data["strategies"]),
            )
        except DjangoValidationError as exc:
            _raise(exc)
        plan = selectors.plan_list(require_scope()).get(pk=plan.pk)
        return Response(SupportPlanSerializer(plan).data, status=status.HTTP_201_CREATED)


class PlanPatch(PlanWrite):
    title = serializers.CharField(max_length=200, required=False)
    targets = TargetWrite(many=True, max_length=plans.MAX_TARGETS, required=False)


class SupportPlanDetail(generics.GenericAPIView):
    """One support plan with its targets, strategies and reviews. PATCH changes an open plan:
    its text, review date, targets (the whole list: give ids to keep and change), and adds
    strategies."""

    permission_classes = [PupilAccess]
    serializer_class = SupportPlanSerializer

    @extend_schema(responses=SupportPlanSerializer)
    def get(self, request: Request, pk: int) -> Response:
        plan = _plan(request, pk)
        audit(request._request, Action.VIEW, plan.pupil, detail={"part": "support-plan", "plan": plan.pk})
        return Response(SupportPlanSerializer(plan).data)

    @extend_schema(request=PlanPatch, responses=SupportPlanSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        plan = _plan(request, pk)
        form = PlanPatch(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            plans.plan_update(
                request=request._request,
                plan=plan,
                data={k: data[k] for k in plans.PLAN_FIELDS if k in data},
                review_due=data.get("review_due"),
                targets=_targets(data["targets"]) if "targets" in data else None,
                strategies=_strategies(plan.step_id, data.get("strategies") or []),
            )
        except DjangoValidationError as exc:
            _raise(exc)
        return Response(SupportPlanSerializer(selectors.plan_list(require_scope()).get(pk=plan.pk)).data)


class SupportPlanReviews(generics.GenericAPIView):
    """A plan's reviews, newest first; POST records a review: an outcome for every target, the
    decision, and for "continue" the next review date (or the LA's interval)."""

    permission_classes = [PupilAccess]
    serializer_class = ReviewSerializer
    pagination_class = None

    @extend_schema(responses=ReviewSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        plan = _plan(request, pk)
        audit(request._request, Action.VIEW, plan.pupil, detail={"part": "plan-reviews", "plan": plan.pk})
        return Response(ReviewSerializer(plan.reviews.all(), many=True).data)

    @extend_schema(request=ReviewWrite, responses={201: ReviewSerializer})
    def post(self, request: Request, pk: int) -> Response:
        plan = _plan(request, pk)
        form = ReviewWrite(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        outcomes = {item["target"]: (item["rating"], item["note"]) for item in data["outcomes"]}
        if len(outcomes) != len(data["outcomes"]):
            raise serializers.ValidationError({"outcomes": ["Give each target one outcome."]})
        try:
            review = plans.plan_review_record(
                request=request._request,
                plan=plan,
                reviewed_on=data["reviewed_on"],
                decision=data["decision"],
                outcomes=outcomes,
                summary=data["summary"],
                pupil_views=data["pupil_views"],
                parent_views=data["parent_views"],
                next_review_due=data["next_review_due"],
            )
        except DjangoValidationError as exc:
            _raise(exc)
        review = PlanReview.objects.prefetch_related("outcomes").get(pk=review.pk)
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)
