"""Reports over the API: ask for one (202 with its address), follow it, download it.

The same selectors and services as the browser. A report is opened only through
`reports_for`, so another tenant's id in the address is a 404; the object a new request is
about is named in the body (`scope_type`, `scope_id`), so one out of reach is a 400 on
`scope_id` that says nothing of whether it exists (SECURITY.md 1–2). Downloads are audited.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pupils.serializers import as_drf_error
from reports.downloads import download_response
from reports.models import ReportKind, ReportRequest, ScopeType
from reports.selectors import READERS, reports_for
from reports.services import TooManyReports, request_report
from schools.access import get_in_scope_or_404
from schools.api_auth import HasActiveMembership
from schools.audit import Action, audit
from schools.tenancy import require_scope

BIG_ID = 2**63 - 1


class ReportReaders(HasActiveMembership):
    """The roles that read reports; others get 403 whatever the id (it reveals nothing)."""

    message = "Your role does not read reports."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if require_scope().role in READERS:
            return True
        audit(request._request, Action.DENIED, object_type="report-route", detail={"reason": "role"})
        return False


def _absolute(request: Request, name: str, pk: int) -> str:
    return request.build_absolute_uri(reverse(name, kwargs={"pk": pk}))


class ReportSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=ReportKind.choices, read_only=True)
    scope_type = serializers.ChoiceField(choices=ScopeType.choices, read_only=True)
    scope_id = serializers.IntegerField(read_only=True, allow_null=True)
    period = serializers.CharField(read_only=True, help_text="Empty for reports of the record as it stands.")
    version = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(choices=ReportRequest.Status.choices, read_only=True)
    scheduled = serializers.BooleanField(read_only=True)
    requested_at = serializers.DateTimeField(read_only=True)
    queued_at = serializers.DateTimeField(read_only=True, allow_null=True)
    started_at = serializers.DateTimeField(read_only=True, allow_null=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)
    build_seconds = serializers.DecimalField(max_digits=7, decimal_places=2, read_only=True, allow_null=True)
    pages = serializers.IntegerField(read_only=True, allow_null=True)
    attempts = serializers.IntegerField(read_only=True)
    error = serializers.CharField(read_only=True, help_text="Why it failed, in plain words; empty otherwise.")
    pdf = serializers.SerializerMethodField(help_text="Where to download the PDF, once it is done.")
    snapshot = serializers.SerializerMethodField(help_text="The JSON it was built from, once it is done.")

    def get_url(self, row: ReportRequest) -> str:
        return _absolute(self.context["request"], "api:report-detail", row.pk)

    def get_pdf(self, row: ReportRequest) -> str | None:
        return _absolute(self.context["request"], "api:report-pdf", row.pk) if row.status == "done" else None

    def get_snapshot(self, row: ReportRequest) -> str | None:
        done = row.status == "done"
        return _absolute(self.context["request"], "api:report-snapshot", row.pk) if done else None


class ReportAsk(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    scope_type = serializers.ChoiceField(choices=ScopeType.choices, help_text="What the kind is about.")
    scope_id = serializers.IntegerField(
        min_value=1, max_value=BIG_ID, help_text="The school, provision, partnership, LA or pupil."
    )
    period = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        default="",
        help_text="2025-26, 2025-26-autumn or 2025-26-q1 to suit the kind; empty: the latest complete one.",
    )


class ReportAsked(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField(help_text="Poll this for the report's status.")
    status = serializers.ChoiceField(choices=ReportRequest.Status.choices)


class ReportQuery(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices, required=False)
    status = serializers.ChoiceField(choices=ReportRequest.Status.choices, required=False)


class ReportList(generics.GenericAPIView):
    """Reports the caller may read, newest first. POST asks for one: it is built in the
    background, and the answer (202) gives the address to poll."""

    permission_classes = [ReportReaders]
    serializer_class = ReportSerializer

    @extend_schema(parameters=[ReportQuery], responses=ReportSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = ReportQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = reports_for(require_scope())
        for name in ("kind", "status"):
            if query.validated_data.get(name):
                rows = rows.filter(**{name: query.validated_data[name]})
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(
            ReportSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        request=ReportAsk, responses={202: ReportAsked, 400: OpenApiResponse(description="Bad input.")}
    )
    def post(self, request: Request) -> Response:
        form = ReportAsk(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            row = request_report(request._request, **form.validated_data)
        except TooManyReports as exc:
            raise Throttled(wait=exc.retry_after, detail=str(exc)) from None
        except DjangoValidationError as exc:
            raise as_drf_error(exc) from None
        url = _absolute(request, "api:report-detail", row.pk)
        body = ReportAsked({"id": row.pk, "url": url, "status": row.status}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": url})


def _report(request: Request, pk: int) -> ReportRequest:
    return get_in_scope_or_404(request._request, reports_for(require_scope()), pk)


class ReportDetail(APIView):
    """Where a report stands: status, timings, and the error if it failed."""

    permission_classes = [ReportReaders]

    @extend_schema(responses=ReportSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ReportSerializer(_report(request, pk), context={"request": request}).data)


class ReportPdf(APIView):
    """The finished report's PDF (404 until it is done). Audited."""

    permission_classes = [ReportReaders]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: OpenApiResponse()})
    def get(self, request: Request, pk: int):
        return download_response(request._request, _report(request, pk), "pdf")


class ReportSnapshot(APIView):
    """The JSON the finished report was built from (404 until it is done). Audited."""

    permission_classes = [ReportReaders]

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT, 404: OpenApiResponse()})
    def get(self, request: Request, pk: int):
        return download_response(request._request, _report(request, pk), "snapshot")
