"""Placements in behaviour provisions over the API: list and refer, read one, and start,
record progress, end or withdraw it. The same roles, selectors and services as the pages
(interventions/views_placements.py): the home school's SENCO or headteacher and the
provision's lead; another tenant's placement is a 404 in an address, and a pupil or
provision a body names that the caller may not use is a 400, with nothing saved.

A provision reads a pupil's name only while the placement runs, so `pupil_name` is null
whenever the caller may not read the pupil (the `pupil` id is always given).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from interventions import placements as services
from interventions.models import ExitOutcome, PlacementPattern, ProvisionPlacement
from interventions.selectors_placements import (
    PLACEMENT_ROLES,
    STATUS_FILTERS,
    audit_list,
    names_after_change,
    placement_list,
    provisions_taking,
    with_pupils,
)
from pupils.selectors import pupil_named_in_body
from pupils.serializers import as_drf_error
from schools.access import get_in_scope_or_404, get_named_in_body_or_400
from schools.api_auth import PupilLevel
from schools.audit import Action, audit
from schools.models import RECORD_KEEPERS
from schools.tenancy import require_scope

BIG_ID = 2**63 - 1
TEXT_LIMIT = 4000


def _id(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=BIG_ID, **kwargs)


class PlacementAccess(PupilLevel):
    """Placements are for the home school's SENCO or headteacher and the provision's lead;
    referring (POST to the list) for the home school alone. Which changes either side may
    make to one placement is the services' check (a 403 with its reason)."""

    message = "Only a SENCO, a headteacher or a behaviour provision's lead works with placements."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        role = require_scope().role
        refer = request.method == "POST" and getattr(view, "refers", False)
        if role in (RECORD_KEEPERS if refer else PLACEMENT_ROLES):
            return True
        if refer and role in PLACEMENT_ROLES:
            self.message = "Only the pupil's own school's SENCO or headteacher can refer them."
        audit(
            request._request,
            Action.DENIED,
            object_type="interventions.provisionplacement",
            detail={"reason": "role", "write": request.method == "POST"},
        )
        return False


# --- payloads ------------------------------------------------------------------------------


class ProvisionPlacementSerializer(serializers.ModelSerializer):
    pupil_name = serializers.SerializerMethodField(
        help_text="The pupil's name, or null when you may not read the pupil (for a provision: "
        "before the placement starts and after it ends)."
    )
    school_name = serializers.CharField(source="school.name", read_only=True, help_text="The home school.")
    provision_name = serializers.CharField(source="provision.name", read_only=True)
    length_of_stay_days = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Days from the first day to the last (or to today while it runs); null before it starts.",
    )

    class Meta:
        model = ProvisionPlacement
        fields = [
            "id",
            "pupil",
            "pupil_name",
            "school",
            "school_name",
            "provision",
            "provision_name",
            "status",
            "referred_on",
            "referral_reason",
            "consent_on",
            "consent_note",
            "pattern",
            "days_per_week",
            "starts_on",
            "planned_end_on",
            "ends_on",
            "length_of_stay_days",
            "outside_key_stage",
            "mdt_meeting_on",
            "mdt_note",
            "ehc_exception",
            "exit_outcome",
            "exit_note",
            "attendance_percent",
            "suspensions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"exit_outcome": {"allow_blank": True}}  # "" until the placement ends

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_pupil_name(self, placement: ProvisionPlacement) -> str | None:
        pupil = placement.shown.pupil
        return f"{pupil.first_name} {pupil.last_name}" if pupil is not None else None


def _out(placements: list[ProvisionPlacement], *, hide: bool = False) -> list[dict]:
    return ProvisionPlacementSerializer(with_pupils(placements, hide=hide), many=True).data


def _text(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=TEXT_LIMIT, required=False, default="", allow_blank=True, **kwargs
    )


def _attendance() -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        min_value=Decimal(0),
        max_value=Decimal(100),
        required=False,
        allow_null=True,
        help_text="Attendance at the provision, as a percentage.",
    )


