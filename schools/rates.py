"""Hourly staff rates and the costing year: what a provision map's costs are built from.

An LA sets an hourly rate for each kind of staff and says how many weeks make its costing
year (38 unless it uses 38.6 or 39) and whether that year is the academic or the financial
one. A school may set its own rate for a kind; where it has none, the LA's applies. Rates are
organisation rows, not pupil data, so no row-level policy stands behind them: the services
check the scope themselves, and every change is audited with the numbers (no free text).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest

from schools.audit import Action, audit
from schools.models import LocalAuthority, School, StaffRole
from schools.tenancy import require_scope

MAX_RATE = Decimal("500.00")
COSTING_WEEKS_MIN, COSTING_WEEKS_MAX = Decimal(30), Decimal(52)


@dataclass(frozen=True)
class RateRow:
    kind: str
    label: str
    la_rate: Decimal | None
    school_rate: Decimal | None

    @property
    def rate(self) -> Decimal | None:
        return self.school_rate if self.school_rate is not None else self.la_rate


def rate_table(la: LocalAuthority | int, school: School | None = None) -> list[RateRow]:
    """Every kind of staff with the LA's rate and (for a school) its own: one query. The
    rule "the school's own rate, else the LA's" is `RateRow.rate`, and only there."""
    la_id = la if isinstance(la, int) else la.pk
    la_rates: dict[str, Decimal] = {}
    school_rates: dict[str, Decimal] = {}
    mine = Q(school__isnull=True) | Q(school=school) if school is not None else Q(school__isnull=True)
    rows = StaffRole.objects.filter(mine, local_authority_id=la_id)
    for role in rows:
        (la_rates if role.school_id is None else school_rates)[role.kind] = role.hourly_cost
    return [
        RateRow(kind, label, la_rates.get(kind), school_rates.get(kind) if school else None)
        for kind, label in StaffRole.Kind.choices
    ]


def _check_rate(kind: str, value: Decimal | None) -> None:
    if value is not None and not Decimal(0) <= value <= MAX_RATE:
        label = StaffRole.Kind(kind).label
        raise ValidationError(
            {kind: f"Give {label.lower()}'s hourly rate in pounds, from 0 to {MAX_RATE:.0f}."}
        )


def _save_rates(
    la: LocalAuthority, school: School | None, rates: dict[str, Decimal | None]
) -> dict[str, str]:
    """Set, change or clear each kind's rate; returns what changed (kind → new rate or "")."""
    existing = {r.kind: r for r in StaffRole.objects.filter(local_authority=la, school=school)}
    changed: dict[str, str] = {}
    for kind, value in rates.items():
        if kind not in StaffRole.Kind.values:
            raise ValidationError(f"There is no kind of staff called {kind!r}.")
        _check_rate(kind, value)
        row = existing.get(kind)
        if value is None:
            if row is not None:
                row.delete()
                changed[kind] = ""
        elif row is None:
            StaffRole.objects.create(local_authority=la, school=school, kind=kind, hourly_cost=value)
            changed[kind] = str(value)
        elif row.hourly_cost != value:
            row.hourly_cost = value
            row.save(update_fields=["hourly_cost"])
            changed[kind] = str(value)
    return changed


@transaction.atomic
def la_costing_set(
    *,
    request: HttpRequest | None,
    la: LocalAuthority,
    costing_weeks: Decimal,
    costing_year: str,
    rates: dict[str, Decimal | None],
) -> LocalAuthority:
    """The LA's costing year and its hourly rates (a kind left empty has no LA rate)."""
    if la.pk not in require_scope().write_local_authority:
        audit(request, Action.DENIED, la, detail={"reason": "role", "part": "costs"})
        raise PermissionDenied("Only the local authority's administrator can change its rates.")
    if not COSTING_WEEKS_MIN <= costing_weeks <= COSTING_WEEKS_MAX:
        raise ValidationError({"costing_weeks": "A costing year has from 30 to 52 weeks (usually 38)."})
    if costing_year not in LocalAuthority.CostingYear.values:
        raise ValidationError({"costing_year": "Choose the academic or the financial year."})
    la = LocalAuthority.objects.select_for_update().get(pk=la.pk)
    la.costing_weeks, la.costing_year = costing_weeks, costing_year
    la.save(update_fields=["costing_weeks", "costing_year"])
    changed = _save_rates(la, None, rates)
    audit(
        request,
        Action.UPDATE,
        la,
        detail={
            "fields": ["costs"],
            "costing_weeks": str(costing_weeks),
            "year": costing_year,
            "rates": changed,
        },
    )
    return la


@transaction.atomic
def school_rates_set(
    *, request: HttpRequest | None, school: School, rates: dict[str, Decimal | None]
) -> None:
    """A school's own hourly rates; a kind left empty uses the LA's rate."""
    scope = require_scope()
    if school.pk not in scope.write_school or scope.role != "headteacher":
        audit(request, Action.DENIED, school, detail={"reason": "role", "part": "rates"})
        raise PermissionDenied("Only the school's headteacher can change its rates.")
    # Two saves at once wait for each other here rather than racing to the unique rule.
    School.objects.select_for_update().filter(pk=school.pk).first()
    la = LocalAuthority.objects.get(pk=school.local_authority_id)
    changed = _save_rates(la, school, rates)
    audit(request, Action.UPDATE, school, detail={"fields": ["rates"], "rates": changed})
