"""Sign-ins end when access does (SECURITY.md 19).

A session from before sign-in never survives it (no session fixation), and disabling a
user, deleting them, or taking a role away — in the shell or in the platform admin —
ends every live session and API token of theirs at once, leaving everyone else's alone.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.contrib.sessions.models import Session
from django.db import transaction
from django.test import Client

from schools.models import ApiToken, Membership, Role, User
from schools.signals import live_session_keys
from tests.conftest import sign_in
from tests.factories import MembershipFactory, UserFactory, give_totp
from tests.test_signin import PASSWORD, code_for


def browser_signed_in(user: User) -> Client:
    """A browser that signed in through the sign-in page (no second factor for this role)."""
    browser = Client()
    response = browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/", response
    assert browser.get("/pupils/").status_code == 200
    return browser


def api_token(user: User) -> str:
    response = Client().post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def token_works(token: str) -> bool:
    return Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


def assert_signed_out(browser: Client) -> None:
    page = browser.get("/pupils/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    assert browser.get("/api/v1/me/").status_code in (401, 403)
    assert browser.get("/api/v1/pupils/").status_code in (401, 403)


@pytest.fixture
def senco(tenant) -> User:
    return tenant.users["senco"]


@pytest.fixture
def signed_in(senco, tenant):
    """The SENCO on a laptop and a phone with an API token; a colleague signed in beside them."""
    laptop, phone = browser_signed_in(senco), browser_signed_in(senco)
    colleague_user = tenant.users["headteacher"]
    colleague = browser_signed_in(colleague_user)
    keys = set(live_session_keys({senco.pk}))
    assert len(keys) == 2
    return {
        "user_id": senco.pk,
        "browsers": [laptop, phone],
        "token": api_token(senco),
        "keys": keys,
        "colleague": colleague,
        "colleague_token": api_token(colleague_user),
        "colleague_keys": set(live_session_keys({colleague_user.pk})),
    }


def assert_ended_for_them_only(signed_in) -> None:
    for browser in signed_in["browsers"]:
        assert_signed_out(browser)
    assert not Session.objects.filter(session_key__in=signed_in["keys"]).exists()
    assert not token_works(signed_in["token"])
    assert not ApiToken.objects.filter(user_id=signed_in["user_id"]).exists()
    # The colleague carries on: same session, same token.
    assert signed_in["colleague"].get("/pupils/").status_code == 200
    assert Session.objects.filter(session_key__in=signed_in["colleague_keys"]).count() == 1
    assert token_works(signed_in["colleague_token"])


# --- A new session at sign-in ---------------------------------------------------------------


def test_a_session_from_before_sign_in_is_replaced_not_reused(client, senco):
    client.get("/accounts/login/")
    early = client.session  # as a visit that stored something before signing in would have
    early["cookie_notice_seen"] = True
    early.save()
    planted = early.session_key
    assert client.cookies["sessionid"].value == planted
    assert Session.objects.filter(session_key=planted).exists()

    signing_in = client.post("/accounts/login/", {"username": senco.username, "password": PASSWORD})
    assert signing_in.status_code == 302
    now = client.cookies["sessionid"].value
    assert now != planted
    assert not Session.objects.filter(session_key=planted).exists()
    assert Session.objects.get(session_key=now).get_decoded()["_auth_user_id"] == str(senco.pk)
    assert client.session["cookie_notice_seen"] is True  # what the visitor chose stays with them
    # Someone who planted or copied the old cookie holds nothing.
    attacker = Client()
    attacker.cookies["sessionid"] = planted
    assert_signed_out(attacker)
    assert client.get("/pupils/").status_code == 200


def test_two_factor_sign_in_also_starts_from_a_new_session(client, tenant):
    officer = tenant.users["la_officer"]
    early = client.session
    early["cookie_notice_seen"] = True
    early.save()
    planted = early.session_key
    password_step = client.post("/accounts/login/", {"username": officer.username, "password": PASSWORD})
    assert password_step["Location"] == "/accounts/two-factor/"
    code = code_for(officer.totpdevice_set.get())
    assert client.post("/accounts/two-factor/", {"code": code}).status_code == 302
    assert client.cookies["sessionid"].value != planted
    assert not Session.objects.filter(session_key=planted).exists()
    assert client.get("/schools/").status_code == 200


# --- Taking access away ---------------------------------------------------------------------------


def test_removing_the_role_ends_their_sessions_and_tokens(tenant, senco, signed_in):
    tenant.memberships["senco"].delete()
    assert_ended_for_them_only(signed_in)
    # Signing in again works and finds no role.
    again = Client()
    again.post("/accounts/login/", {"username": senco.username, "password": PASSWORD})
    assert again.get("/pupils/").status_code == 403


def test_removing_one_of_two_roles_ends_the_sessions_too(tenant, senco, signed_in):
    """The sessions hold a choice of membership and a two-factor state made with the role
    that went: they end, and the next sign-in starts from what remains."""
    extra = MembershipFactory(user=senco, role=Role.HEADTEACHER, school=tenant.sibling)
    assert set(live_session_keys({senco.pk})) == signed_in["keys"]  # adding a role ends nothing
    Membership.objects.filter(pk=extra.pk).delete()  # a queryset delete, as bulk admin actions do
    assert_ended_for_them_only(signed_in)
    assert browser_signed_in(senco).get("/pupils/").status_code == 200


def test_changing_the_role_of_a_membership_ends_the_sessions(tenant, signed_in):
    membership = tenant.memberships["senco"]
    membership.role = Role.PRACTITIONER
    membership.save()
    assert_ended_for_them_only(signed_in)


@pytest.mark.parametrize("fields", [None, ["is_active"]], ids=["save", "save-is-active"])
def test_disabling_the_user_ends_their_sessions_and_tokens(client, senco, signed_in, fields):
    senco.is_active = False
    senco.save(update_fields=fields)
    assert_ended_for_them_only(signed_in)
    response = client.post("/accounts/login/", {"username": senco.username, "password": PASSWORD})
    assert response.status_code == 400


def test_deleting_the_user_ends_their_sessions(senco, signed_in):
    senco.delete()
    assert_ended_for_them_only(signed_in)


def test_other_changes_to_the_user_end_nothing(senco, signed_in):
    senco.first_name = "Samira"
    senco.save()
    senco.last_name = "Patel-Khan"
    senco.save(update_fields=["last_name"])
    assert set(live_session_keys({senco.pk})) == signed_in["keys"]
    assert all(b.get("/pupils/").status_code == 200 for b in signed_in["browsers"])
    assert token_works(signed_in["token"])


def test_a_removal_that_rolls_back_leaves_the_sessions(tenant, senco, signed_in):
    with transaction.atomic():
        tenant.memberships["senco"].delete()
        assert not Session.objects.filter(session_key__in=signed_in["keys"]).exists()
        transaction.set_rollback(True)
    assert Session.objects.filter(session_key__in=signed_in["keys"]).count() == 2
    assert all(b.get("/pupils/").status_code == 200 for b in signed_in["browsers"])
    assert token_works(signed_in["token"])


def test_finding_a_users_sessions_reads_every_kind_of_stored_session(db):
    """Short sessions are stored plain and long ones compressed; both are found, a user whose
    id only starts the same is not, and neither are expired or anonymous sessions."""
    from datetime import timedelta

    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    def stored(data: dict, *, expired: bool = False) -> str:
        session = SessionStore()
        session.update(data)
        session.set_expiry(timedelta(seconds=-60 if expired else 3600))
        session.create()
        return session.session_key

    short = stored({"_auth_user_id": "12"})
    long = stored({"_auth_user_id": "12", "notes": "x" * 500, "last_seen": 1})
    assert not Session.objects.get(session_key=short).session_data.startswith(".")
    assert Session.objects.get(session_key=long).session_data.startswith(".")  # compressed
    stored({"_auth_user_id": "123"})
    stored({"_auth_user_id": "1", "picked": "12"})
    stored({"_auth_user_id": "12"}, expired=True)
    stored({"cookie_notice_seen": True, "12": "12"})
    forged = Session.objects.create(
        session_key="f" * 32, session_data="not-a-session", expire_date=timezone.now() + timedelta(hours=1)
    )
    assert sorted(live_session_keys({12})) == sorted([short, long])
    assert forged.session_key not in live_session_keys({12, 1})


# --- Through the platform admin ------------------------------------------------------------------


class _FormFields(HTMLParser):
    """What a browser would send for the page's main form: inputs, ticked boxes, selected
    options and text areas, by name."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((name, a.get("value") or ("on" if a.get("type") == "checkbox" else "")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields.append((name, ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            name, text = self.fields[-1]
            self.fields[-1] = (name, text + data)