class PlacementReferWrite(serializers.Serializer):
    pupil = _id(help_text="One of your school's pupils, on roll.")
    provision = _id(help_text="A behaviour provision serving your school's partnership.")
    referred_on = serializers.DateField(help_text="Not in the future.")
    referral_reason = _text(help_text="What the school has tried and why it asks for a place (required).")
    consent_on = serializers.DateField(
        required=False, allow_null=True, help_text="The day parents or carers consented (required)."
    )
    consent_note = serializers.CharField(
        max_length=200,
        required=False,
        default="",
        allow_blank=True,
        help_text="Who consented and how (required).",
    )
    pattern = serializers.ChoiceField(choices=PlacementPattern.choices)
    days_per_week = serializers.DecimalField(
        max_digits=2, decimal_places=1, min_value=Decimal("0.5"), max_value=Decimal(5)
    )
    planned_end_on = serializers.DateField(required=False, allow_null=True)
    mdt_meeting_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Required (with mdt_note) when the pupil's key stage is not one the provision takes.",
    )
    mdt_note = _text(help_text="What the multidisciplinary meeting agreed.")
    ehc_exception = _text(help_text="Required for a pupil with an EHC plan: why the placement is agreed.")


class PlacementStartWrite(serializers.Serializer):
    starts_on = serializers.DateField(help_text="The pupil's first day at the provision; not in the future.")


class PlacementProgressWrite(serializers.Serializer):
    attendance_percent = _attendance()
    suspensions = serializers.IntegerField(min_value=0, max_value=200, default=0)
    planned_end_on = serializers.DateField(
        required=False, allow_null=True, help_text="Left out or null: no planned end."
    )


class PlacementEndWrite(serializers.Serializer):
    ends_on = serializers.DateField(help_text="The last day at the provision; not in the future.")
    exit_outcome = serializers.ChoiceField(choices=ExitOutcome.choices)
    exit_note = _text()
    attendance_percent = _attendance()
    suspensions = serializers.IntegerField(
        min_value=0, max_value=200, required=False, allow_null=True, help_text="Left out: as recorded."
    )


class PlacementWithdrawWrite(serializers.Serializer):
    note = _text(help_text="Why the referral is withdrawn.")


class PlacementQuery(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=list(STATUS_FILTERS.items()),
        required=False,
        default="all",
        help_text="current: referred or placed; ended: ended, or withdrawn before it started.",
    )
    provision = _id(required=False, help_text="Only this provision's placements.")
    pupil = _id(required=False, help_text="Only this pupil's placements.")


# --- views ---------------------------------------------------------------------------------


def _placement_or_404(request: Request, pk: int) -> ProvisionPlacement:
    return get_in_scope_or_404(request._request, placement_list(require_scope()), pk)


def _raise(exc: DjangoValidationError):
    raise as_drf_error(exc) from None


