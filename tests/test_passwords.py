"""Breached-looking passwords are refused, passphrases are not (SECURITY.md 18).

Django's own validators refuse the exact common passwords and short ones; these tests are
about the shapes that slip past them — a common word, name, season or team with a year and
a symbol, the council's or school's name, the username — refused in plain words wherever a
password is chosen, while the passphrases we advise and the demo seed's passwords pass.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import password_validators_help_texts, validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings

from schools.demo import demo_password, demo_users, seed_organisations, seed_user
from schools.models import Role, User
from schools.passwords import BreachedPatternValidator
from tests.factories import MembershipFactory, UserFactory

PASSWORD = "correct horse battery staple"
OUR_CODES = {
    "password_breached_pattern",
    "password_organisation",
    "password_personal",
    "password_simple_numbers",
}

BREACHED_LOOKING = [
    "Password123!",
    "Summer2026!Summer",
    "Liverpool2024!",
    "Welcome1!",
    "Brookshire2026!",  # the demo council's name
    "P@ssw0rd2024!!",
    "ManchesterUnited1!",
    "Chelsea4ever!!",
    "Septemb3r2025!!",
    "Qwerty123456!",
    "iloveyou2024!!",
    "ProvisionMap2026!",  # the service's own name
    "Sunshine!!2020",
    "12345678!!!!",
    "01/09/2015!!",
    "xLiverpool2024",
]

PASSPHRASES = [
    PASSWORD,
    "kettle orbit velvet lantern",
    "a brand new long passphrase 7",
    "another long passphrase 42",
    "Tr0ub4dor&3 plus the moon",
    "q7#Vt9!mZ2@xLp4&",
    "stapler giraffe 1987 fjord",
]


def refusal(password: str, user=None) -> ValidationError:
    """The error our validator alone gives (the full chain may add Django's too)."""
    with pytest.raises(ValidationError) as caught:
        BreachedPatternValidator().validate(password, user)
    return caught.value


@pytest.fixture
def demo_council(db):
    return seed_organisations()


@pytest.mark.parametrize("password", BREACHED_LOOKING)
def test_breached_looking_passwords_are_refused(demo_council, password):
    assert refusal(password).code in OUR_CODES
    with pytest.raises(ValidationError) as caught:
        validate_password(password)
    assert OUR_CODES & {e.code for e in caught.value.error_list}


def test_the_users_own_council_school_and_name_are_refused(tenant):
    jo = UserFactory(username="jo.bloggs", first_name="Jo", last_name="Bloggs")
    MembershipFactory(user=jo, role=Role.SENCO, school=tenant.school)  # Alpha Primary, Alpha Council
    council = refusal("Alpha2026!Alpha", jo)
    assert council.code == "password_organisation" and "council" in council.message
    school = refusal("AlphaPrimary2025!", jo)
    assert school.code == "password_organisation" and "school" in school.message
    for own in ("JoBloggs2026!", "Bloggs2026!!", "jo.bloggs2026!"):
        named = refusal(own, jo)
        assert named.code == "password_personal" and "username" in named.message, own
    for error in (council, school, named):
        assert "three or four unrelated words" in error.message
        assert "2026" not in error.message and "Alpha" not in error.message  # never echoes it back
    # Every council's name is refused, with or without a user: they are public.
    assert refusal("Alpha2026!Alpha").code == "password_organisation"


def test_messages_are_plain_and_name_the_reason(demo_council):
    common = refusal("Liverpool2024!")
    assert common.message.startswith("This password is a common word or name with numbers or symbols added")
    assert refusal("Brookshire2026!").code == "password_organisation"
    numbers = refusal("12345678!!!!")
    assert "only numbers and symbols" in numbers.message
    help_text = " ".join(password_validators_help_texts())
    assert "season or month with numbers" in help_text


@pytest.mark.parametrize("password", PASSPHRASES)
def test_passphrases_and_random_passwords_are_accepted(tenant, password):
    validate_password(password, tenant.users["senco"])
    validate_password(password)


def test_the_demo_seeds_passwords_pass_whatever_the_secret_key(db):
    """Demo passwords derive from SECRET_KEY, so each deployment prints different ones: they
    pass under this key and under ten others."""
    world = seed_organisations()
    specs = demo_users(world)
    for spec in specs:
        seed_user(spec)
    users = {u.username: u for u in User.objects.filter(username__in=[s.username for s in specs])}
    keys = [settings.SECRET_KEY] + [f"a-deployment-secret-{n}-" + "k" * 40 for n in range(10)]
    refused = []
    for key in keys:
        with override_settings(SECRET_KEY=key):
            for spec in specs:
                password = demo_password(spec.username)
                try:
                    validate_password(password, users[spec.username])
                except ValidationError as error:
                    refused.append((password, error.messages))
    assert refused == []


def test_the_reset_form_refuses_them_and_keeps_the_old_password(client, tenant):
    user = tenant.users["senco"]
    client.post("/accounts/password-reset/", {"email": user.email})
    link = re.search(r"http://testserver(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_url = client.get(link)["Location"]
    for password in (
        "Password123!",
        "Summer2026!Summer",
        "Liverpool2024!",
        "Alpha2026!Alpha",
        "alphasenco2026!",
    ):
        response = client.post(form_url, {"new_password1": password, "new_password2": password})
        assert response.status_code == 200, password
        html = response.content.decode()
        assert "Try three or four unrelated words instead" in html, password
        user.refresh_from_db()
        assert user.check_password(PASSWORD)
    good = "kettle orbit velvet lantern"
    response = client.post(form_url, {"new_password1": good, "new_password2": good})
    assert response["Location"] == "/accounts/reset/done/"
    user.refresh_from_db()
    assert user.check_password(good)
