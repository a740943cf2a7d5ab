"""Cache keys include the tenant (SECURITY.md 11).

Redis is shared by every school. Tenant data cached for one membership must never be found
from another: not by another user, not by another school, not by the same person after
switching to their other school. Every key the app uses either carries the tenant prefix
from schools/cache.py or is one of the few that hold no tenant data.
"""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.test import override_settings

from schools.cache import TENANT_PREFIX, tenant_key
from schools.models import Role
from schools.scopes import scope_for_membership
from schools.tenancy import TenantScope, UnscopedQueryError, tenant_scope
from tests.conftest import sign_in
from tests.factories import MembershipFactory
from tests.test_import import counts, csv_bytes, good_rows
from tests.test_signin import PASSWORD, code_for

# Keys that hold no tenant data, and why.
NOT_TENANT_DATA = {
    "lock:": "sign-in throttling: HMACs of usernames, passwords and addresses (schools/lockout.py)",
    "otp-attempts:": "a count of wrong two-factor codes per user (schools/signin.py)",
    "healthz": "the health check's own probe (provisionmap/health.py)",
    "throttle_": "DRF's request counts per user (off in tests, on in production)",
}


def upload(client, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/pupils/import/", {"file": SimpleUploadedFile("pupils.csv", data, "text/csv")})


def switch(client, membership) -> None:
    assert client.post("/membership/switch/", {"membership": membership.pk}).status_code == 302


def test_a_preview_made_at_one_school_cannot_be_committed_at_the_other(client, tenant, as_school):
    """A SENCO at two schools previews a file at the first, switches to the second and
    commits: refused with a message, nothing saved at either; back at the first, it works."""
    senco = tenant.users["senco"]
    first = tenant.memberships["senco"]
    second = MembershipFactory(user=senco, role=Role.SENCO, school=tenant.sibling)
    sign_in(client, senco, first)
    previewed = upload(client, csv_bytes(good_rows(2)))
    assert previewed.status_code == 200
    token = previewed.context["token"]
    assert token

    switch(client, second)
    before = counts(as_school, tenant.school), counts(as_school, tenant.sibling)
    refused = client.post("/pupils/import/commit/", {"token": token})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "no longer waiting to be imported" in html and "Upload it again" in html
    assert (counts(as_school, tenant.school), counts(as_school, tenant.sibling)) == before

    switch(client, first)
    committed = client.post("/pupils/import/commit/", {"token": token})
    assert committed.status_code == 302
    assert counts(as_school, tenant.school)[0] == before[0][0] + 2
    assert counts(as_school, tenant.sibling) == before[1]


def test_two_roles_at_one_school_keep_separate_previews(client, tenant, as_school):
    """The same person as SENCO and as headteacher of one school: a file previewed in one
    role waits for that role only."""
    senco = tenant.users["senco"]
    head = MembershipFactory(user=senco, role=Role.HEADTEACHER, school=tenant.school)
    sign_in(client, senco, tenant.memberships["senco"])
    token = upload(client, csv_bytes(good_rows(1))).context["token"]
    switch(client, head)
    before = counts(as_school, tenant.school)
    assert client.post("/pupils/import/commit/", {"token": token}).status_code == 400
    assert counts(as_school, tenant.school) == before


def test_tenant_keys_name_the_membership_user_and_school(tenant):
    first = scope_for_membership(tenant.memberships["senco"])
    head = scope_for_membership(tenant.memberships["headteacher"])
    key = tenant_key(first, "pupil-import")
    senco = tenant.memberships["senco"]
    assert key.startswith(TENANT_PREFIX)
    assert f"m{senco.pk}:u{senco.user_id}:s{tenant.school.pk}:" in key and key.endswith(":pupil-import")
    assert tenant_key(first, "pupil-import") == key  # stable, so the commit finds the preview
    assert tenant_key(head, "pupil-import") != key
    assert tenant_key(first, "pupil-import", 7) == key + ":7"
    # An LA-wide scope with many schools still makes a short key.
    wide = TenantScope.system(schools=range(1, 400), local_authorities=[tenant.la.pk])
    wider = TenantScope.system(schools=range(1, 401), local_authorities=[tenant.la.pk])
    assert len(tenant_key(wide, "figures")) < 120
    assert tenant_key(wide, "figures") != tenant_key(wider, "figures")
    with pytest.raises(ValueError):
        tenant_key(first, "two:parts")


def test_a_tenant_key_needs_a_scope(tenant):
    with pytest.raises(UnscopedQueryError):
        tenant_key(None, "pupil-import")
    scope = scope_for_membership(tenant.memberships["senco"])
    with transaction.atomic(), tenant_scope(scope):
        assert tenant_key(None, "pupil-import") == tenant_key(scope, "pupil-import")


@pytest.fixture
def keys_used(monkeypatch):
    """Every key the app hands the cache (reads, writes, deletes), as it named it. The real
    Redis cache still does the work; this only listens."""
    backend = caches["default"]
    seen: list[str] = []
    make_key = backend.make_key

    def listening(key, version=None):
        seen.append(str(key))
        return make_key(key, version)

    monkeypatch.setattr(backend, "make_key", listening)
    return seen


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)  # the right code straight after a wrong one
def test_every_cache_key_is_tenant_prefixed_or_holds_no_tenant_data(client, tenant, other, keys_used):
    senco, officer = tenant.users["senco"], tenant.users["la_officer"]
    # Signing in: a failure and a success through the page, and a two-factor code.
    client.post("/accounts/login/", {"username": senco.username, "password": "not the password"})
    client.post("/accounts/login/", {"username": senco.username, "password": PASSWORD})
    for path in ("/", "/pupils/", f"/pupils/{tenant.pupils[0].pk}/", "/pupils/import/", "/api/v1/pupils/"):
        assert client.get(path).status_code == 200, path
    token = upload(client, csv_bytes(good_rows(1))).context["token"]
    waiting = [k for k in keys_used if k.startswith(TENANT_PREFIX)]
    assert waiting and all(f"s{tenant.school.pk}:" in k for k in waiting)
    assert client.post("/pupils/import/commit/", {"token": token}).status_code == 302
    client.logout()
    client.post("/accounts/login/", {"username": officer.username, "password": PASSWORD})
    right = code_for(officer.totpdevice_set.get())
    client.post("/accounts/two-factor/", {"code": f"{(int(right) + 1) % 1000000:06d}"})
    client.post("/accounts/two-factor/", {"code": right})
    assert client.get("/schools/").status_code == 200
    assert client.get("/healthz").status_code in (200, 503)
    # Another LA's SENCO uploads too: their key names their own school.
    sign_in(client, other.users["senco"], other.memberships["senco"])
    upload(client, csv_bytes(good_rows(1)))

    used = set(keys_used)
    assert any(k.startswith(TENANT_PREFIX) for k in used)
    strays = {k for k in used if not k.startswith(TENANT_PREFIX) and not k.startswith(tuple(NOT_TENANT_DATA))}
    assert strays == set(), "cache keys that neither name a tenant nor are known to hold no tenant data"
    # What is in Redis now agrees: the other LA's waiting file sits under their school.
    stored = {
        k.decode().split(":", 2)[2]
        for k in redis.Redis.from_url(settings.REDIS_URL).scan_iter(
            f"{settings.CACHES['default']['KEY_PREFIX']}:*"
        )
    }
    assert stored, "the sample wrote nothing to Redis"
    assert {
        k for k in stored if not k.startswith(TENANT_PREFIX) and not k.startswith(tuple(NOT_TENANT_DATA))
    } == set()
    tenant_stored = [k for k in stored if k.startswith(TENANT_PREFIX)]
    assert len(tenant_stored) == 1 and f"s{other.school.pk}:" in tenant_stored[0]
