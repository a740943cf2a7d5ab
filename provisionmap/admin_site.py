from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django_otp.admin import OTPAdminSite


class PlatformAdminSite(OTPAdminSite):
    """/admin is for platform staff who have passed two-factor; it holds no pupil data."""

    site_header = "Provision Map platform administration"
    site_title = "Provision Map admin"

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        # One way in for everyone: our sign-in page, with its lockout, two-factor and audit.
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"))

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and user.is_verified())
