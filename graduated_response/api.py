"""The graduated-response API: the LA's frameworks (read) and a pupil's step placements.

Same scope, selectors and services as the browser: a refused move up answers 400 with the
explanation the browser shows.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from graduated_response import placements, selectors
from graduated_response.models import Framework, Step, StepPlacement, Strategy
from graduated_response.services import STEP_EDITABLE
from pupils.api import PupilAccess, _pupil
from pupils.serializers import as_drf_error
from schools.access import get_in_scope_or_404
from schools.api_auth import HasActiveMembership
from schools.audit import Action, audit
from schools.tenancy import require_scope


class StrategySerializer(serializers.ModelSerializer):
    class Meta:
        model = Strategy
        fields = ["id", "name", "description", "order"]


class StepSerializer(serializers.ModelSerializer):
    strategies = StrategySerializer(many=True, read_only=True)

    class Meta:
        model = Step
        fields = ["id", "number", *STEP_EDITABLE, "strategies"]


class FrameworkSerializer(serializers.ModelSerializer):
    steps = StepSerializer(many=True, read_only=True)

    class Meta:
        model = Framework
        fields = ["id", "slug", "name", "description", "template_key", "version", "is_current", "steps"]


class PlacementSerializer(serializers.ModelSerializer):
    step_number = serializers.IntegerField(source="step.number", read_only=True)
    from_step_number = serializers.IntegerField(source="from_step.number", read_only=True, allow_null=True)

    class Meta:
        model = StepPlacement
        fields = [
            "id",
            "framework",
            "step",
            "step_number",
            "from_step",
            "from_step_number",
            "kind",
            "status",
            "reason",
            "evidence",
            "placed_on",
            "override",
            "override_justification",
            "recorded_by",
            "approved_by",
            "approved_at",
        ]
        read_only_fields = fields


class PlacementWriteSerializer(serializers.Serializer):
    step = serializers.IntegerField(
        required=False, allow_null=True, help_text="The step to place or move to; leave out with exit."
    )
    exit = serializers.BooleanField(default=False, help_text="Take the pupil off the framework.")
    reason = serializers.CharField(max_length=4000)
    evidence = serializers.CharField(max_length=4000, required=False, default="", allow_blank=True)
    placed_on = serializers.DateField()
    override_justification = serializers.CharField(
        max_length=4000, required=False, default="", allow_blank=True
    )

    def validate(self, attrs):
        if not attrs["exit"] and not attrs.get("step"):
            raise serializers.ValidationError({"step": ["Give the step, or exit."]})
        return attrs


class FrameworkList(generics.ListAPIView):
    """The current frameworks of your local authority, with steps and strategies."""

    permission_classes = [HasActiveMembership]
    serializer_class = FrameworkSerializer

    def get_queryset(self):
        return selectors.frameworks_with_steps(require_scope())


class FrameworkDetail(APIView):
    permission_classes = [HasActiveMembership]

    @extend_schema(responses=FrameworkSerializer)
    def get(self, request: Request, pk: int) -> Response:
        qs = selectors.framework_list(require_scope(), include_old_versions=True).prefetch_related(
            "steps__strategies"
        )
        framework = get_in_scope_or_404(request._request, qs, pk)
        return Response(FrameworkSerializer(framework).data)


def _raise(exc: DjangoValidationError):
    raise as_drf_error(exc) from None


class PupilPlacements(APIView):
    """A pupil's step history, newest first; POST places, moves or takes them off the framework.
    A move up below the current step's rule is a 400 with the reason, unless an override
    justification is given (then the move waits for a headteacher's approval)."""

    permission_classes = [PupilAccess]

    @extend_schema(responses=PlacementSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        pupil = _pupil(request, pk)
        audit(request._request, Action.VIEW, pupil, detail={"part": "steps"})
        return Response(PlacementSerializer(selectors.step_history(pupil), many=True).data)

    @extend_schema(request=PlacementWriteSerializer, responses={201: PlacementSerializer})
    def post(self, request: Request, pk: int) -> Response:
        pupil = _pupil(request, pk)
        form = PlacementWriteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        common = {
            "request": request._request,
            "pupil": pupil,
            "reason": data["reason"],
            "evidence": data["evidence"],
            "placed_on": data["placed_on"],
        }
        try:
            if data["exit"]:
                placement = placements.step_exit(**common)
            else:
                step = Step.objects.filter(pk=data["step"]).select_related("framework").first()
                if step is None:
                    raise serializers.ValidationError({"step": ["There is no such step in your frameworks."]})
                if placements.current_placement(pupil) is None:
                    placement = placements.step_place(step=step, **common)
                else:
                    placement = placements.step_move(
                        to_step=step, override_justification=data["override_justification"], **common
                    )
        except DjangoValidationError as exc:
            _raise(exc)
        return Response(PlacementSerializer(placement).data, status=status.HTTP_201_CREATED)


class PlacementApprove(APIView):
    """A headteacher approves an override: the pending move becomes the pupil's step."""

    permission_classes = [PupilAccess]

    @extend_schema(request=None, responses=PlacementSerializer)
    def post(self, request: Request, pk: int, placement_id: int) -> Response:
        pupil = _pupil(request, pk)
        placement = get_in_scope_or_404(request._request, selectors.step_history(pupil), placement_id)
        try:
            placement = placements.step_approve_override(request=request._request, placement=placement)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            _raise(exc)
        return Response(PlacementSerializer(placement).data)
