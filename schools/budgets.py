"""Partnership budgets: reads, figures and changes, in one place for pages and API alike.

Who does what (the scope says which partnerships; the role says what may be done there):
- the partnership lead creates the year's budget, adds lines and spend items, marks items
  paid, and signs large items for the partnership;
- the headteacher of a school hosting the partnership's provision reads the budget and signs
  large items for the host school, nothing else;
- an LA officer reads every budget of the LA (budgets hold no pupil data).

The £30,000 rule (the LA toolkit's "joint responsibility"): an item over DUAL_APPROVAL_OVER is
proposed when entered and counts as committed only once the host school and the partnership
have both signed, and the two signatures come from two different people. An item up to and
including £30,000 is committed as soon as the partnership lead enters it: entering it is the
partnership's decision, and the toolkit asks for two signatures only above the limit. The
database keeps the large-item rule too (a check constraint on SpendItem).

Money is Decimal throughout; sums of pence stay exact, and templates round once for display.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from schools.audit import Action, audit
from schools.models import (
    DUAL_APPROVAL_OVER,
    Budget,
    BudgetCategory,
    BudgetLine,
    Partnership,
    Role,
    SpendItem,
    SpendStatus,
    User,
    financial_quarter_of,
    financial_year_of,
)
from schools.tenancy import TenantScope, require_scope

__all__ = ["DUAL_APPROVAL_OVER", "financial_quarter_of", "financial_year_of"]

BUDGET_READERS = frozenset({Role.PARTNERSHIP_LEAD, Role.HEADTEACHER, Role.LA_OFFICER})
MAX_MONEY = Decimal("99999999.99")  # what the columns hold
ZERO = Decimal("0.00")
QUARTERS = (1, 2, 3, 4)
QUARTER_MONTHS = {1: "April–June", 2: "July–September", 3: "October–December", 4: "January–March"}


class Side:
    HOST_SCHOOL = "host_school"
    PARTNERSHIP = "partnership"


# --- selectors ------------------------------------------------------------------------------


def can_read_budgets(scope: TenantScope) -> bool:
    return scope.role in BUDGET_READERS


def budgets_for(scope: TenantScope) -> QuerySet[Budget]:
    """Budgets the scope may open, with lines and spend loaded (three queries in all, however
    many budgets and items). Another partnership's budget is simply not here."""
    if not can_read_budgets(scope):
        return Budget.objects.none()
    return (
        Budget.objects.filter(partnership_id__in=scope.read_partnership)
        .select_related("partnership")
        .prefetch_related(
            Prefetch("lines", queryset=BudgetLine.objects.order_by("category", "name", "id")),
            Prefetch(
                "spend",
                queryset=SpendItem.objects.select_related(
                    "line", "proposed_by", "host_school_approved_by", "partnership_approved_by"
                ).order_by("spent_on", "id"),
            ),
        )
        .order_by("-financial_year", "partnership__name", "id")
    )


def spend_items_of(budget: Budget) -> QuerySet[SpendItem]:
    return SpendItem.objects.filter(budget=budget).select_related("line")


def lines_of(budget: Budget) -> QuerySet[BudgetLine]:
    return BudgetLine.objects.filter(budget=budget)


def counts_as_committed(item: SpendItem) -> bool:
    return item.status in (SpendStatus.COMMITTED, SpendStatus.PAID)


@dataclass(frozen=True)
class LineFigures:
    line: BudgetLine
    planned: Decimal
    committed: Decimal
    forecast: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.planned - self.forecast


@dataclass(frozen=True)
class QuarterFigures:
    quarter: int
    months: str
    spend: Decimal  # committed or paid, dated in this quarter
    cumulative: Decimal  # committed or paid, dated up to the end of this quarter
    forecast: Decimal  # cumulative, plus items still awaiting approval dated up to then
    variance: Decimal  # available − forecast: what is left if every proposal goes ahead

    @property
    def label(self) -> str:
        return f"Q{self.quarter}"


@dataclass(frozen=True)
class BudgetFigures:
    allocation: Decimal
    carried_forward: Decimal
    available: Decimal
    planned: Decimal
    committed: Decimal
    paid: Decimal
    proposed: Decimal
    forecast: Decimal
    variance: Decimal
    lines: list[LineFigures]
    quarters: list[QuarterFigures]
    pending: list[SpendItem]


