"""Sign-in services shared by the browser and the API: password, then the second factor."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from schools import lockout
from schools.memberships import requires_two_factor
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
    if not lockout.begin_attempt(username=username, password=password, ip=ip):
        return PasswordResult(None, GENERIC_FAILURE)
    user = authenticate(request, username=username, password=password)
    if user is None:
        lockout.record_failure(username=username, password=password, ip=ip)
        return PasswordResult(None, GENERIC_FAILURE)
    lockout.record_success(username=username)
    return PasswordResult(user)


def start_session_clocks(sender, request: HttpRequest, user: User, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session["signed_in_at"] = now
        request.session["last_seen"] = now


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def check_code(user: User, device: TOTPDevice, code: str) -> bool:
    """A TOTP code, with at most OTP_MAX_FAILURES tries per lockout period (counted first)."""
    key = f"otp-attempts:{user.pk}"
    if lockout.incr(key, settings.LOGIN_LOCKOUT_SECONDS) > settings.OTP_MAX_FAILURES:
        return False
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) == 6 and device.verify_token(code):
        cache.delete(key)
        return True
    return False


def two_factor_applies(user: User, memberships: list) -> bool:
    """Required by role or LA, or chosen by the user by enrolling a device."""
    return requires_two_factor(user, memberships) or confirmed_device(user) is not None
