"""The partnership lead's form for one provision's KPI targets in one school year."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from interventions.placements import COUNT_KPIS, LARGEST_TARGET, PERCENT_KPIS, check_kpi_target
from schools.models import KPI_LOWER_IS_BETTER, Kpi


class KpiTargetsForm(forms.Form):
    """One number per KPI; a blank field clears that target."""

    def __init__(self, *args, targets: dict[str, Decimal | None] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        targets = targets or {}
        for kpi in Kpi:
            self.fields[kpi.value] = forms.DecimalField(
                label=kpi.label,
                required=False,
                min_value=0,
                max_value=100 if kpi in PERCENT_KPIS else LARGEST_TARGET,
                decimal_places=0 if kpi in COUNT_KPIS else 1,
                initial=_initial(kpi, targets.get(kpi.value)),
                help_text="Lower is better." if kpi in KPI_LOWER_IS_BETTER else "",
                error_messages={
                    "invalid": "Enter a number, or leave it blank for no target.",
                    "min_value": "A target cannot be negative.",
                    "max_value": "A target is at most %(limit_value)s.",
                    "max_decimal_places": (
                        "A count is a whole number."
                        if kpi in COUNT_KPIS
                        else "Use at most one decimal place."
                    ),
                    "max_digits": "That number is too long.",
                    "max_whole_digits": "That number is too large.",
                },
            )

    def clean(self) -> dict:
        data = super().clean()
        for kpi in Kpi:
            value = data.get(kpi.value)
            if kpi.value in self.errors or value is None:
                continue
            try:
                check_kpi_target(kpi.value, value)
            except ValidationError as exc:
                self.add_error(kpi.value, exc.message_dict.get("target", exc.messages))
        return data

    def targets(self) -> dict[str, Decimal | None]:
        return {kpi.value: self.cleaned_data.get(kpi.value) for kpi in Kpi}


def _initial(kpi: Kpi, target: Decimal | None) -> Decimal | None:
    # Targets are stored with one decimal place; a count's shows as the whole number it is.
    return target.quantize(Decimal(1)) if target is not None and kpi in COUNT_KPIS else target
