from django.http import HttpRequest
from django_otp.admin import OTPAdminSite


class PlatformAdminSite(OTPAdminSite):
    """/admin is for platform staff who have passed two-factor; it holds no pupil data."""

    site_header = "Provision Map platform administration"
    site_title = "Provision Map admin"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and user.is_verified())
