"""API tokens: random, stored only as SHA-256, expiring, marked with two-factor status."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from schools.models import ApiToken, User


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue(user: User, *, two_factor_verified: bool) -> str:
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        key_hash=_digest(key),
        expires_at=timezone.now() + timedelta(seconds=settings.API_TOKEN_SECONDS),
        two_factor_verified=two_factor_verified,
        password_fingerprint=user.get_session_auth_hash(),
    )
    return key


def authenticate(key: str) -> ApiToken | None:
    if not key or len(key) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=_digest(key)).first()
    if token is None or token.expires_at <= timezone.now() or not token.user.is_active:
        return None
    if not constant_time_compare(token.password_fingerprint, token.user.get_session_auth_hash()):
        return None  # the password changed since the token was issued
    return token


def revoke(token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk).delete()
