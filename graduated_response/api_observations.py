"""Behaviour observations in the API: list (filtered by pupil, period and setting), log one,
read one. The same roles, scope and service as the browser page: reading needs pupil-level
access, logging a SENCO or headteacher; another school's pupil or observation is a 404.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from graduated_response import observations as obs
from graduated_response.models import BehaviourObservation, SupportPlan
from pupils.api import PupilAccess, _pupil
from pupils.selectors import pupil_named_in_body
from pupils.serializers import as_drf_error
from schools.access import get_in_scope_or_404
from schools.audit import Action, audit
from schools.tenancy import require_scope

Setting = BehaviourObservation.Setting


class ObservationSerializer(serializers.ModelSerializer):
    class Meta:
        model = BehaviourObservation
        fields = [
            "id",
            "pupil",
            "plan",
            "observed_at",
            "setting",
            "antecedent",
            "behaviour",
            "consequence",
            "intensity",
            "duration_minutes",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class ObservationWriteSerializer(serializers.Serializer):
    pupil = serializers.IntegerField(min_value=1, help_text="The pupil observed: one of your school's.")
    plan = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="One of the pupil's support plans."
    )
    observed_at = serializers.DateTimeField(
        help_text="When it happened; without an offset it is read as UK local time."
    )
    setting = serializers.ChoiceField(choices=Setting.choices)
    antecedent = serializers.CharField(
        max_length=obs.TEXT_LIMIT, required=False, default="", allow_blank=True, help_text="What came before."
    )
    behaviour = serializers.CharField(max_length=obs.TEXT_LIMIT, help_text="What the pupil did.")
    consequence = serializers.CharField(
        max_length=obs.TEXT_LIMIT, required=False, default="", allow_blank=True, help_text="What followed."
    )
    intensity = serializers.IntegerField(min_value=1, max_value=5, help_text="1 (mild) to 5 (severe).")
    duration_minutes = serializers.IntegerField(min_value=1, max_value=600, required=False, allow_null=True)


class _PeriodQuery(serializers.Serializer):
    def validate(self, attrs: dict) -> dict:
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"from": ["The start of the period must come before its end."]})
        return attrs


# `from` is a Python keyword, so the query's fields are given by name.
ObservationQuery = type(
    "ObservationQuery",
    (_PeriodQuery,),
    {
        "pupil": serializers.IntegerField(required=False, min_value=1, help_text="Only this pupil's."),
        "from": serializers.DateField(required=False, help_text="Observed on or after this date (UK)."),
        "to": serializers.DateField(required=False, help_text="Observed on or before this date (UK)."),
        "setting": serializers.ChoiceField(choices=Setting.choices, required=False),
    },
)


class ObservationListCreate(generics.GenericAPIView):
    """Observations of the pupils you may see, newest first; POST logs one."""

    permission_classes = [PupilAccess]
    serializer_class = ObservationSerializer

    @extend_schema(parameters=[ObservationQuery], responses=ObservationSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = ObservationQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        pupil = _pupil(request, q["pupil"]) if q.get("pupil") else None
        qs = obs.observation_list(require_scope())
        if pupil is not None:
            qs = qs.filter(pupil=pupil)
        if q.get("setting"):
            qs = qs.filter(setting=q["setting"])
        qs = obs.in_period(qs, q.get("from"), q.get("to"))
        page = self.paginate_queryset(qs)
        filters = sorted(k for k in ("from", "to", "setting") if q.get(k))
        if pupil is not None:
            # One pupil's record was read: logged against that pupil, as their page is.
            audit(
                request._request,
                Action.VIEW,
                pupil,
                detail={"part": "observations", "shown": len(page), "filters": filters},
            )
        else:
            audit(
                request._request,
                Action.LIST,
                object_type="graduated_response.behaviourobservation",
                detail={
                    "shown": len(page),
                    "pupils": sorted({o.pupil_id for o in page}),
                    "filters": filters,
                },
            )
        return self.get_paginated_response(ObservationSerializer(page, many=True).data)

    @extend_schema(request=ObservationWriteSerializer, responses={201: ObservationSerializer})
    def post(self, request: Request) -> Response:
        form = ObservationWriteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        pupil = pupil_named_in_body(request._request, data.pop("pupil"))
        plan_id = data.pop("plan", None)
        plan = None
        if plan_id is not None:
            plan = SupportPlan.objects.filter(pk=plan_id, pupil=pupil).first()
            if plan is None:
                raise serializers.ValidationError({"plan": ["Choose one of this pupil's support plans."]})
        try:
            observation = obs.observation_record(request=request._request, pupil=pupil, plan=plan, **data)
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from None
        return Response(ObservationSerializer(observation).data, status=status.HTTP_201_CREATED)


class ObservationDetail(APIView):
    permission_classes = [PupilAccess]

    @extend_schema(responses=ObservationSerializer)
    def get(self, request: Request, pk: int) -> Response:
        observation = get_in_scope_or_404(request._request, obs.observation_list(require_scope()), pk)
        audit(
            request._request,
            Action.VIEW,
            object_type="pupils.pupil",
            object_id=observation.pupil_id,
            school_id=observation.school_id,
            detail={"part": "observations", "observation": observation.pk},
        )
        return Response(ObservationSerializer(observation).data)
