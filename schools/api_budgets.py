"""Partnership budgets over the API: list and create, one budget with its lines, spend,
approvals and quarterly figures, entering spend, and approving a large item.

The same scope, selectors, figures and services as the browser pages (schools/budgets.py).
The partnership comes from the active membership, never the body; a line named in a body
must be one of the budget's own lines, else 400 (SECURITY.md 2).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from schools import budgets
from schools.access import get_in_scope_or_404, get_named_in_body_or_400
from schools.api_auth import HasActiveMembership
from schools.audit import Action, audit
from schools.models import Budget, BudgetCategory, SpendStatus
from schools.tenancy import require_scope

BIG_ID = 2**63 - 1


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, rounding=ROUND_HALF_UP, **kwargs)


def _raise(exc: DjangoValidationError):
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
    raise serializers.ValidationError(detail) from None


class BudgetReaders(HasActiveMembership):
    """Partnership leads, host schools' headteachers and LA officers; everyone else 403,
    whatever the id (the answer reveals nothing)."""

    message = "Your role does not see partnership budgets."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if budgets.can_read_budgets(require_scope()):
            return True
        audit(request._request, Action.DENIED, object_type="budget-route", detail={"reason": "role"})
        return False


def _figures(budget: Budget) -> budgets.BudgetFigures:
    """The figures of one budget, worked out once per response."""
    cached = getattr(budget, "_figures", None)
    if cached is None:
        cached = budget._figures = budgets.budget_figures(budget)
    return cached


# --- serializers ----------------------------------------------------------------------------


class LineSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    category = serializers.ChoiceField(choices=BudgetCategory.choices, read_only=True)
    name = serializers.CharField(read_only=True)
    planned = _money(read_only=True)
    committed = _money(read_only=True)
    forecast = _money(read_only=True)
    remaining = _money(read_only=True)

    def to_representation(self, row):
        line = row.line
        return super().to_representation(
            {
                "id": line.pk,
                "category": line.category,
                "name": line.name,
                "planned": row.planned,
                "committed": row.committed,
                "forecast": row.forecast,
                "remaining": row.remaining,
            }
        )


class ApprovalSerializer(serializers.Serializer):
    approved_by = serializers.IntegerField(allow_null=True, read_only=True, help_text="User id.")
    approved_at = serializers.DateTimeField(allow_null=True, read_only=True)


class SpendSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    line = serializers.IntegerField(read_only=True, source="line_id")
    description = serializers.CharField(read_only=True)
    supplier = serializers.CharField(read_only=True)
    amount = _money(read_only=True)
    spent_on = serializers.DateField(read_only=True)
    quarter = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(choices=SpendStatus.choices, read_only=True)
    needs_dual_approval = serializers.BooleanField(read_only=True)
    host_school_approval = serializers.SerializerMethodField()
    partnership_approval = serializers.SerializerMethodField()

    @extend_schema_field(ApprovalSerializer)
    def get_host_school_approval(self, item) -> dict:
        return {"approved_by": item.host_school_approved_by_id, "approved_at": item.host_school_approved_at}

    @extend_schema_field(ApprovalSerializer)
    def get_partnership_approval(self, item) -> dict:
        return {"approved_by": item.partnership_approved_by_id, "approved_at": item.partnership_approved_at}


class QuarterSerializer(serializers.Serializer):
    quarter = serializers.IntegerField(read_only=True)
    months = serializers.CharField(read_only=True)
    spend = _money(read_only=True)
    cumulative = _money(read_only=True)
    forecast = _money(read_only=True)
    variance = _money(read_only=True)


class FiguresSerializer(serializers.Serializer):
    allocation = _money(read_only=True)
    carried_forward = _money(read_only=True)
    available = _money(read_only=True)
    planned = _money(read_only=True)
    committed = _money(read_only=True)
    paid = _money(read_only=True)
    proposed = _money(read_only=True)
    forecast = _money(read_only=True)
    variance = _money(read_only=True)


class BudgetSerializer(serializers.Serializer):
    """A budget in a list: its year and headline figures."""

    id = serializers.IntegerField(read_only=True)
    partnership = serializers.IntegerField(read_only=True, source="partnership_id")
    financial_year = serializers.IntegerField(min_value=2000, max_value=2100)
    year_label = serializers.CharField(read_only=True)
    allocation = _money(min_value=0)
    carried_forward = _money(min_value=0, default=0)
    surplus_plan = serializers.CharField(allow_blank=True, default="", max_length=5000)
    figures = serializers.SerializerMethodField()

    @extend_schema_field(FiguresSerializer)
    def get_figures(self, budget: Budget) -> dict:
        return FiguresSerializer(_figures(budget)).data


class BudgetDetailSerializer(BudgetSerializer):
    lines = serializers.SerializerMethodField()
    spend = serializers.SerializerMethodField()
    awaiting_approval = serializers.SerializerMethodField(help_text="Ids of items awaiting approval.")
    quarters = serializers.SerializerMethodField()

    @extend_schema_field(LineSerializer(many=True))
    def get_lines(self, budget: Budget) -> list:
        return LineSerializer(_figures(budget).lines, many=True).data

    @extend_schema_field(SpendSerializer(many=True))
    def get_spend(self, budget: Budget) -> list:
        return SpendSerializer(list(budget.spend.all()), many=True).data

    def get_awaiting_approval(self, budget: Budget) -> list[int]:
        return [i.pk for i in _figures(budget).pending]

    @extend_schema_field(QuarterSerializer(many=True))
    def get_quarters(self, budget: Budget) -> list:
        return QuarterSerializer(_figures(budget).quarters, many=True).data


class SpendRequestSerializer(serializers.Serializer):
    line = serializers.IntegerField(min_value=1, max_value=BIG_ID, help_text="A line of this budget.")
    description = serializers.CharField(max_length=200)
    supplier = serializers.CharField(max_length=120, allow_blank=True, default="")
    amount = _money(min_value=0)
    spent_on = serializers.DateField()


# --- views ----------------------------------------------------------------------------------


def _budget(request: Request, pk: int) -> Budget:
    return get_in_scope_or_404(request._request, budgets.budgets_for(require_scope()), pk)


class BudgetList(APIView):
    """Budgets in scope; a partnership lead sets up a year's budget for their partnership."""

    permission_classes = [BudgetReaders]

    @extend_schema(responses=BudgetSerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = budgets.budgets_for(require_scope())
        return Response(BudgetSerializer(rows, many=True).data)

    @extend_schema(request=BudgetSerializer, responses={201: BudgetDetailSerializer})
    def post(self, request: Request) -> Response:
        form = BudgetSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        membership = request._request.membership
        if membership.partnership_id is None:
            audit(request._request, Action.DENIED, object_type="schools.budget", detail={"reason": "role"})
            raise PermissionDenied("Only the partnership lead can set up its budget.")
        try:
            budget = budgets.budget_create(
                request=request._request,
                user=request.user,
                partnership=membership.partnership,
                **form.validated_data,
            )
        except DjangoValidationError as exc:
            _raise(exc)
        budget = _budget(request, budget.pk)
        return Response(BudgetDetailSerializer(budget).data, status=status.HTTP_201_CREATED)


class BudgetDetail(APIView):
    permission_classes = [BudgetReaders]

    @extend_schema(responses=BudgetDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(BudgetDetailSerializer(_budget(request, pk)).data)


class BudgetSpend(APIView):
    """Enter a spend item: committed at once up to £30,000, awaiting approval above."""

    permission_classes = [BudgetReaders]

    @extend_schema(request=SpendRequestSerializer, responses={201: SpendSerializer})
    def post(self, request: Request, pk: int) -> Response:
        budget = _budget(request, pk)
        form = SpendRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        if not budgets.can_manage(require_scope(), budget):
            audit(request._request, Action.DENIED, budget, detail={"reason": "role", "part": "spend"})
            raise PermissionDenied("Only the partnership lead can enter spend.")
        data["line"] = get_named_in_body_or_400(
            request._request,
            budgets.lines_of(budget),
            data["line"],
            field="line",
            message="Choose a line of this budget.",
        )
        try:
            item = budgets.spend_add(request=request._request, user=request.user, budget=budget, **data)
        except DjangoValidationError as exc:
            _raise(exc)
        return Response(SpendSerializer(item).data, status=status.HTTP_201_CREATED)


class SpendApprove(APIView):
    """The caller's side's approval of an item over £30,000 (host school or partnership)."""

    permission_classes = [BudgetReaders]

    @extend_schema(request=None, responses=SpendSerializer)
    def post(self, request: Request, pk: int, item_id: int) -> Response:
        budget = _budget(request, pk)
        item = get_in_scope_or_404(request._request, budgets.spend_items_of(budget), item_id)
        try:
            item = budgets.spend_approve(request=request._request, user=request.user, item=item)
        except DjangoValidationError as exc:
            _raise(exc)
        return Response(SpendSerializer(item).data)
