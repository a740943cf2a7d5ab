"""The costed provision map and the "what works" table in the API.

The same figures as the browser pages (`interventions.costing`), the same roles (a SENCO or
headteacher; anyone else 403, audited) and the same scope: `school` must be a school the scope
reads, else 404 whether it exists or not. Money is a string with two decimals, rounded to the
penny half up; an unknown cost (a kind of staff with no hourly rate) is null, and
`missing_rates` says which kinds lack one.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from interventions import costing
from pupils.models import NC_YEAR_MAX, NC_YEAR_MIN
from schools.access import get_in_scope_or_404
from schools.api_auth import HasActiveMembership
from schools.audit import Action, audit
from schools.models import RECORD_KEEPERS, School
from schools.selectors import schools_for
from schools.tenancy import require_scope
from schools.terms import Term


class SeesCosts(HasActiveMembership):
    """Costs and rates are for SENCOs and headteachers; the role alone decides."""

    message = "Only a SENCO or headteacher can see what provision costs."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if require_scope().role in RECORD_KEEPERS:
            return True
        audit(request._request, Action.DENIED, object_type="cost-route", detail={"reason": "role"})
        return False


def money_field(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=14, decimal_places=2, rounding=ROUND_HALF_UP, read_only=True, allow_null=True, **kwargs
    )


def figure_field(places: int = 2, **kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=12,
        decimal_places=places,
        rounding=ROUND_HALF_UP,
        read_only=True,
        allow_null=True,
        **kwargs,
    )


class SchoolQuery(serializers.Serializer):
    school = serializers.IntegerField(
        required=False, min_value=1, help_text="A school you work in; yours when left out."
    )


class ProvisionMapQuery(SchoolQuery):
    year = serializers.IntegerField(
        required=False,
        min_value=2000,
        max_value=2100,
        help_text="The calendar year the LA's costing year starts in (academic or financial, as the LA "
        "costs); the current one when left out.",
    )
    term = serializers.ChoiceField(choices=Term.choices, required=False, help_text="One term of the year.")
    year_group = serializers.IntegerField(
        required=False,
        min_value=NC_YEAR_MIN,
        max_value=NC_YEAR_MAX,
        help_text="Only pupils who were in this NC year during the school year shown.",
    )


class WhatWorksQuery(SchoolQuery):
    year = serializers.IntegerField(
        required=False,
        min_value=2000,
        max_value=2100,
        help_text="A school year (by its starting year); all when left out.",
    )
    sort = serializers.ChoiceField(
        choices=[k for key in costing.IMPACT_SORTS for k in (key, f"-{key}")],
        required=False,
        default="name",
        help_text="A column to sort by; a leading minus sorts it high to low. Rows with no figure come last.",
    )


class StaffCostSerializer(serializers.Serializer):
    kind = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)
    groups = serializers.IntegerField(read_only=True)
    weekly_hours = figure_field(help_text="Staff hours a week across its groups.")
    weekly_time = serializers.CharField(
        read_only=True, help_text='As a provision map writes it: "4 × 1 hour".'
    )
    rate = money_field(help_text="Hourly rate used; null when none is set.")
    cost = money_field(help_text="Null when the rate is missing.")


class ProvisionMapRowSerializer(serializers.Serializer):
    provision = serializers.IntegerField(source="provision_id", read_only=True)
    name = serializers.CharField(read_only=True)
    area = serializers.CharField(read_only=True, help_text="Area of need code.")
    area_label = serializers.CharField(read_only=True)
    step = serializers.IntegerField(read_only=True, allow_null=True, help_text="Wave or step.")
    ratio = serializers.CharField(read_only=True, help_text="Staff:pupil ratios of its groups.")
    staff = StaffCostSerializer(many=True, read_only=True)
    groups = serializers.IntegerField(read_only=True)
    weekly_hours = figure_field()
    weekly_time = serializers.CharField(read_only=True)
    weeks = serializers.CharField(read_only=True, help_text='Costed weeks: "38", or a range "10–20".')
    cost = money_field()
    pupils = serializers.IntegerField(read_only=True)
    per_pupil_cost = money_field()
    missing_rates = serializers.ListField(child=serializers.CharField(), read_only=True)


class ProvisionMapTotalSerializer(serializers.Serializer):
    key = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)
    rows = serializers.IntegerField(read_only=True, help_text="Provisions counted.")
    groups = serializers.IntegerField(read_only=True)
    weekly_hours = figure_field()
    cost = money_field(help_text="Adds up the known costs; see `complete`.")
    complete = serializers.BooleanField(read_only=True, help_text="False when some cost is unknown.")
    pupils = serializers.IntegerField(read_only=True, help_text="Each pupil once.")
    places = serializers.IntegerField(read_only=True, help_text="Each pupil once per provision.")
    per_pupil_cost = money_field()
    missing_rates = serializers.ListField(child=serializers.CharField(), read_only=True)


class CostingPeriodSerializer(serializers.Serializer):
    year = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(read_only=True, help_text="academic or financial")
    term = serializers.CharField(read_only=True, help_text="Empty for the whole year.")
    label = serializers.CharField(read_only=True)


class ProvisionMapSubtotalsSerializer(serializers.Serializer):
    by_step = ProvisionMapTotalSerializer(many=True, read_only=True)
    by_area = ProvisionMapTotalSerializer(many=True, read_only=True)


class ProvisionMapSerializer(serializers.Serializer):
    school = serializers.IntegerField(source="school_id", read_only=True)
    period = CostingPeriodSerializer(read_only=True)
    year_group = serializers.IntegerField(read_only=True, allow_null=True)
    rows = ProvisionMapRowSerializer(many=True, read_only=True)
    subtotals = ProvisionMapSubtotalsSerializer(source="*", read_only=True)
    totals = ProvisionMapTotalSerializer(source="total", read_only=True)
    missing_rates = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Kinds of staff with no hourly rate."
    )


def _school(request: Request, school_id: int | None) -> School:
    scope = require_scope()
    if school_id is None:
        school_id = request._request.membership.school_id
    qs = schools_for(scope).filter(pk__in=scope.read_school)
    return get_in_scope_or_404(request._request, qs, school_id)


_REFUSED = {
    400: OpenApiResponse(description="A filter is not valid."),
    403: OpenApiResponse(description="Your role does not see costs."),
    404: OpenApiResponse(description="No school with this id is yours."),
}


class ProvisionMapView(APIView):
    """The costed provision map of a school for a costing year, a term or a year group."""

    permission_classes = [SeesCosts]

    @extend_schema(parameters=[ProvisionMapQuery], responses={200: ProvisionMapSerializer, **_REFUSED})
    def get(self, request: Request) -> Response:
        query = ProvisionMapQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        school = _school(request, q.get("school"))
        pmap = costing.provision_map(
            school, year=q.get("year"), term=q.get("term"), year_group=q.get("year_group")
        )
        audit(
            request._request,
            Action.LIST,
            object_type="interventions.provision",
            school_id=school.pk,
            detail={
                "api": "provision-map",
                "year": pmap.period.year,
                "term": pmap.period.term,
                "year_group": pmap.year_group,
                "rows": len(pmap.rows),
                "pupils": pmap.total.pupils,
            },
        )
        return Response(ProvisionMapSerializer(pmap).data)


class ImpactRowSerializer(serializers.Serializer):
    provision = serializers.IntegerField(source="provision_id", read_only=True)
    name = serializers.CharField(read_only=True)
    area = serializers.CharField(read_only=True)
    area_label = serializers.CharField(read_only=True)
    step = serializers.IntegerField(read_only=True, allow_null=True)
    measure = serializers.CharField(source="measure_label", read_only=True)
    higher_is_better = serializers.BooleanField(read_only=True)
    groups = serializers.IntegerField(read_only=True)
    enrolments = serializers.IntegerField(read_only=True)
    pupils = serializers.IntegerField(read_only=True)
    scored = serializers.IntegerField(read_only=True, help_text="Enrolments with entry and exit scores.")
    average_improvement = figure_field(help_text="Mean of exit − entry (entry − exit where lower is better).")
    improved_share = figure_field(
        4, help_text="0 to 1: of the enrolments with an outcome, those that improved."
    )
    mean_rating = figure_field(help_text="Mean outcome rating, −2 to +2.")
    attendance_rate = figure_field(4, help_text="0 to 1: sessions attended ÷ attendance marks.")
    cost = money_field()
    cost_per_pupil = money_field()
    cost_per_improvement = money_field(help_text="Cost ÷ total improvement, when that is above zero.")
    missing_rates = serializers.ListField(child=serializers.CharField(), read_only=True)


class WhatWorksSerializer(serializers.Serializer):
    school = serializers.IntegerField(read_only=True)
    year = serializers.IntegerField(read_only=True, allow_null=True)
    sort = serializers.CharField(read_only=True)
    rows = ImpactRowSerializer(many=True, read_only=True)


class WhatWorksView(APIView):
    """Per provision: enrolments, pupils, average improvement, share improved, attendance, cost
    per pupil and per unit of improvement."""

    permission_classes = [SeesCosts]

    @extend_schema(parameters=[WhatWorksQuery], responses={200: WhatWorksSerializer, **_REFUSED})
    def get(self, request: Request) -> Response:
        query = WhatWorksQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        school = _school(request, q.get("school"))
        rows = costing.sort_impact(costing.what_works(school, academic_year=q.get("year")), q["sort"])
        audit(
            request._request,
            Action.LIST,
            object_type="interventions.provision",
            school_id=school.pk,
            detail={"api": "what-works", "year": q.get("year"), "rows": len(rows)},
        )
        data = {"school": school.pk, "year": q.get("year"), "sort": q["sort"], "rows": rows}
        return Response(WhatWorksSerializer(data).data)
