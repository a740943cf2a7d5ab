"""A Monday morning for `scripts/load.sh`: many SENCOs recording sessions and opening their
dashboards, headteachers and the people over many schools reading theirs, and a burst of
report requests.

Each role signs in once, through the real sign-in form (and two-factor page, with a code
worked out from the demo user's secret), and its simulated users share that session: a
second sign-in with the same code inside one 30-second step would be refused as a replay,
which is the app doing its job, not load.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import re
import struct
import threading
import time
from datetime import date
from pathlib import Path

from locust import HttpUser, between, task

CREDENTIALS = json.loads(Path(os.environ["LOAD_CREDENTIALS"]).read_text())
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_sessions: dict[str, dict] = {}
_lock = threading.Lock()


def code_for(secret: str, at: float | None = None) -> str:
    """The six-digit time-based code (RFC 6238, SHA-1, 30-second steps) for a base32 secret."""
    key = base64.b32decode(secret)
    counter = struct.pack(">Q", int((at or time.time()) // 30))
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def credentials(role: str) -> dict:
    return next(row for row in CREDENTIALS if row["role"] == role)


class Member(HttpUser):
    abstract = True
    role = ""
    wait_time = between(1, 3)

    def on_start(self) -> None:
        with _lock:
            if self.role not in _sessions:
                _sessions[self.role] = self._sign_in()
        self.client.cookies.update(_sessions[self.role])
        self.csrf = _sessions[self.role].get("csrftoken", "")

    def _sign_in(self) -> dict:
        row = credentials(self.role)
        page = self.client.get("/accounts/login/", name="sign in")
        token = CSRF.search(page.text).group(1)
        answer = self.client.post(
            "/accounts/login/",
            {"username": row["username"], "password": row["password"], "csrfmiddlewaretoken": token},
            name="sign in",
        )
        if row.get("totp_secret") and "two-factor" in answer.url:
            token = CSRF.search(answer.text).group(1)
            self.client.post(
                answer.url,
                {"code": code_for(row["totp_secret"]), "csrfmiddlewaretoken": token},
                name="two-factor",
            )
        return dict(self.client.cookies)

    def api_post(self, path: str, body: dict, name: str):
        return self.client.post(
            path,
            data=json.dumps(body),
            headers={"Content-Type": "application/json", "X-CSRFToken": self.csrf, "Referer": self.host},
            name=name,
        )


class Senco(Member):
    role = "senco"
    weight = 30

    @task(3)
    def record_a_session(self) -> None:
        groups = self.client.get("/api/v1/groups/?current=true", name="/api/v1/groups/?current").json()
        if not groups.get("results"):
            return
        group = random.choice(groups["results"])  # noqa: S311 - a load mix, not a secret
        places = self.client.get(
            f"/api/v1/enrolments/?group={group['id']}", name="/api/v1/enrolments/?group"
        ).json()
        marks = [
            {"enrolment": e["id"], "present": random.random() < 0.85}  # noqa: S311
            for e in places.get("results", [])
            if e["starts_on"] <= date.today().isoformat()
            and (not e.get("ends_on") or e["ends_on"] >= date.today().isoformat())
        ]
        self.api_post(
            "/api/v1/sessions/",
            {"group": group["id"], "held_on": date.today().isoformat(), "notes": "", "attendance": marks},
            name="POST /api/v1/sessions/",
        )

    @task(2)
    def dashboard(self) -> None:
        self.client.get("/", name="/ (SENCO)")

    @task(2)
    def register(self) -> None:
        self.client.get("/pupils/", name="/pupils/")

    @task(1)
    def reviews(self) -> None:
        self.client.get("/pupils/reviews/", name="/pupils/reviews/")


class Headteacher(Member):
    role = "headteacher"
    weight = 5

    @task(3)
    def dashboard(self) -> None:
        self.client.get("/", name="/ (headteacher)")

    @task(1)
    def provision_map(self) -> None:
        self.client.get("/provision-map/", name="/provision-map/")

    @task(1)
    def what_works(self) -> None:
        self.client.get("/what-works/", name="/what-works/")


class ProvisionLead(Member):
    role = "provision_lead"
    weight = 4

    @task(2)
    def dashboard(self) -> None:
        self.client.get("/", name="/ (provision lead)")

    @task(1)
    def placements(self) -> None:
        self.client.get("/placements/", name="/placements/")


class PartnershipLead(Member):
    role = "partnership_lead"
    weight = 5

    @task(3)
    def dashboard(self) -> None:
        self.client.get("/", name="/ (partnership lead)")

    @task(1)
    def ask_for_a_report(self) -> None:
        row = credentials(self.role)
        self.api_post(
            "/api/v1/reports/",
            {
                "kind": "partnership_annual",
                "scope_type": "partnership",
                "scope_id": row["scope_id"],
                "period": "",
            },
            name="POST /api/v1/reports/",
        )


class LaOfficer(Member):
    role = "la_officer"
    weight = 6

    @task(3)
    def dashboard(self) -> None:
        self.client.get("/", name="/ (LA officer)")

    @task(1)
    def overview(self) -> None:
        self.client.get("/partnership/overview/", name="/partnership/overview/")

    @task(1)
    def ask_for_a_report(self) -> None:
        row = credentials(self.role)
        self.api_post(
            "/api/v1/reports/",
            {
                "kind": "la_overview",
                "scope_type": "local_authority",
                "scope_id": row["scope_id"],
                "period": "",
            },
            name="POST /api/v1/reports/",
        )
