"""`GET /api/v1/figures/?scope_type=…&scope_id=…&period=…`: the figures a dashboard and the
reports of that scope share, as JSON, with the same suppression.

- `scope_type`: `school` (period a term, `2025-26-autumn`), `provision` (a term),
  `partnership` (a school year, `2025-26`) or `local_authority` (a school year). An empty
  period is the one under way.
- `year_group` (NC year) and `area` (area of need) narrow a school's figures, as the
  dashboard's filters do; any other scope refuses them (400): its figures are suppressed,
  and a filtered table beside the unfiltered one would give small counts away.
- Decimals are strings and dates ISO strings: the encoding of the report's snapshot, so
  the figures of a report and of this call for the same scope and period compare equal.

Who may ask for which scope is `dashboards.services.may_see`; any other id, real or made
up, is a 404 that says nothing more, and is audited.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound as ApiNotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards.figures import Filters
from dashboards.services import FILTERED, PERIOD_KIND, NotFound, figures_for, period_for, target
from pupils.codes import AreaOfNeed
from pupils.forms import YEAR_CHOICES
from pupils.serializers import as_drf_error
from schools.api_auth import HasActiveMembership
from schools.audit import Action, audit
from schools.tenancy import require_scope

BIG_ID = 2**63 - 1
NOT_FILTERED = "Only a school's figures take a year group or an area of need."


class FiguresQuery(serializers.Serializer):
    scope_type = serializers.ChoiceField(
        choices=[str(k) for k in PERIOD_KIND],
        error_messages={"invalid_choice": "Give one of: school, provision, partnership, local_authority."},
    )
    scope_id = serializers.IntegerField(min_value=1, max_value=BIG_ID)
    period = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")
    year_group = serializers.ChoiceField(
        choices=[y for y, _ in YEAR_CHOICES], required=False, allow_null=True, default=None
    )
    area = serializers.ChoiceField(choices=AreaOfNeed.values, required=False, allow_blank=True, default="")


class FiguresView(APIView):
    permission_classes = [HasActiveMembership]

    @extend_schema(
        summary="Figures a dashboard and the reports share",
        parameters=[
            OpenApiParameter("scope_type", str, enum=[str(k) for k in PERIOD_KIND], required=True),
            OpenApiParameter("scope_id", int, required=True),
            OpenApiParameter(
                "period",
                str,
                description="A term (2025-26-autumn) for a school or provision, a school year "
                "(2025-26) for a partnership or LA; empty for the one under way.",
            ),
            OpenApiParameter("year_group", int, description="NC year: a school's figures only."),
            OpenApiParameter(
                "area",
                str,
                enum=AreaOfNeed.values,
                description="Area of primary need: a school's figures only.",
            ),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        query = FiguresQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        scope = require_scope()
        try:
            goal = target(scope, data["scope_type"], data["scope_id"])
        except NotFound:
            audit(
                request._request,
                Action.DENIED,
                object_type=f"figures.{data['scope_type']}",
                object_id=data["scope_id"],
            )
            raise ApiNotFound("Not found.") from None
        try:
            period = period_for(goal, data["period"])
        except ValidationError as error:
            raise as_drf_error(error) from None
        year_group = data["year_group"]
        filters = Filters(int(year_group) if year_group is not None else None, data["area"])
        if filters and goal.scope_type not in FILTERED:
            raise serializers.ValidationError(
                {"year_group" if year_group is not None else "area": [NOT_FILTERED]}
            )
        figures = figures_for(scope, goal, period, filters)
        audit(
            request._request,
            Action.VIEW,
            object_type=f"figures.{goal.scope_type}",
            object_id=goal.obj.pk,
            detail={"period": period.code},
        )
        return Response(json.loads(json.dumps(figures, cls=DjangoJSONEncoder)))
