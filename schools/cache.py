"""Cache keys for tenant data: each one names the tenant it belongs to (SECURITY.md 11).

Redis is shared by every tenant, and a key is the only thing between one school's cached
data and another's request. So any key that holds tenant data is built here, from the
active scope: the membership, the user and the tenant ids it works in. A user with two
memberships gets two keys; a membership whose school changes gets a new key; nothing one
tenant cached is found under another tenant's scope, whatever the rest of the key says.

Keys that hold no tenant data (sign-in counters, the health check) stay as they are; the
cache-key test in tests/test_cache_keys.py lists them, and fails on any other key that
does not start with TENANT_PREFIX.
"""

from __future__ import annotations

import hashlib

from schools.tenancy import TENANT_KEYS, TenantScope, require_scope

TENANT_PREFIX = "tenant:"
# Past this length the tenant ids are hashed, so an LA-wide scope still makes a short key.
LONGEST_TENANT_PART = 120


def _ids(ids: frozenset[int]) -> str:
    return ".".join(str(i) for i in sorted(ids)) or "-"


def tenant_part(scope: TenantScope) -> str:
    """The tenant a scope stands for: membership, user, and the schools, partnerships, LAs
    and behaviour provisions it writes to (or, where it writes none, reads)."""
    tenants = []
    for key in (*TENANT_KEYS, "provision"):
        ids = scope.ids(key, write=True) or scope.ids(key)
        tenants.append(f"{key[0]}{_ids(ids)}")
    where = ":".join(tenants)
    if len(where) > LONGEST_TENANT_PART:
        where = "h" + hashlib.sha256(where.encode()).hexdigest()[:24]
    return f"m{scope.membership_id or '-'}:u{scope.user_id or '-'}:{where}"


def tenant_key(scope: TenantScope | None, kind: str, *parts: object) -> str:
    """The cache key for `kind` (and any further `parts`) of the scope's tenant data.

    `scope` is the request's or task's scope; None means the one active now, and with none
    active this raises rather than make a key that belongs to nobody.
    """
    if scope is None:
        scope = require_scope()
    if not kind or ":" in kind:
        raise ValueError("A cache key kind is a short name without colons.")
    tail = ":".join(str(p) for p in parts)
    return f"{TENANT_PREFIX}{tenant_part(scope)}:{kind}" + (f":{tail}" if tail else "")
