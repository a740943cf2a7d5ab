"""Builder of the school's termly provision report (registered in reports/builders.py).

For the governors and the partnership: the costed provision map of the term, pupils by step
and by need, step changes in the term, what the school year's interventions achieved, and
support plans whose review is overdue. It counts pupils and names none: governors need the
picture, not the children, and the SENCO's own lists name them.

The figures are the school dashboard's, from the one function both use
(`dashboards.figures.school_figures`), with no filter; this module lays them out. They are
plain JSON values: the snapshot kept beside the PDF. Display strings the template needs go
in the context, made from the same figures.

Importing this module also registers the pupils' reports (reports/build_pupil.py).
"""

from __future__ import annotations

from django.utils import timezone

from dashboards import display
from dashboards.figures import school_figures
from reports.build_pupil import Built, context_base
from reports.builders import period_of, register
from reports.models import ReportKind, ReportRequest
from schools.models import School


@register(ReportKind.SCHOOL_TERMLY)
def school_termly(row: ReportRequest) -> Built:
    period = period_of(row)
    school = School.objects.select_related("local_authority").get(pk=row.school_id)
    figures = {"kind": row.kind, "built_on": timezone.localdate(), **school_figures(school, period)}

    context = context_base(
        "School provision report for the term",
        school.name,
        period.label,
        contents=[
            ("summary", "The term at a glance"),
            ("provision-map", "Costed provision map"),
            ("pupils", "Pupils by step and by need"),
            ("movements", "Moves between steps"),
            ("impact", "What the interventions achieved"),
            ("watched", "Pupils at step 3 and above"),
            ("reviews", "Plan reviews overdue"),
        ],
    )
    shown = display.school(figures)
    context.update(
        {
            key: shown[key]
            for key in (
                "map_rows",
                "map_totals",
                "map_total_text",
                "map_per_pupil_text",
                "step_chart",
                "impact_rows",
                "register_rows",
                "watched_rows",
            )
        }
    )
    context["cost_chart"] = shown["cost_by_step_chart"]
    return figures, "reports/school_termly.html", context
