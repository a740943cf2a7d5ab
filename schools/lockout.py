"""Throttling of password and code guesses, kept in Redis.

- per account: LOGIN_MAX_FAILURES wrong passwords in LOGIN_FAILURE_WINDOW lock it for
  LOGIN_LOCKOUT_SECONDS, whether or not the account exists (so the answer never reveals it);
- per password: the same wrong password tried against LOGIN_SPRAY_ACCOUNTS different
  accounts blocks that password everywhere (password spraying);
- per client address: LOGIN_MAX_FAILURES_PER_IP failures in the window block the address.
Only HMACs of usernames and passwords are stored.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.core.cache import cache


def _h(kind: str, value: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"lock:{kind}:{digest[:32]}"


def _incr(key: str, timeout: int) -> int:
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout)
        return 1


def is_blocked(*, username: str, password: str | None, ip: str) -> bool:
    keys = [_h("user-locked", username.lower()), _h("ip-locked", ip)]
    if password:
        keys.append(_h("pw-locked", password))
    return any(cache.get_many(keys).values())


def record_failure(*, username: str, password: str | None, ip: str) -> None:
    window, lock = settings.LOGIN_FAILURE_WINDOW, settings.LOGIN_LOCKOUT_SECONDS
    name = username.lower()
    if _incr(_h("user-fails", name), window) >= settings.LOGIN_MAX_FAILURES:
        cache.set(_h("user-locked", name), 1, lock)
    if _incr(_h("ip-fails", ip), window) >= settings.LOGIN_MAX_FAILURES_PER_IP:
        cache.set(_h("ip-locked", ip), 1, lock)
    if password:
        # The set of accounts this one password failed against, as HMACs.
        spray_key = _h("pw-accounts", password)
        accounts = set(cache.get(spray_key) or ())
        accounts.add(_h("acct", name))
        cache.set(spray_key, sorted(accounts), window)
        if len(accounts) >= settings.LOGIN_SPRAY_ACCOUNTS:
            cache.set(_h("pw-locked", password), 1, lock)


def record_success(*, username: str) -> None:
    cache.delete(_h("user-fails", username.lower()))


def client_ip(request) -> str:
    """The client's address: the socket's, or behind NUM_PROXIES proxies the one they saw."""
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            # Each trusted proxy appends one address; anything further left is the client's to forge.
            return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "") or "unknown"
