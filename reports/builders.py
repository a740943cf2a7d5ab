"""What each kind of report is made of: a builder per kind returns the figures (the JSON
snapshot kept beside the PDF), the template that lays them out, and anything else the
template needs. Builders read through the build's tenant scope, inside one transaction, and
put only JSON-friendly values in the figures (numbers, strings, lists, dicts), so the PDF
can be rebuilt and checked from its snapshot.

Builders for school and pupil kinds live in reports/build_school.py, those for provisions,
partnerships and the LA in reports/build_partnership.py; each registers itself here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reports.models import KIND_PERIOD, ReportRequest

Figures = dict
Builder = Callable[[ReportRequest], tuple[Figures, str, dict]]


@dataclass(frozen=True)
class Built:
    figures: Figures
    template: str
    context: dict


_builders: dict[str, Builder] = {}


def register(kind: str) -> Callable[[Builder], Builder]:
    def decorator(builder: Builder) -> Builder:
        _builders[kind] = builder
        return builder

    return decorator


def available_kinds() -> list[str]:
    _load()
    return sorted(_builders)


def _load() -> None:
    # Imported here, not at module level: the builders import the apps they report on.
    import reports.build_partnership
    import reports.build_school  # noqa: F401


def period_of(row: ReportRequest):
    """The request's period as a Period (None for kinds of the record as it stands)."""
    from reports.services import period_for

    if KIND_PERIOD[row.kind] == "none":
        return None
    return period_for(row.kind, row.period, row.local_authority_id)


def build(row: ReportRequest) -> tuple[Figures, str, dict]:
    _load()
    builder = _builders.get(row.kind)
    if builder is None:
        raise LookupError(f"No builder for {row.kind}.")
    return builder(row)
