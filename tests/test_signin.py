"""Sign-in: lockout, two-factor, password reset, tokens and sessions (SECURITY.md 16–19)."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from schools.models import ApiToken, Membership
from tests.conftest import sign_in
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


def code_for(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def post_login(client, username, password=PASSWORD, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password, **extra})


def test_sign_in_page_renders(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'<label for="id_username">' in response.content


def test_wrong_password_and_unknown_user_get_the_same_answer(client, tenant):
    wrong = post_login(client, tenant.users["senco"].username, "not the password")
    unknown = post_login(client, "nobody-by-this-name", "not the password")
    assert wrong.status_code == unknown.status_code == 400

    def strip(response) -> str:  # the CSRF tokens differ on every page by design
        return re.sub(r'(csrfmiddlewaretoken" value=|"X-CSRFToken": )"[^"]+"', "", response.content.decode())

    assert strip(wrong).replace(tenant.users["senco"].username, "X") == strip(unknown).replace(
        "nobody-by-this-name", "X"
    )


def test_senco_signs_in_without_two_factor_and_gets_a_new_session_id(client, tenant):
    client.get("/accounts/login/")
    before = client.cookies.get("sessionid")
    response = post_login(client, tenant.users["senco"].username)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.cookies["sessionid"].value != (before.value if before else None)
    assert client.get("/").status_code == 200


@override_settings(LOGIN_MAX_FAILURES=5)
def test_account_locks_after_repeated_failures_even_with_the_right_password(client, tenant):
    username = tenant.users["senco"].username
    for _ in range(5):
        assert post_login(client, username, "wrong guess").status_code == 400
    response = post_login(client, username)
    assert response.status_code == 400
    assert b"paused" in response.content


@override_settings(LOGIN_MAX_FAILURES=5)
def test_unknown_accounts_lock_the_same_way(client, db):
    for _ in range(5):
        post_login(client, "ghost", "wrong guess")
    assert b"paused" in post_login(client, "ghost", "wrong guess").content


@override_settings(LOGIN_SPRAY_ACCOUNTS=5, LOGIN_MAX_FAILURES_PER_IP=1000)
def test_one_password_sprayed_across_accounts_is_blocked(client, tenant):
    victim = UserFactory(username="victim")
    victim.set_password("Summer2026!Summer")
    victim.save()
    for n in range(5):
        post_login(client, f"someone{n}", "Summer2026!Summer")
    # The sprayed password is now refused even for the account it belongs to.
    assert post_login(client, "victim", "Summer2026!Summer").status_code == 400
    # Another password for that account still works.
    assert post_login(client, tenant.users["senco"].username).status_code == 302


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)  # django-otp's own back-off would delay the right code
def test_multi_school_role_must_pass_two_factor(client, tenant):
    user = tenant.users["la_officer"]
    response = post_login(client, user.username)
    assert response["Location"] == "/accounts/two-factor/"
    # Nothing else opens until the code is given, in the browser or the API.
    assert client.get("/schools/")["Location"] == "/accounts/two-factor/"
    assert client.get("/api/v1/me/").status_code == 403
    device = user.totpdevice_set.get()
    bad = client.post(
        "/accounts/two-factor/", {"code": "000000" if code_for(device) != "000000" else "111111"}
    )
    assert bad.status_code == 400
    good = client.post("/accounts/two-factor/", {"code": code_for(device)})
    assert good.status_code == 302
    assert client.get("/schools/").status_code == 200


def test_la_can_require_two_factor_for_every_role(client, tenant):
    tenant.la.require_two_factor_for_all = True
    tenant.la.save()
    response = post_login(client, tenant.users["senco"].username)
    assert response["Location"] == "/accounts/two-factor/"
    assert client.get("/accounts/two-factor/")["Location"] == "/accounts/two-factor/setup/"


def test_first_enrolment_then_challenge(client, tenant):
    user = UserFactory()
    Membership.objects.create(user=user, role="la_officer", local_authority=tenant.la)
    post_login(client, user.username)
    page = client.get("/accounts/two-factor/setup/")
    assert page.status_code == 200
    assert b"data:image/svg+xml" in page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post("/accounts/two-factor/setup/", {"code": code_for(device)}).status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/schools/").status_code == 200


def test_enrolment_page_is_closed_once_a_device_is_confirmed(client, tenant):
    """Otherwise a stolen password could enrol the thief's phone."""
    post_login(client, tenant.users["la_officer"].username)
    assert client.get("/accounts/two-factor/setup/")["Location"] == "/accounts/two-factor/"
    assert TOTPDevice.objects.filter(user=tenant.users["la_officer"]).count() == 1


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)  # shows our limit, not django-otp's back-off
def test_wrong_codes_are_limited(client, tenant):
    user = tenant.users["la_officer"]
    post_login(client, user.username)
    device = user.totpdevice_set.get()
    right = code_for(device)
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    for _ in range(5):
        client.post("/accounts/two-factor/", {"code": wrong})
    assert client.post("/accounts/two-factor/", {"code": right}).status_code == 400