def budget_figures(budget: Budget) -> BudgetFigures:
    """Every figure of one budget, from its lines and spend (prefetched by `budgets_for`, so
    no query here). The one place these sums are made."""
    lines = list(budget.lines.all())
    items = list(budget.spend.all())
    available = budget.allocation + budget.carried_forward
    committed = sum((i.amount for i in items if counts_as_committed(i)), ZERO)
    paid = sum((i.amount for i in items if i.status == SpendStatus.PAID), ZERO)
    proposed = sum((i.amount for i in items if i.status == SpendStatus.PROPOSED), ZERO)
    forecast = committed + proposed
    line_rows = []
    for line in lines:
        mine = [i for i in items if i.line_id == line.pk]
        line_committed = sum((i.amount for i in mine if counts_as_committed(i)), ZERO)
        line_forecast = sum((i.amount for i in mine), ZERO)
        line_rows.append(LineFigures(line, line.planned, line_committed, line_forecast))
    quarters = []
    cumulative = ZERO
    cumulative_forecast = ZERO
    for q in QUARTERS:
        in_quarter = [i for i in items if i.quarter == q]
        spend = sum((i.amount for i in in_quarter if counts_as_committed(i)), ZERO)
        cumulative += spend
        cumulative_forecast += sum((i.amount for i in in_quarter), ZERO)
        quarters.append(
            QuarterFigures(
                q, QUARTER_MONTHS[q], spend, cumulative, cumulative_forecast, available - cumulative_forecast
            )
        )
    return BudgetFigures(
        allocation=budget.allocation,
        carried_forward=budget.carried_forward,
        available=available,
        planned=sum((line.planned for line in lines), ZERO),
        committed=committed,
        paid=paid,
        proposed=proposed,
        forecast=forecast,
        variance=available - forecast,
        lines=line_rows,
        quarters=quarters,
        pending=[i for i in items if i.status == SpendStatus.PROPOSED],
    )


def approval_side(scope: TenantScope, budget: Budget) -> str | None:
    """Which signature the scope may give on this budget's items, if any."""
    if budget.partnership_id not in scope.write_partnership:
        return None
    if scope.role == Role.PARTNERSHIP_LEAD:
        return Side.PARTNERSHIP
    if scope.role == Role.HEADTEACHER:
        return Side.HOST_SCHOOL
    return None


def can_manage(scope: TenantScope, budget_or_partnership_id: Budget | int) -> bool:
    """The partnership lead keeps the budget: creates it, adds lines and items."""
    pid = (
        budget_or_partnership_id.partnership_id
        if isinstance(budget_or_partnership_id, Budget)
        else budget_or_partnership_id
    )
    return scope.role == Role.PARTNERSHIP_LEAD and pid in scope.write_partnership


def can_sign(scope: TenantScope, item: SpendItem, user: User) -> bool:
    """Whether this person may give their side's signature on this item now."""
    side = approval_side(scope, item.budget)
    if side is None or not item.needs_dual_approval or item.status != SpendStatus.PROPOSED:
        return False
    if getattr(item, f"{side}_approved_by_id") is not None:
        return False
    other = Side.PARTNERSHIP if side == Side.HOST_SCHOOL else Side.HOST_SCHOOL
    return getattr(item, f"{other}_approved_by_id") != user.pk


# --- services -------------------------------------------------------------------------------


def _refuse(request: HttpRequest | None, obj, message: str, **detail) -> None:
    audit(request, Action.DENIED, obj, detail={"reason": "role", **detail})
    raise PermissionDenied(message)


def _money(value: Decimal | int, field: str, *, positive: bool = False) -> Decimal:
    value = Decimal(value) if isinstance(value, int) else value
    if value is None or value < 0 or value > MAX_MONEY or (positive and value == 0):
        low = "more than £0" if positive else "from £0"
        raise ValidationError({field: f"Give an amount in pounds, {low} up to £{MAX_MONEY:,.2f}."})
    if value != value.quantize(Decimal("0.01")):
        raise ValidationError({field: "Give the amount in pounds and pence (two decimal places at most)."})
    return value


def budget_create(
    *,
    request: HttpRequest | None,
    user: User,
    partnership: Partnership,
    financial_year: int,
    allocation: Decimal,
    carried_forward: Decimal = ZERO,
    surplus_plan: str = "",
) -> Budget:
    scope = require_scope()
    if not can_manage(scope, partnership.pk):
        _refuse(request, None, "Only the partnership lead can set up its budget.", part="budget")
    if not 2000 <= financial_year <= 2100:
        raise ValidationError({"financial_year": "Give the year the financial year starts in, e.g. 2025."})
    _money(allocation, "allocation")
    _money(carried_forward, "carried_forward")
    if carried_forward > 0 and not surplus_plan.strip():
        raise ValidationError(
            {"surplus_plan": "Say how the surplus carried forward will be used (the partnership decides)."}
        )
    if Budget.objects.filter(partnership=partnership, financial_year=financial_year).exists():
        raise ValidationError({"financial_year": "This partnership already has a budget for that year."})
    with transaction.atomic():
        budget = Budget.objects.create(
            partnership=partnership,
            financial_year=financial_year,
            allocation=allocation,
            carried_forward=carried_forward,
            surplus_plan=surplus_plan.strip(),
            created_by=user,
        )
        audit(
            request,
            Action.CREATE,
            budget,
            detail={
                "partnership": partnership.pk,
                "year": financial_year,
                "allocation": str(allocation),
                "carried_forward": str(carried_forward),
            },
        )
    return budget


