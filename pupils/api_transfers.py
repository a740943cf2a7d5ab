"""Transfers in the API: list them (both directions, or one), transfer a pupil, read one.

The same roles, scope and service as the browser: a SENCO or headteacher of a school; the
pupil named in the body must be on that school's register (otherwise 400, the same answer
for another school's pupil as for no pupil at all). Every read is audited in the caller's
own school, with ids only.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pupils.forms_transfers import NOTE_LIMIT
from pupils.models import Transfer
from pupils.selectors import pupil_named_in_body
from pupils.serializers import as_drf_error
from pupils.transfers import transfer_pupil, transfers_in_scope, transfers_received, transfers_sent
from schools.access import get_in_scope_or_404
from schools.api_auth import PupilLevel
from schools.audit import Action, audit
from schools.models import RECORD_KEEPERS, School
from schools.tenancy import require_scope


class TransferAccess(PupilLevel):
    """Transfers are the record keepers' business, reading them as much as making them."""

    message = "Only a SENCO or headteacher can see or make transfers."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if require_scope().role in RECORD_KEEPERS:
            return True
        audit(request._request, Action.DENIED, object_type="pupils.transfer", detail={"reason": "role"})
        return False


class TransferSerializer(serializers.ModelSerializer):
    from_school = serializers.IntegerField(source="school_id", read_only=True)
    from_school_name = serializers.CharField(source="school.name", read_only=True)
    to_school_name = serializers.CharField(source="to_school.name", read_only=True)
    direction = serializers.SerializerMethodField(
        help_text="out: your school sent the pupil; in: it received them."
    )

    class Meta:
        model = Transfer
        fields = [
            "id",
            "pupil",
            "from_school",
            "from_school_name",
            "to_school",
            "to_school_name",
            "direction",
            "reason",
            "transferred_on",
            "note",
            "transferred_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_direction(self, transfer: Transfer) -> str:
        own = require_scope().write_school
        if transfer.school_id in own:
            return "out"
        return "in" if transfer.to_school_id in own else "earlier"


class TransferQuery(serializers.Serializer):
    direction = serializers.ChoiceField(
        choices=[("in", "Received by your school"), ("out", "Sent by your school")],
        required=False,
        help_text="Only one direction; both when left out.",
    )


class TransferWriteSerializer(serializers.Serializer):
    pupil = serializers.IntegerField(
        min_value=1, help_text="The pupil to transfer: one on your school's register."
    )
    to_school = serializers.CharField(
        max_length=20, help_text="The receiving school, of your local authority: its id or its six-digit URN."
    )
    reason = serializers.ChoiceField(choices=Transfer.Reason.choices)
    transferred_on = serializers.DateField(
        required=False, help_text="The day of the move: today (the default) or earlier."
    )
    note = serializers.CharField(
        max_length=NOTE_LIMIT,
        required=False,
        default="",
        allow_blank=True,
        help_text="What the receiving school should know first.",
    )


def _receiving_school(value: str) -> School:
    """A school named by URN, or else by id. Schools are not tenant data (their names and
    URNs are public); whether this one may receive the pupil is the service's to say."""
    value = value.strip()
    match = Q(urn=value)
    if value.isdigit() and len(value) <= 12:
        match |= Q(pk=int(value))
    found = sorted(School.objects.filter(match), key=lambda s: s.urn != value)  # a URN wins
    if not found:
        raise serializers.ValidationError({"to_school": ["No school has this id or URN."]})
    return found[0]


def _audit_read(request: Request, transfers: list[Transfer], **detail) -> None:
    audit(
        request._request,
        Action.LIST,
        object_type="pupils.transfer",
        school_id=request._request.membership.school_id,
        detail={"shown": len(transfers), "pupils": sorted({t.pupil_id for t in transfers}), **detail},
    )


class TransferListCreate(generics.GenericAPIView):
    """Transfers into and out of your school, newest first; POST transfers a pupil."""

    permission_classes = [TransferAccess]
    serializer_class = TransferSerializer

    @extend_schema(parameters=[TransferQuery], responses=TransferSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = TransferQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        direction = query.validated_data.get("direction", "")
        scope = require_scope()
        if direction == "in":
            qs = transfers_received(scope)
        elif direction == "out":
            qs = transfers_sent(scope)
        else:
            qs = transfers_sent(scope) | transfers_received(scope)
        page = self.paginate_queryset(qs)
        _audit_read(request, page, direction=direction or "both")
        return self.get_paginated_response(TransferSerializer(page, many=True).data)

    @extend_schema(request=TransferWriteSerializer, responses={201: TransferSerializer})
    def post(self, request: Request) -> Response:
        form = TransferWriteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        pupil = pupil_named_in_body(request._request, data["pupil"])
        to_school = _receiving_school(data["to_school"])
        try:
            record = transfer_pupil(
                request._request,
                pupil,
                to_school=to_school,
                reason=data["reason"],
                transferred_on=data.get("transferred_on") or timezone.localdate(),
                note=data["note"],
            )
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from None
        return Response(TransferSerializer(record).data, status=status.HTTP_201_CREATED)


class TransferDetail(APIView):
    permission_classes = [TransferAccess]

    @extend_schema(responses=TransferSerializer)
    def get(self, request: Request, pk: int) -> Response:
        transfer = get_in_scope_or_404(request._request, transfers_in_scope(), pk)
        audit(
            request._request,
            Action.VIEW,
            object_type="pupils.pupil",
            object_id=transfer.pupil_id,
            school_id=request._request.membership.school_id,
            detail={"part": "transfer", "transfer": transfer.pk},
        )
        return Response(TransferSerializer(transfer).data)
