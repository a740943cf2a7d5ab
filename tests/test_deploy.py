"""Production settings pass Django's deployment checks and keep their security promises.

The suite itself runs on provisionmap.settings_test, which swaps in MD5 hashing and turns
the HTTPS redirect off, so the production values are read in a fresh interpreter that
imports provisionmap.settings with the environment production has: DEBUG unset, a long
random SECRET_KEY, ALLOWED_HOSTS set, and the same DATABASE_URL and REDIS_URL as this run
(inherited from os.environ). Headers are checked on real responses through the test client.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.test import Client, override_settings
from django.utils.module_loading import import_string
from rest_framework.renderers import BrowsableAPIRenderer

from tests.conftest import sign_in

ROOT = Path(__file__).resolve().parent.parent
ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"
ONE_YEAR = 365 * 24 * 3600

# Settings read from the production module; all of them are plain JSON values.
PRODUCTION_NAMES = [
    "DEBUG",
    "PASSWORD_HASHERS",
    "REST_FRAMEWORK",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "CONTENT_SECURITY_POLICY",
    "TENANT_STRICT",
]


def production_env() -> dict[str, str]:
    # What this process has, less anything production never has: DEBUG or a switched-off
    # redirect from a developer's shell, and Django switches such as the
    # DJANGO_ALLOW_ASYNC_UNSAFE that the browser tests set for the rest of the session.
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DEBUG", "SECURE_SSL_REDIRECT") and not name.startswith("DJANGO_")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="provisionmap.settings",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="provisionmap.example.org",
    )
    return env


def run_python(*args: str) -> subprocess.CompletedProcess[str]:
    # Our own interpreter, our own fixed arguments: nothing here comes from outside.
    return subprocess.run(  # noqa: S603
        [sys.executable, *args],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def production() -> dict:
    """The values provisionmap.settings takes in a production environment."""
    probe = (
        "import json, sys\n"
        "import provisionmap.settings as s\n"
        f"sys.stdout.write(json.dumps({{n: getattr(s, n) for n in {PRODUCTION_NAMES!r}}}))\n"
    )
    result = run_python("-c", probe)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def directives(header: str) -> dict[str, str]:
    """`a 'x'; b 'y'` → {"a": "'x'", "b": "'y'"} (Content-Security-Policy)."""
    parts = (d.strip().split(None, 1) for d in header.split(";") if d.strip())
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


def test_check_deploy_is_clean_under_production_settings():
    result = run_python("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    # Clean, and not by silencing: a silenced deploy warning would count as a failure here.
    assert "System check identified no issues (0 silenced)." in result.stdout, report


def test_production_settings_really_are_production(production):
    assert production["DEBUG"] is False
    # In production an unscoped tenant query is logged and answers nothing, not a 500.
    assert production["TENANT_STRICT"] is False


def test_production_has_no_browsable_api(production, client, db):
    renderers = production["REST_FRAMEWORK"]["DEFAULT_RENDERER_CLASSES"]
    assert renderers, "the API needs at least one renderer"
    for path in renderers:
        assert not issubclass(import_string(path), BrowsableAPIRenderer), path
    # A browser asking for HTML gets none back.
    response = client.get("/api/v1/", HTTP_ACCEPT="text/html")
    assert not response["Content-Type"].startswith("text/html")


def test_production_cookies_are_secure_and_https_is_enforced(production):
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    assert production["CSRF_COOKIE_HTTPONLY"] is True
    assert production["SECURE_SSL_REDIRECT"] is True


def test_production_sends_hsts_for_a_year(production, db):
    assert production["SECURE_HSTS_SECONDS"] >= ONE_YEAR
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    # Production's values on a real HTTPS response (a fresh client loads the middleware
    # with them, whatever DEBUG the test run has).
    hsts = {name: production[name] for name in ("SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS")}
    with override_settings(**hsts):
        header = Client().get("/accounts/login/", secure=True)["Strict-Transport-Security"]
    max_age = re.search(r"max-age=(\d+)", header)
    assert max_age is not None and int(max_age.group(1)) >= ONE_YEAR, header
    assert "includesubdomains" in header.lower()


def test_production_hashes_passwords_with_argon2id(production):
    # The suite hashes with MD5 for speed; production must put Argon2 first.
    assert production["PASSWORD_HASHERS"][0] == ARGON2
    hasher = Argon2PasswordHasher()
    assert hasher.encode("correct horse battery staple", hasher.salt()).startswith("argon2$argon2id$")


def test_content_security_policy_is_sent(production, client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == production["CONTENT_SECURITY_POLICY"]
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == "'self'"
    assert "unsafe-inline" not in policy["script-src"]
    assert "unsafe-eval" not in policy["script-src"]
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def no_store(response) -> bool:
    return "no-store" in [d.strip() for d in response.get("Cache-Control", "").split(",")]


def test_pages_are_not_stored_by_browsers_or_proxies(client, tenant):
    assert no_store(client.get("/accounts/login/"))
    # A page that shows pupils' names.
    sign_in(client, tenant.users["senco"])
    response = client.get("/pupils/")
    assert response.status_code == 200
    assert tenant.pupils[0].last_name in response.content.decode()
    assert no_store(response)


def test_compose_passes_every_setting_the_app_reads():
    """Each environment variable settings.py reads reaches the app containers (or is set in the image)."""
    import re
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parent.parent
    read = set(
        re.findall(
            r'(?:environ\.get|env_bool|env_list)\(\s*"([A-Z_]+)"',
            (root / "provisionmap/settings.py").read_text(),
        )
    )
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    passed = set(compose["x-app"]["environment"])
    in_image = {"STATIC_ROOT", "MEDIA_ROOT"}  # set by the Dockerfile
    assert read - passed - in_image == {"DEBUG"}  # production never runs with DEBUG
