"""Demo budgets: one per demo partnership for the current financial year, with lines, spend
in several quarters and one large item signed by the partnership, awaiting the host school.

Idempotent: a partnership that already has this year's budget is left as it is.
Call after `seed_organisations()` and `seed_users()`: `seed_budgets(world)`.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from schools.models import Budget, BudgetLine, Membership, Role, SpendItem, financial_year_of
from schools.tenancy import TenantScope, tenant_scope

# (category, name, planned)
LINES = [
    ("staffing", "Provision teacher and TA", Decimal("96000.00")),
    ("resources", "Calm room and classroom resources", Decimal("6500.00")),
    ("training", "Partnership training (trauma-informed practice)", Decimal("4500.00")),
    ("other", "Contingency", Decimal("3000.00")),
]
# (line index, description, supplier, amount, month offset from April)
SPEND = [
    (1, "Sensory and regulation kit", "Consortium Education", Decimal("1240.00"), 0),
    (2, "Emotion coaching course, 12 staff", "Local training provider", Decimal("1800.00"), 2),
    (1, "Reading resources", "School supplier", Decimal("415.60"), 4),
    (3, "Temporary 1:1 support, four weeks", "Supply agency", Decimal("2250.00"), 7),
]
LARGE_ITEM = (0, "Outreach TA, fixed-term contract for the partnership", "", Decimal("32400.00"), 5)


def seed_budgets(world, *, today: datetime.date | None = None) -> int:
    """Budgets added (0 when every partnership already had this year's)."""
    today = today or timezone.localdate()
    year = financial_year_of(today)
    added = 0
    for index, partnership in enumerate(world.partnerships):
        with transaction.atomic(), tenant_scope(TenantScope.system(partnerships=[partnership.pk])):
            if Budget.objects.filter(partnership=partnership, financial_year=year).exists():
                continue
            lead = (
                Membership.objects.filter(role=Role.PARTNERSHIP_LEAD, partnership=partnership)
                .select_related("user")
                .order_by("id")
                .first()
            )
            user = lead.user if lead else None
            budget = Budget.objects.create(
                partnership=partnership,
                financial_year=year,
                allocation=Decimal("110000.00") - Decimal(5000) * index,
                carried_forward=Decimal("8250.00"),
                surplus_plan="Staff training and a small contingency, as the partnership agreed.",
                created_by=user,
            )
            lines = [
                BudgetLine.objects.create(
                    partnership=partnership, budget=budget, category=c, name=n, planned=p
                )
                for c, n, p in LINES
            ]
            for line_index, description, supplier, amount, months in SPEND:
                SpendItem.objects.create(
                    partnership=partnership,
                    budget=budget,
                    line=lines[line_index],
                    description=description,
                    supplier=supplier,
                    amount=amount,
                    spent_on=_month(year, months),
                    status="committed",
                    proposed_by=user,
                )
            # The one large item: only where the partnership has a host school to sign next.
            if partnership.pk == world.provision.partnership_id:
                line_index, description, supplier, amount, months = LARGE_ITEM
                SpendItem.objects.create(
                    partnership=partnership,
                    budget=budget,
                    line=lines[line_index],
                    description=description,
                    supplier=supplier,
                    amount=amount,
                    spent_on=_month(year, months),
                    status="proposed",
                    proposed_by=user,
                    partnership_approved_by=user,
                    partnership_approved_at=timezone.now() if user else None,
                )
            added += 1
    return added


def _month(year: int, months_after_april: int) -> datetime.date:
    month = (3 + months_after_april) % 12 + 1
    return datetime.date(year if month >= 4 else year + 1, month, 12)