def test_password_reset_does_not_skip_two_factor(client, tenant):
    user = tenant.users["la_officer"]
    client.post("/accounts/password-reset/", {"email": user.email})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_url = client.get(link)["Location"]
    response = client.post(
        form_url,
        {"new_password1": "a brand new long passphrase 7", "new_password2": "a brand new long passphrase 7"},
    )
    assert response["Location"] == "/accounts/reset/done/"
    assert client.get("/schools/")["Location"].startswith("/accounts/login/")  # not signed in by the reset
    assert (
        post_login(client, user.username, "a brand new long passphrase 7")["Location"]
        == "/accounts/two-factor/"
    )


def test_the_reset_pages_and_mail_are_the_apps_own_not_the_admins(client, tenant):
    """Under registration/ the admin's templates would be found first (it is the first app):
    the reset journey names its templates, so a school user never lands on the admin's look."""
    user = tenant.users["senco"]
    form = client.get("/accounts/password-reset/")
    assert "schools/account/password_reset_form.html" in [t.name for t in form.templates]
    assert b"Django administration" not in form.content
    sent = client.post("/accounts/password-reset/", {"email": user.email}, follow=True)
    assert "schools/account/password_reset_done.html" in [t.name for t in sent.templates]
    assert "Provision Map" in mail.outbox[0].body and "Django" not in mail.outbox[0].subject
    link = re.search(r"http://testserver(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    page = client.get(link, follow=True)
    assert "schools/account/password_reset_confirm.html" in [t.name for t in page.templates]
    assert b"Django administration" not in page.content


def test_reset_for_an_unknown_address_looks_the_same(client, db):
    response = client.post("/accounts/password-reset/", {"email": "nobody@example.invalid"})
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert mail.outbox == []


def test_api_token_needs_the_code_where_two_factor_applies(client, tenant):
    user = tenant.users["la_officer"]
    url = "/api/v1/auth/token/"
    assert client.post(url, {"username": user.username, "password": PASSWORD}).status_code == 401
    device = user.totpdevice_set.get()
    response = client.post(url, {"username": user.username, "password": PASSWORD, "otp": code_for(device)})
    assert response.status_code == 200
    token = response.json()["token"]
    me = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200
    assert me.json()["memberships"][0]["role"] == "la_officer"
    assert not ApiToken.objects.filter(key_hash=token).exists()  # only a digest is stored


def test_api_token_for_a_single_school_role(client, tenant):
    user = tenant.users["senco"]
    token = client.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}).json()[
        "token"
    ]
    assert client.get("/api/v1/pupils/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    assert (
        client.post("/api/v1/auth/token/", {"username": user.username, "password": "nope"}).status_code == 401
    )


def test_expired_or_unknown_token_is_refused(client, tenant):
    user = tenant.users["senco"]
    token = client.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}).json()[
        "token"
    ]
    ApiToken.objects.update(expires_at="2000-01-01T00:00:00Z")
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION="Token made-up").status_code == 401


def test_token_request_with_missing_fields_is_a_clear_400(client, db):
    response = client.post("/api/v1/auth/token/", {})
    assert response.status_code == 400
    assert "username" in response.json()


def test_idle_session_ends(client, tenant):
    sign_in(client, tenant.users["senco"])
    session = client.session
    session["last_seen"] = int(time.time()) - 3600
    session["signed_in_at"] = int(time.time()) - 3600
    session.save()
    response = client.get("/pupils/")
    assert response["Location"].startswith("/accounts/login/?expired=1")
    assert client.get("/pupils/")["Location"].startswith("/accounts/login/")


def test_absolute_session_limit(client, tenant):
    sign_in(client, tenant.users["senco"])
    session = client.session
    session["last_seen"] = int(time.time())
    session["signed_in_at"] = int(time.time()) - 9 * 3600
    session.save()
    assert client.get("/pupils/")["Location"].startswith("/accounts/login/")