def line_add(
    *, request: HttpRequest | None, budget: Budget, category: str, name: str, planned: Decimal
) -> BudgetLine:
    if not can_manage(require_scope(), budget):
        _refuse(request, budget, "Only the partnership lead can change the budget.", part="line")
    if category not in BudgetCategory.values:
        raise ValidationError({"category": "Choose staffing, resources, training or other."})
    if not name.strip():
        raise ValidationError({"name": "Name the line, e.g. provision teacher."})
    _money(planned, "planned")
    with transaction.atomic():
        line = BudgetLine.objects.create(
            partnership_id=budget.partnership_id,
            budget=budget,
            category=category,
            name=name.strip(),
            planned=planned,
        )
        audit(
            request,
            Action.CREATE,
            line,
            detail={"budget": budget.pk, "category": category, "planned": str(planned)},
        )
    return line


def spend_add(
    *,
    request: HttpRequest | None,
    user: User,
    budget: Budget,
    line: BudgetLine,
    description: str,
    supplier: str,
    amount: Decimal,
    spent_on: datetime.date,
) -> SpendItem:
    """Enter an item: committed at once up to the limit, proposed above it."""
    if not can_manage(require_scope(), budget):
        _refuse(request, budget, "Only the partnership lead can enter spend.", part="spend")
    if line.budget_id != budget.pk:
        raise ValidationError({"line": "Choose a line of this budget."})
    if not description.strip():
        raise ValidationError({"description": "Say what the money is for."})
    _money(amount, "amount", positive=True)
    if financial_year_of(spent_on) != budget.financial_year:
        raise ValidationError(
            {"spent_on": f"The date must fall in the financial year {budget.year_label} (April to March)."}
        )
    status = SpendStatus.PROPOSED if amount > DUAL_APPROVAL_OVER else SpendStatus.COMMITTED
    with transaction.atomic():
        item = SpendItem.objects.create(
            partnership_id=budget.partnership_id,
            budget=budget,
            line=line,
            description=description.strip(),
            supplier=supplier.strip(),
            amount=amount,
            spent_on=spent_on,
            status=status,
            proposed_by=user,
        )
        audit(
            request,
            Action.CREATE,
            item,
            detail={
                "budget": budget.pk,
                "line": line.pk,
                "amount": str(amount),
                "quarter": item.quarter,
                "status": status,
            },
        )
    return item


def spend_approve(*, request: HttpRequest | None, user: User, item: SpendItem) -> SpendItem:
    """Give this person's side's signature; with both sides signed, the item is committed.

    Refusals are audited outside the transaction that changes the item, so the audit row
    stays when the change does not happen."""
    side = approval_side(require_scope(), item.budget)
    if side is None:
        _refuse(
            request,
            item,
            "Only the host school's headteacher or the partnership lead can approve spend.",
            part="approval",
        )
    with transaction.atomic():
        # Two signatures at once wait for each other here, so both are seen and counted.
        item = SpendItem.objects.select_for_update().select_related("budget").get(pk=item.pk)
        other = Side.PARTNERSHIP if side == Side.HOST_SCHOOL else Side.HOST_SCHOOL
        same_person = getattr(item, f"{other}_approved_by_id") == user.pk
        problem = _approval_problem(item, side, same_person=same_person)
        if problem is None:
            setattr(item, f"{side}_approved_by", user)
            setattr(item, f"{side}_approved_at", timezone.now())
            fields = [f"{side}_approved_by", f"{side}_approved_at"]
            if item.host_school_approved_by_id and item.partnership_approved_by_id:
                item.status = SpendStatus.COMMITTED
                fields.append("status")
            item.save(update_fields=fields)
            audit(
                request,
                Action.UPDATE,
                item,
                detail={
                    "budget": item.budget_id,
                    "approved": side,
                    "amount": str(item.amount),
                    "status": item.status,
                },
            )
            return item
    if same_person:
        audit(request, Action.DENIED, item, detail={"reason": "same-person", "side": side})
    raise ValidationError(problem)


def _approval_problem(item: SpendItem, side: str, *, same_person: bool) -> str | None:
    if not item.needs_dual_approval:
        return f"Items up to £{DUAL_APPROVAL_OVER:,.0f} are committed when entered: no approval is needed."
    if item.status != SpendStatus.PROPOSED:
        return "This item is already committed."
    if getattr(item, f"{side}_approved_by_id") is not None:
        return "Your side has already approved this item."
    if same_person:
        return "The second approval must come from someone else: you approved for the other side."
    return None


def spend_mark_paid(*, request: HttpRequest | None, item: SpendItem) -> SpendItem:
    if not can_manage(require_scope(), item.budget):
        _refuse(request, item, "Only the partnership lead can mark spend as paid.", part="paid")
    with transaction.atomic():
        item = SpendItem.objects.select_for_update().select_related("budget").get(pk=item.pk)
        if item.status != SpendStatus.COMMITTED:
            raise ValidationError(
                "Only a committed item can be paid: a large item needs both approvals first."
            )
        item.status = SpendStatus.PAID
        item.save(update_fields=["status"])
        audit(request, Action.UPDATE, item, detail={"budget": item.budget_id, "status": item.status})
    return item
