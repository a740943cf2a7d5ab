"""Sign-in services shared by the browser and the API: password, then the second factor."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from schools import lockout
from schools.models import User

GENERIC_FAILURE = (
    "Sign-in failed: check your username and password. After several failures, sign-in is paused for a while."
)


@dataclass
class PasswordResult:
    user: User | None
    error: str = ""


def check_password(request: HttpRequest, username: str, password: str) -> PasswordResult:
    """Password check with lockout. The error never says whether the account exists."""
    ip = lockout.client_ip(request)
    if lockout.is_blocked(username=username, password=password, ip=ip):
        return PasswordResult(None, GENERIC_FAILURE)
    user = authenticate(request, username=username, password=password)
    if user is None:
        lockout.record_failure(username=username, password=password, ip=ip)
        return PasswordResult(None, GENERIC_FAILURE)
    lockout.record_success(username=username)
    return PasswordResult(user)


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def check_code(user: User, device: TOTPDevice, code: str) -> bool:
    """A TOTP code, with at most OTP_MAX_FAILURES wrong codes per lockout period."""
    key = f"otp-fails:{user.pk}"
    if (cache.get(key) or 0) >= settings.OTP_MAX_FAILURES:
        return False
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) == 6 and device.verify_token(code):
        cache.delete(key)
        return True
    cache.add(key, 0, settings.LOGIN_LOCKOUT_SECONDS)
    cache.incr(key)
    return False
