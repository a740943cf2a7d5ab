"""API: who am I, tokens, and the organisation tree in scope."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from schools import tokens
from schools.audit import Action, audit
from schools.memberships import memberships_of
from schools.selectors import provisions_for, schools_for
from schools.serializers import (
    MeSerializer,
    ProvisionSerializer,
    SchoolSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from schools.signin import check_code, check_password, confirmed_device, two_factor_applies
from schools.tenancy import require_scope


class ApiRoot(APIView):
    """The API's entry points."""

    @extend_schema(responses={200: OpenApiResponse(description="Links to the API's collections.")})
    def get(self, request: Request) -> Response:
        names = {
            "me": "api:me",
            "schools": "api:school-list",
            "provisions": "api:provision-list",
            "behaviour-provisions": "api:behaviour-provision-list",
            "budgets": "api:budget-list",
            "pupils": "api:pupil-list",
            "transfers": "api:transfer-list",
            "reports": "api:report-list",
            "schema": "api:schema",
            "docs": "api:docs",
        }
        return Response({key: reverse(name, request=request) for key, name in names.items()})


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        context = {
            "memberships": request._request.memberships,
            "membership": request._request.membership,
            "two_factor_required": getattr(request._request, "two_factor_required", False),
        }
        return Response(MeSerializer(request.user, context=context).data)


class TokenView(APIView):
    """Exchange username, password and (where two-factor applies) a TOTP code for a token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(description="Missing or malformed fields."),
            401: OpenApiResponse(description="Sign-in failed."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        form = TokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        result = check_password(request._request, data["username"], data["password"])
        if result.user is None:
            return Response({"detail": result.error}, status=status.HTTP_401_UNAUTHORIZED)
        user = result.user
        verified = False
        if two_factor_applies(user, memberships_of(user)):
            device = confirmed_device(user)
            # Two-factor cannot be skipped here: no device, or no right code, no token.
            if device is None:
                return Response(
                    {"detail": "Set up two-factor sign-in in the browser before using the API."},
                    status=status.HTTP_401_UNAUTHORIZED,
                )
            # A missing code is not a wrong one: it does not use up the code attempts.
            if not data.get("otp") or not check_code(user, device, data["otp"]):
                return Response(
                    {"detail": "A valid two-factor code (otp) is required."},
                    status=status.HTTP_401_UNAUTHORIZED,
                )
            verified = True
        audit(request._request, Action.SIGN_IN, object_type="api-token", object_id=user.pk, user=user)
        return Response({"token": tokens.issue(user, two_factor_verified=verified)})


class TokenRevokeView(APIView):
    """End the token this request was made with."""

    @extend_schema(responses={204: None, 400: OpenApiResponse(description="Not signed in with a token.")})
    def delete(self, request: Request) -> Response:
        token = request._request.api_token
        if token is None:
            return Response({"detail": "This request was not made with a token."}, status=400)
        tokens.revoke(token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SchoolList(generics.ListAPIView):
    serializer_class = SchoolSerializer

    def get_queryset(self):
        return schools_for(require_scope())


class SchoolDetail(generics.RetrieveAPIView):
    serializer_class = SchoolSerializer

    def get_queryset(self):
        return schools_for(require_scope())

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            audit(
                self.request._request,
                Action.DENIED,
                object_type="schools.school",
                object_id=self.kwargs["pk"],
            )
            raise


class ProvisionList(generics.ListAPIView):
    serializer_class = ProvisionSerializer

    def get_queryset(self):
        return provisions_for(require_scope()).order_by("name")