def test_removing_the_role_ends_access_at_once(client, tenant):
    sign_in(client, tenant.users["senco"])
    assert client.get("/pupils/").status_code == 200
    tenant.memberships["senco"].delete()
    # The session itself ends (tests/test_sessions_end.py), so the page asks for sign-in.
    assert client.get("/pupils/")["Location"].startswith("/accounts/login/")


def test_disabling_the_user_ends_the_session(client, tenant):
    sign_in(client, tenant.users["senco"])
    user = tenant.users["senco"]
    user.is_active = False
    user.save()
    assert client.get("/pupils/")["Location"].startswith("/accounts/login/")


def test_passwords_hash_with_argon2id_in_production_settings(db):
    from provisionmap import settings as production

    with override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS):
        user = UserFactory()
        assert user.password.startswith("argon2$argon2id$")


@pytest.mark.parametrize("weak", ["password123456", "123456789012", "Sh0rt!pw"])
def test_common_and_weak_passwords_are_refused(weak, db):  # db: council names are refused too
    with pytest.raises(ValidationError):
        validate_password(weak)


def test_admin_is_for_platform_staff(client, tenant):
    platform = UserFactory(is_staff=True)
    Membership.objects.create(user=platform, role="platform_admin")
    device = TOTPDevice.objects.create(user=platform, name="t", confirmed=True)
    # A headteacher is not staff: the admin never opens.
    sign_in(client, tenant.users["headteacher"])
    assert client.get("/admin/").status_code == 302
    client.logout()
    # Staff without the second factor are sent to the challenge first.
    client.force_login(platform)
    assert client.get("/admin/")["Location"] == "/accounts/two-factor/"
    client.post("/accounts/two-factor/", {"code": code_for(device)})
    assert client.get("/admin/").status_code == 200


def test_lockout_counts_the_client_behind_trusted_proxies(rf, settings):
    from schools.lockout import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.2")
    assert client_ip(request) == "10.0.0.2"  # no proxy trusted: the forwarded header is ignored
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert client_ip(request) == "203.0.113.9"  # the address our one proxy saw, not the forgeable one


def test_admin_login_page_sends_everyone_to_the_one_sign_in(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/admin/")


def test_attempts_are_counted_before_the_password_is_checked(rf, db, settings):
    """Parallel guesses cannot overtake the count: each takes its place before checking."""
    from schools.lockout import begin_attempt

    settings.LOGIN_MAX_FAILURES = 5
    allowed = [begin_attempt(username="target", password=f"guess{i}", ip="198.51.100.7") for i in range(8)]
    assert allowed == [True] * 5 + [False] * 3


def test_token_ends_when_the_password_changes(client, tenant):
    user = tenant.users["senco"]
    token = client.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}).json()[
        "token"
    ]
    user.set_password("another long passphrase 42")
    user.save()
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401


def test_a_token_can_be_revoked(client, tenant):
    user = tenant.users["senco"]
    token = client.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}).json()[
        "token"
    ]
    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
    assert client.delete("/api/v1/auth/token/current/", **auth).status_code == 204
    assert client.get("/api/v1/me/", **auth).status_code == 401


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
def test_someone_who_enrolled_by_choice_is_asked_for_the_code(client, tenant):
    user = tenant.users["senco"]
    device = TOTPDevice.objects.create(user=user, name="own phone", confirmed=True)
    assert post_login(client, user.username)["Location"] == "/accounts/two-factor/"
    assert client.get("/pupils/")["Location"] == "/accounts/two-factor/"
    client.post("/accounts/two-factor/", {"code": code_for(device)})
    assert client.get("/pupils/").status_code == 200
    # The API asks too.
    response = client.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 401


def test_a_missing_code_does_not_use_up_the_code_attempts(client, tenant):
    user = tenant.users["la_officer"]
    for _ in range(8):
        assert (
            client.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}).status_code
            == 401
        )
        cache_clear_password_attempts(user.username)
    device = user.totpdevice_set.get()
    response = client.post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD, "otp": code_for(device)}
    )
    assert response.status_code == 200


def cache_clear_password_attempts(username: str) -> None:
    from schools.lockout import record_success

    record_success(username=username)  # keep the password lockout out of this test


def test_platform_staff_cannot_take_a_role_that_sees_pupils(tenant):
    staff = UserFactory(is_staff=True)
    membership = Membership(user=staff, role="senco", school=tenant.school)
    with pytest.raises(ValidationError):
        membership.clean()
