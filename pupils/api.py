from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError

from pupils.forms import PupilSearchForm
from pupils.selectors import pupil_list
from pupils.serializers import PupilSerializer
from schools.access import get_in_scope_or_404
from schools.api_auth import PupilLevel
from schools.audit import Action, audit
from schools.tenancy import require_scope


class PupilList(generics.ListAPIView):
    serializer_class = PupilSerializer
    permission_classes = [PupilLevel]

    @extend_schema(parameters=[OpenApiParameter("q", str, description="Name or UPN")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        form = PupilSearchForm(self.request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors)
        return pupil_list(require_scope(), search=form.cleaned_data["q"])

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
