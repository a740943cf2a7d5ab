"""Browser forms for partnership budgets. They only read and tidy input; the rules (who may,
the £30,000 limit, dates inside the financial year) are the services' (schools/budgets.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from schools.budgets import MAX_MONEY, lines_of
from schools.forms import DateInput
from schools.models import Budget, BudgetCategory


def _money(
    label: str, *, help_text: str = "", required: bool = True, minimum: str = "0"
) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        help_text=help_text,
        required=required,
        min_value=Decimal(minimum),
        max_value=MAX_MONEY,
        max_digits=10,
        decimal_places=2,
        error_messages={
            "required": f"Give the {label.lower()} in pounds.",
            "invalid": "Give an amount in pounds, such as 1250.00.",
            "max_decimal_places": "Give pounds and pence: two decimal places at most.",
        },
    )


class BudgetForm(forms.Form):
    financial_year = forms.IntegerField(
        label="Financial year starts in",
        min_value=2000,
        max_value=2100,
        help_text="The year of 1 April it starts on: 2025 for 2025-26.",
    )
    allocation = _money("Allocation", help_text="The behaviour funding allocated for the year, in pounds.")
    carried_forward = _money(
        "Carried forward", help_text="Surplus brought from last year, in pounds (0 if none).", required=False
    )
    surplus_plan = forms.CharField(
        label="Planned use of the surplus",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example training, future proofing or a contingency, as the partnership agreed.",
    )

    def clean_carried_forward(self) -> Decimal:
        return self.cleaned_data.get("carried_forward") or Decimal("0.00")


class LineForm(forms.Form):
    category = forms.ChoiceField(choices=BudgetCategory.choices)
    name = forms.CharField(max_length=120, help_text="e.g. Provision teacher, outreach TA, calm room kit.")
    planned = _money("Planned amount")


class SpendForm(forms.Form):
    line = forms.ModelChoiceField(queryset=None, label="Budget line", empty_label=None)
    description = forms.CharField(max_length=200)
    supplier = forms.CharField(max_length=120, required=False)
    amount = _money(
        "Amount",
        minimum="0.01",
        help_text="Items over £30,000 need the host school's and the partnership's approval.",
    )
    spent_on = forms.DateField(
        label="Date", widget=DateInput(), help_text="The date of the order or invoice."
    )

    def __init__(self, *args: Any, budget: Budget, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only this budget's lines are offered or accepted (SECURITY.md 3).
        self.fields["line"].queryset = lines_of(budget).order_by("category", "name", "id")
