"""A partnership's behaviour provision KPIs over the API, and its lead setting targets.

`GET /api/v1/partnerships/{id}/kpis/?year=2025`: per provision, each KPI's target and
actual. The same figures, roles and suppression as the browser page
(interventions/aggregates.py): the partnership lead and LA officer get suppressed figures
(`actual` null and `shown` "<5" or "not shown" where a figure could point at a child;
`basis` null, with `basis_shown` only "fewer than 5" or "5 or more", since an exact basis
would turn a rate back into a count); a provision lead gets its own provision, exactly.
Other roles 403 whatever the id; a partnership outside the scope 404.

`PUT` (or `POST`) on the same address sets one target: `{provision, year, kpi, target}`,
`target` null to clear it. The partnership lead only; a provision not of this partnership
(or not in scope) is a 400 on `provision`, the same answer either way.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from interventions import aggregates
from interventions.placements import FIRST_KPI_YEAR, LAST_KPI_YEAR, kpi_target_set
from schools.access import get_named_in_body_or_400
from schools.api_auth import HasActiveMembership
from schools.audit import Action, audit
from schools.models import Kpi, Partnership, Role
from schools.partnership import partnerships_for
from schools.tenancy import require_scope
from schools.terms import academic_year_label, academic_year_of

KPI_ROLES = frozenset({Role.PARTNERSHIP_LEAD, Role.LA_OFFICER, Role.PROVISION_LEAD})
BIG_ID = 2**63 - 1


class SeesKpis(HasActiveMembership):
    """Partnership leads, LA officers and provision leads; the role alone decides."""

    message = "Your role does not see behaviour provision KPIs."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if require_scope().role in KPI_ROLES:
            return True
        audit(request._request, Action.DENIED, object_type="kpi-route", detail={"reason": "role"})
        return False


def _figure(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True, read_only=True, **kwargs)


class KpiRowSerializer(serializers.Serializer):
    kpi = serializers.ChoiceField(choices=Kpi.choices, read_only=True)
    label = serializers.CharField(read_only=True)
    target = _figure(help_text="The partnership's target; null when none is set.")
    actual = _figure(help_text="Null when there is nothing to measure yet, or it cannot be shown to you.")
    shown = serializers.CharField(
        read_only=True, help_text='The actual as you may see it: a figure, "<5", "not shown" or "–".'
    )
    basis = serializers.IntegerField(
        allow_null=True,
        read_only=True,
        help_text="How many pupils or placements the actual rests on; null when figures are suppressed.",
    )
    basis_shown = serializers.CharField(read_only=True, help_text="The same in words, as you may see it.")
    met = serializers.BooleanField(
        allow_null=True, read_only=True, help_text="Null with no target, nothing measured, or not shown."
    )
    met_label = serializers.CharField(read_only=True)
    lower_is_better = serializers.BooleanField(read_only=True)


class ProvisionKpisSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, source="provision.pk")
    name = serializers.CharField(read_only=True, source="provision.name")
    host_school = serializers.IntegerField(read_only=True, source="provision.host_school_id")
    suppressed = serializers.BooleanField(read_only=True)
    kpis = KpiRowSerializer(many=True, read_only=True, source="rows")


class PartnershipKpisSerializer(serializers.Serializer):
    partnership = serializers.IntegerField(read_only=True)
    year = serializers.IntegerField(read_only=True, help_text="The calendar year the school year starts in.")
    year_label = serializers.CharField(read_only=True)
    provisions = ProvisionKpisSerializer(many=True, read_only=True)


class TargetRequestSerializer(serializers.Serializer):
    provision = serializers.IntegerField(
        min_value=1, max_value=BIG_ID, help_text="A provision of this partnership."
    )
    year = serializers.IntegerField(min_value=FIRST_KPI_YEAR, max_value=LAST_KPI_YEAR)
    kpi = serializers.ChoiceField(choices=Kpi.choices)
    target = serializers.DecimalField(
        max_digits=12, decimal_places=4, allow_null=True, help_text="Null clears the target."
    )


class YearQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=FIRST_KPI_YEAR, max_value=LAST_KPI_YEAR, required=False)


YEAR_PARAMETER = OpenApiParameter(
    "year", int, description="The calendar year the school year starts in; this school year if left out."
)


def _partnership(request: Request, pk: int) -> Partnership:
    partnership = partnerships_for(require_scope()).filter(pk=pk).first()
    if partnership is None:
        audit(request._request, Action.DENIED, object_type="schools.partnership", object_id=pk)
        raise Http404("Not found.")
    return partnership


def _response(partnership: Partnership, year: int, provision_id: int | None = None) -> Response:
    scope = require_scope()
    provisions = aggregates.kpi_provisions(scope).filter(partnership_id=partnership.pk)
    if provision_id is not None:
        provisions = provisions.filter(pk=provision_id)
    groups = aggregates.kpis_by_partnership(scope, year, list(provisions))
    data = {
        "partnership": partnership.pk,
        "year": year,
        "year_label": academic_year_label(year),
        "provisions": [item for group in groups for item in group.provisions],
    }
    return Response(PartnershipKpisSerializer(data).data)


class PartnershipKpis(APIView):
    permission_classes = [SeesKpis]

    @extend_schema(parameters=[YEAR_PARAMETER], responses=PartnershipKpisSerializer)
    def get(self, request: Request, pk: int) -> Response:
        partnership = _partnership(request, pk)
        query = YearQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data.get("year") or academic_year_of(timezone.localdate())
        return _response(partnership, year)

    @extend_schema(
        request=TargetRequestSerializer,
        responses=PartnershipKpisSerializer,
        description="Set or clear one target; answers with that provision's KPIs for the year.",
    )
    def put(self, request: Request, pk: int) -> Response:
        partnership = _partnership(request, pk)
        scope = require_scope()
        if scope.role != Role.PARTNERSHIP_LEAD or partnership.pk not in scope.write_partnership:
            audit(
                request._request, Action.DENIED, partnership, detail={"reason": "role", "part": "kpi-target"}
            )
            raise PermissionDenied("Only the partnership lead sets its provisions' targets.")
        body = TargetRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        provision = get_named_in_body_or_400(
            request._request,
            aggregates.kpi_provisions(scope).filter(partnership_id=partnership.pk),
            data["provision"],
            field="provision",
            message="Choose a behaviour provision of this partnership.",
        )
        try:
            kpi_target_set(request._request, provision, data["year"], data["kpi"], data["target"])
        except DjangoValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else {"target": exc.messages}
            raise serializers.ValidationError(detail) from None
        return _response(partnership, data["year"], provision.pk)

    @extend_schema(
        request=TargetRequestSerializer,
        responses=PartnershipKpisSerializer,
        description="The same as PUT, for clients that cannot send PUT.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.put(request, pk)
