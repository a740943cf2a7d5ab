"""The pupils API: the same scope, checks and services as the browser."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pupils import services
from pupils.codes import Need, SenStatus
from pupils.models import NC_YEAR_MAX, NC_YEAR_MIN, Pupil
from pupils.selectors import RegisterFilters, pupil_history, pupil_list, pupil_register
from pupils.serializers import (
    OutcomeSerializer,
    PupilSearchRequestSerializer,
    PupilSearchResultSerializer,
    PupilSerializer,
    PupilWriteSerializer,
    ScoreSerializer,
    SenHistorySerializer,
    as_drf_error,
)
from schools.access import get_in_scope_or_404
from schools.api_auth import PupilLevel
from schools.audit import Action, audit
from schools.models import RECORD_KEEPERS
from schools.tenancy import require_scope

PAGE_SIZE = settings.REST_FRAMEWORK["PAGE_SIZE"]


class PupilAccess(PupilLevel):
    """Reading needs pupil-level access; changing a record needs a SENCO or headteacher."""

    message = "Only a SENCO or headteacher can change pupil records."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.method in SAFE_METHODS or require_scope().role in RECORD_KEEPERS:
            return True
        audit(
            request._request,
            Action.DENIED,
            object_type="pupils.pupil",
            detail={"reason": "role", "write": True},
        )
        return False


class RegisterQuery(serializers.Serializer):
    school = serializers.IntegerField(required=False, min_value=1)
    sen_status = serializers.ChoiceField(choices=SenStatus.choices, required=False)
    primary_need = serializers.ChoiceField(choices=Need.choices, required=False)
    year = serializers.IntegerField(required=False, min_value=NC_YEAR_MIN, max_value=NC_YEAR_MAX)
    search = serializers.CharField(required=False, max_length=100)
    step = serializers.IntegerField(
        required=False, min_value=1, max_value=20, help_text="The number of the pupil's current step."
    )
    include_leavers = serializers.BooleanField(required=False, default=False)


def _pupil(request: Request, pk: int) -> Pupil:
    qs = pupil_register(require_scope(), RegisterFilters(include_leavers=True))
    return get_in_scope_or_404(request._request, qs, pk)


def _raise_as_drf(exc: DjangoValidationError):
    raise as_drf_error(exc) from None


class PupilListCreate(generics.GenericAPIView):
    """List the register (filtered) or add a pupil to your school."""

    permission_classes = [PupilAccess]
    serializer_class = PupilSerializer

    @extend_schema(parameters=[RegisterQuery], responses=PupilSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = RegisterQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        qs = pupil_register(
            require_scope(),
            RegisterFilters(
                search=q.get("search", ""),
                year=q.get("year"),
                sen_status=q.get("sen_status", ""),
                need=q.get("primary_need", ""),
                step=q.get("step"),
                include_leavers=q["include_leavers"],
            ),
        )
        if q.get("primary_need"):
            qs = qs.filter(primary_need=q["primary_need"])  # the API's filter is the primary need alone
        if q.get("school"):
            qs = qs.filter(school_id=q["school"])  # narrows the scope; never widens it
        page = self.paginate_queryset(qs)
        audit(
            request._request,
            Action.SEARCH if q.get("search") else Action.LIST,
            object_type="pupils.pupil",
            detail={"shown": len(page)},
        )
        return self.get_paginated_response(PupilSerializer(page, many=True).data)

    @extend_schema(request=PupilWriteSerializer, responses={201: PupilSerializer})
    def post(self, request: Request) -> Response:
        form = PupilWriteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        sen_start = data.pop("sen_change_date", None)
        school = request._request.membership.school
        if pupil_list(require_scope(), include_leavers=True).filter(upn=data["upn"]).exists():
            raise serializers.ValidationError(
                {"upn": ["A pupil with this UPN is already on your school's record."]}
            )
        try:
            pupil = services.pupil_create(
                request=request._request, school=school, data=data, source="api", sen_start=sen_start
            )
        except DjangoValidationError as exc:
            _raise_as_drf(exc)
        return Response(PupilSerializer(pupil).data, status=status.HTTP_201_CREATED)


class PupilDetail(APIView):
    permission_classes = [PupilAccess]

    @extend_schema(responses=PupilSerializer)
    def get(self, request: Request, pk: int) -> Response:
        pupil = _pupil(request, pk)
        audit(request._request, Action.VIEW, pupil)
        return Response(PupilSerializer(pupil).data)

    def _update(self, request: Request, pk: int, *, partial: bool) -> Response:
        pupil = _pupil(request, pk)
        form = PupilWriteSerializer(pupil, data=request.data, partial=partial)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        when = data.pop("sen_change_date", None)
        if "upn" in data and data["upn"] != pupil.upn:
            others = pupil_list(require_scope(), include_leavers=True).exclude(pk=pupil.pk)
            if others.filter(upn=data["upn"]).exists():
                raise serializers.ValidationError({"upn": ["Another pupil in your school has this UPN."]})
        try:
            changed = services.pupil_update(
                request=request._request, pupil=pupil, data=data, sen_change_date=when, source="api"
            )
        except DjangoValidationError as exc:
            _raise_as_drf(exc)
        if not changed:
            audit(request._request, Action.VIEW, pupil)  # nothing changed, but the record was read
        return Response(PupilSerializer(pupil).data)

    @extend_schema(request=PupilWriteSerializer, responses=PupilSerializer)
    def put(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=False)

    @extend_schema(request=PupilWriteSerializer, responses=PupilSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=True)


class PupilSenHistory(APIView):
    """The pupil's SEN register entries, newest first."""

    permission_classes = [PupilAccess]

    @extend_schema(responses=SenHistorySerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        pupil = _pupil(request, pk)
        audit(request._request, Action.VIEW, pupil, detail={"part": "sen_history"})
        return Response(SenHistorySerializer(pupil_history(pupil), many=True).data)


class PupilOutcomes(APIView):
    """Termly outcomes: list them, or record (or correct) one term."""

    permission_classes = [PupilAccess]

    @extend_schema(responses=OutcomeSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        pupil = _pupil(request, pk)
        audit(request._request, Action.VIEW, pupil, detail={"part": "outcomes"})
        return Response(OutcomeSerializer(pupil.outcomes.order_by("-academic_year", "-id"), many=True).data)

    @extend_schema(request=OutcomeSerializer, responses={201: OutcomeSerializer})
    def post(self, request: Request, pk: int) -> Response:
        pupil = _pupil(request, pk)
        form = OutcomeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            record = services.outcome_record(
                request=request._request, pupil=pupil, data=dict(form.validated_data)
            )
        except DjangoValidationError as exc:
            _raise_as_drf(exc)
        return Response(OutcomeSerializer(record).data, status=status.HTTP_201_CREATED)


class PupilScores(APIView):
    """Assessment scores (SDQ, Boxall, reading age …): list them, or add one."""

    permission_classes = [PupilAccess]

    @extend_schema(responses=ScoreSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        pupil = _pupil(request, pk)
        audit(request._request, Action.VIEW, pupil, detail={"part": "scores"})
        return Response(ScoreSerializer(pupil.scores.order_by("-assessed_on", "-id"), many=True).data)

    @extend_schema(request=ScoreSerializer, responses={201: ScoreSerializer})
    def post(self, request: Request, pk: int) -> Response:
        pupil = _pupil(request, pk)
        form = ScoreSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            score = services.score_record(
                request=request._request, pupil=pupil, data=dict(form.validated_data)
            )
        except DjangoValidationError as exc:
            _raise_as_drf(exc)
        return Response(ScoreSerializer(score).data, status=status.HTTP_201_CREATED)


class PupilSearch(APIView):
    """Search by name or UPN with the text in the body, out of URLs and access logs."""

    permission_classes = [PupilAccess]

    @extend_schema(request=PupilSearchRequestSerializer, responses=PupilSearchResultSerializer)
    def post(self, request: Request) -> Response:
        form = PupilSearchRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        paginator = Paginator(pupil_list(require_scope(), search=form.validated_data["q"]), PAGE_SIZE)
        page = paginator.get_page(form.validated_data["page"])
        audit(
            request._request,
            Action.SEARCH,
            object_type="pupils.pupil",
            detail={"page": page.number, "shown": len(page.object_list)},
        )
        return Response(
            {
                "count": paginator.count,
                "page": page.number,
                "pages": paginator.num_pages,
                "results": PupilSerializer(page.object_list, many=True).data,
            }
        )