def admin_form(page) -> dict[str, list[str]]:
    parser = _FormFields()
    parser.feed(page.content.decode())
    data: dict[str, list[str]] = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    return data


@pytest.fixture
def platform_admin(client, db):
    staff = UserFactory(is_staff=True, is_superuser=True)
    Membership.objects.create(user=staff, role=Role.PLATFORM_ADMIN)
    give_totp(staff)
    return sign_in(client, staff)


def test_the_admin_taking_a_role_away_ends_the_sessions(platform_admin, tenant, senco, signed_in):
    url = f"/admin/schools/user/{senco.pk}/change/"
    data = admin_form(platform_admin.get(url))
    membership = tenant.memberships["senco"]
    row = next(n for n, v in data.items() if n.endswith("-id") and v == [str(membership.pk)])
    data[row.removesuffix("id") + "DELETE"] = ["on"]
    response = platform_admin.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert_ended_for_them_only(signed_in)


def test_the_admin_disabling_a_user_ends_the_sessions(platform_admin, senco, signed_in):
    url = f"/admin/schools/user/{senco.pk}/change/"
    data = admin_form(platform_admin.get(url))
    assert data.pop("is_active") == ["on"]
    response = platform_admin.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    senco.refresh_from_db()
    assert not senco.is_active
    assert_ended_for_them_only(signed_in)
