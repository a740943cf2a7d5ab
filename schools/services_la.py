"""Writes to a local authority's own settings: the support-plan review interval, how long
pupils' records are kept, and the term dates of each school year.

LocalAuthority and TermDates are organisation tables, not tenant tables, so no row-level
policy stands behind them: the check that the scope writes this LA is made here, in the
service, besides the view's role rule. Each change writes one audit row (ids and numbers).
"""

from __future__ import annotations

from itertools import pairwise

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from schools.audit import Action, audit
from schools.models import RETENTION_YEARS_MAX, RETENTION_YEARS_MIN, LocalAuthority, TermDates
from schools.tenancy import require_scope
from schools.terms import Term, academic_year_label

TERM_ORDER = list(Term)
REVIEW_WEEKS_MIN, REVIEW_WEEKS_MAX = 1, 52


def _require_la_write(request: HttpRequest | None, la: LocalAuthority) -> None:
    if la.pk not in require_scope().write_local_authority:
        audit(request, Action.DENIED, la, detail={"reason": "role"})
        raise PermissionDenied("Only the local authority's administrator can change its settings.")


def _number_set(
    request: HttpRequest | None, la: LocalAuthority, field: str, value: int, low: int, high: int, unit: str
) -> LocalAuthority:
    """One whole-number LA setting, within its range, saved and audited with what it was."""
    _require_la_write(request, la)
    if not low <= value <= high:
        raise ValidationError({field: f"Give a number of {unit} from {low} to {high}."})
    before = getattr(la, field)
    setattr(la, field, value)
    la.save(update_fields=[field])
    audit(request, Action.UPDATE, la, detail={"fields": [field], "from": before, "to": value})
    return la


def review_interval_set(*, request: HttpRequest | None, la: LocalAuthority, weeks: int) -> LocalAuthority:
    """School weeks from a support plan (or its last review) to its next review."""
    return _number_set(
        request, la, "review_interval_weeks", weeks, REVIEW_WEEKS_MIN, REVIEW_WEEKS_MAX, "school weeks"
    )


def retention_years_set(*, request: HttpRequest | None, la: LocalAuthority, years: int) -> LocalAuthority:
    """Years after birth that the LA's pupils' records are kept once they have left (the nightly
    retention run, pupils/retention.py, reads it)."""
    return _number_set(
        request, la, "retention_years_after_birth", years, RETENTION_YEARS_MIN, RETENTION_YEARS_MAX, "years"
    )


def term_dates_of_year(la: LocalAuthority, academic_year: int) -> dict[str, TermDates]:
    """The LA's saved terms of one school year, by term."""
    rows = TermDates.objects.filter(local_authority=la, academic_year=academic_year)
    return {row.term: row for row in rows}


def term_order_errors(rows: list[TermDates]) -> list[str]:
    """The terms of a year follow one another: each starts after the one before has ended."""
    by_term = {row.term: row for row in rows}
    errors = []
    for earlier, later in pairwise(TERM_ORDER):
        a, b = by_term.get(earlier), by_term.get(later)
        if a and b and a.ends_on and b.starts_on and b.starts_on <= a.ends_on:
            errors.append(
                f"The {later.label.lower()} term must start after the {earlier.label.lower()} term ends "
                f"({a.ends_on:%d/%m/%Y})."
            )
    return errors


def term_dates_save(
    *, request: HttpRequest | None, la: LocalAuthority, academic_year: int, rows: list[TermDates]
) -> list[TermDates]:
    """Save the three terms of one school year together: all of them, or none on any error."""
    _require_la_write(request, la)
    if sorted(row.term for row in rows) != sorted(TERM_ORDER) or any(
        row.local_authority_id != la.pk or row.academic_year != academic_year for row in rows
    ):
        raise ValidationError(
            f"Give the autumn, spring and summer terms of {academic_year_label(academic_year)}."
        )
    messages: list[str] = []
    for row in rows:
        try:
            row.full_clean()
        except ValidationError as exc:
            messages += [f"{row.get_term_display()} term: {m}" for m in exc.messages]
    messages += term_order_errors(rows)
    if messages:
        raise ValidationError(messages)
    created = [row.pk is None for row in rows]
    try:
        with transaction.atomic():
            for row in rows:
                row.save()
    except IntegrityError:
        # Another administrator saved this year at the same moment.
        raise ValidationError(
            "These term dates were just saved by someone else: reload and check them."
        ) from None
    audit(
        request,
        Action.UPDATE,
        object_type="schools.termdates",
        object_id=la.pk,
        detail={
            "academic_year": academic_year,
            "terms": [row.pk for row in rows],
            "created": [row.pk for row, new in zip(rows, created, strict=True) if new],
        },
    )
    return rows