class PlacementList(generics.GenericAPIView):
    """Placements you may read, current ones first. POST refers a pupil of your school to a
    behaviour provision of its partnership."""

    permission_classes = [PlacementAccess]
    serializer_class = ProvisionPlacementSerializer
    refers = True

    @extend_schema(parameters=[PlacementQuery], responses=ProvisionPlacementSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = PlacementQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        qs = placement_list(
            require_scope(), status=q["status"], provision_id=q.get("provision"), pupil_id=q.get("pupil")
        )
        page = self.paginate_queryset(qs)
        data = _out(page)
        filters = [*sorted(k for k in ("provision", "pupil") if q.get(k)), f"status={q['status']}"]
        audit_list(request._request, page, {"filters": filters})
        return self.get_paginated_response(data)

    @extend_schema(request=PlacementReferWrite, responses={201: ProvisionPlacementSerializer})
    def post(self, request: Request) -> Response:
        form = PlacementReferWrite(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        pupil = pupil_named_in_body(request._request, data.pop("pupil"))
        provision = get_named_in_body_or_400(
            request._request,
            provisions_taking(pupil),
            data.pop("provision"),
            field="provision",
            message="No behaviour provision with this id takes pupils from this school's partnership.",
        )
        try:
            placement = services.placement_refer(request._request, pupil, provision=provision, **data)
        except DjangoValidationError as exc:
            _raise(exc)
        return Response(_out([placement])[0], status=status.HTTP_201_CREATED)


class PlacementDetail(generics.GenericAPIView):
    permission_classes = [PlacementAccess]
    serializer_class = ProvisionPlacementSerializer

    @extend_schema(responses=ProvisionPlacementSerializer)
    def get(self, request: Request, pk: int) -> Response:
        placement = _placement_or_404(request, pk)
        data = _out([placement])[0]
        audit(
            request._request,
            Action.VIEW,
            placement,
            detail={
                "part": "placement",
                "pupil": placement.pupil_id,
                "named": data["pupil_name"] is not None,
            },
        )
        return Response(data)


class _PlacementChange(generics.GenericAPIView):
    """One change to a placement: its input serializer, then the service, then the placement."""

    permission_classes = [PlacementAccess]
    serializer_class = ProvisionPlacementSerializer
    write_serializer: type[serializers.Serializer]
    change_name: str

    def change(self, request: Request, placement: ProvisionPlacement, data: dict) -> None:
        raise NotImplementedError

    def _post(self, request: Request, pk: int) -> Response:
        placement = _placement_or_404(request, pk)
        form = self.write_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            self.change(request, placement, dict(form.validated_data))
        except PermissionDenied:
            audit(
                request._request,
                Action.DENIED,
                placement,
                detail={"reason": "role", "change": self.change_name},
            )
            raise
        except DjangoValidationError as exc:
            _raise(exc)
        placement = _placement_or_404(request, pk)
        hide = not names_after_change(require_scope(), placement)
        return Response(_out([placement], hide=hide)[0])


class PlacementStart(_PlacementChange):
    change_name = "start"
    write_serializer = PlacementStartWrite

    def change(self, request, placement, data) -> None:
        services.placement_start(request._request, placement, data["starts_on"])

    @extend_schema(request=PlacementStartWrite, responses=ProvisionPlacementSerializer)
    def post(self, request: Request, pk: int) -> Response:
        """The pupil's first day at the provision (a waiting referral only)."""
        return self._post(request, pk)


class PlacementProgress(_PlacementChange):
    change_name = "progress"
    write_serializer = PlacementProgressWrite

    def change(self, request, placement, data) -> None:
        services.placement_progress(
            request._request,
            placement,
            attendance_percent=data.get("attendance_percent"),
            suspensions=data["suspensions"],
            planned_end_on=data.get("planned_end_on"),
        )

    @extend_schema(request=PlacementProgressWrite, responses=ProvisionPlacementSerializer)
    def post(self, request: Request, pk: int) -> Response:
        """Attendance at the provision and suspensions so far, and the planned end."""
        return self._post(request, pk)


class PlacementEnd(_PlacementChange):
    change_name = "end"
    write_serializer = PlacementEndWrite

    def change(self, request, placement, data) -> None:
        services.placement_end(request._request, placement, **data)

    @extend_schema(request=PlacementEndWrite, responses=ProvisionPlacementSerializer)
    def post(self, request: Request, pk: int) -> Response:
        """The last day and where the pupil went; the provision's access to the pupil ends."""
        return self._post(request, pk)


class PlacementWithdraw(_PlacementChange):
    change_name = "withdraw"
    write_serializer = PlacementWithdrawWrite

    def change(self, request, placement, data) -> None:
        services.placement_withdraw(request._request, placement, data["note"])

    @extend_schema(request=PlacementWithdrawWrite, responses=ProvisionPlacementSerializer)
    def post(self, request: Request, pk: int) -> Response:
        """The home school takes back a referral that has not started."""
        return self._post(request, pk)
