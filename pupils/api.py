from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pupils.selectors import pupil_list
from pupils.serializers import PupilSearchRequestSerializer, PupilSearchResultSerializer, PupilSerializer
from schools.access import get_in_scope_or_404
from schools.api_auth import PupilLevel
from schools.audit import Action, audit
from schools.tenancy import require_scope

PAGE_SIZE = settings.REST_FRAMEWORK["PAGE_SIZE"]


class PupilList(generics.ListAPIView):
    """Pupils on roll in scope. Searching by name or UPN is POST /api/v1/pupils/search/."""

    serializer_class = PupilSerializer
    permission_classes = [PupilLevel]

    def get_queryset(self):
        return pupil_list(require_scope())

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        audit(
            request._request,
            Action.LIST,
            object_type="pupils.pupil",
            detail={"shown": len(response.data.get("results", []))},
        )
        return response


class PupilDetail(generics.RetrieveAPIView):
    serializer_class = PupilSerializer
    permission_classes = [PupilLevel]

    @extend_schema(parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return pupil_list(require_scope(), include_leavers=True)

    def get_object(self):
        pupil = get_in_scope_or_404(self.request._request, self.get_queryset(), self.kwargs["pk"])
        audit(self.request._request, Action.VIEW, pupil)
        return pupil


class PupilSearch(APIView):
    """Search by name or UPN. A POST, so a child's name never travels in a URL or an access log."""

    permission_classes = [PupilLevel]

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
