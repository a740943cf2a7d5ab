"""Throttling of password guesses, kept in Redis.

- per account: at most LOGIN_MAX_FAILURES attempts in LOGIN_FAILURE_WINDOW, counted before
  the password is checked (so parallel guesses cannot slip past the limit); a success
  clears the count; going over locks the account for LOGIN_LOCKOUT_SECONDS, whether or not
  it exists, so the answer never reveals which accounts do;
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


def incr(key: str, timeout: int) -> int:
    """Atomically count one more event under `key`, which expires `timeout` after the first."""
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout)
        return 1


def begin_attempt(*, username: str, password: str, ip: str) -> bool:
    """Count this attempt; False when it may not go on to the password check."""
    name = username.lower()
    locks = [_h("user-locked", name), _h("ip-locked", ip), _h("pw-locked", password)]
    if any(cache.get_many(locks).values()):
        return False
    if incr(_h("user-attempts", name), settings.LOGIN_FAILURE_WINDOW) > settings.LOGIN_MAX_FAILURES:
        cache.set(_h("user-locked", name), 1, settings.LOGIN_LOCKOUT_SECONDS)
        return False
    return True


def record_failure(*, username: str, password: str, ip: str) -> None:
    window, lock = settings.LOGIN_FAILURE_WINDOW, settings.LOGIN_LOCKOUT_SECONDS
    if incr(_h("ip-fails", ip), window) >= settings.LOGIN_MAX_FAILURES_PER_IP:
        cache.set(_h("ip-locked", ip), 1, lock)
    # The set of accounts this one password failed against, as HMACs.
    spray_key = _h("pw-accounts", password)
    accounts = set(cache.get(spray_key) or ())
    accounts.add(_h("acct", username.lower()))
    cache.set(spray_key, sorted(accounts), window)
    if len(accounts) >= settings.LOGIN_SPRAY_ACCOUNTS:
        cache.set(_h("pw-locked", password), 1, lock)


def record_success(*, username: str) -> None:
    cache.delete(_h("user-attempts", username.lower()))


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
