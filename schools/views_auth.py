"""Sign-in, two-factor challenge and enrolment, sign-out."""

from __future__ import annotations

from base64 import b32encode

import segno
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from schools.audit import Action, audit
from schools.forms import CodeForm, SignInForm
from schools.memberships import SESSION_KEY, memberships_of
from schools.signin import check_code, check_password, confirmed_device, two_factor_applies


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and not getattr(request, "two_factor_required", False):
        return redirect("home")
    form = SignInForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        result = check_password(request, form.cleaned_data["username"], form.cleaned_data["password"])
        if result.user is None:
            error = result.error
        else:
            user = result.user
            login(request, user)  # a new session id; schools.apps starts the session clocks
            memberships = memberships_of(user)
            if memberships:
                request.session[SESSION_KEY] = memberships[0].pk
            audit(request, Action.SIGN_IN, object_type="user", object_id=user.pk, user=user)
            if two_factor_applies(user, memberships):
                # Remembered for the session: someone who enrolled by choice is asked too.
                request.session["two_factor"] = True
                request.session["after_two_factor"] = _next_url(request)
                return redirect("two_factor_challenge")
            return redirect(_next_url(request))
    return render(
        request,
        "registration/login.html",
        {"form": form, "error": error, "next": _next_url(request), "expired": "expired" in request.GET},
        status=400 if error else 200,
    )


@sensitive_post_parameters("code")
@login_required
@never_cache
def two_factor_challenge(request: HttpRequest) -> HttpResponse:
    device = confirmed_device(request.user)
    if device is None:
        return redirect("two_factor_setup")
    if request.user.is_verified():
        return redirect("home")
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        if check_code(request.user, device, form.cleaned_data["code"]):
            otp_login(request, device)
            return redirect(request.session.pop("after_two_factor", "/"))
        error = "That code did not match. Codes change every 30 seconds; use the newest one."
    return render(
        request,
        "registration/two_factor_challenge.html",
        {"form": form, "error": error},
        status=400 if error else 200,
    )


@sensitive_post_parameters("code")
@login_required
@never_cache
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """First enrolment only: with a confirmed device, the challenge is the only way in."""
    if confirmed_device(request.user) is not None:
        return redirect("two_factor_challenge")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="Authenticator app", confirmed=False)
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        if check_code(request.user, device, form.cleaned_data["code"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(request, "Two-factor sign-in is set up.")
            return redirect(request.session.pop("after_two_factor", "/"))
        error = "That code did not match. Check the time on your phone and try the newest code."
    secret = b32encode(device.bin_key).decode()
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "registration/two_factor_setup.html",
        {"form": form, "error": error, "secret": secret, "qr_data_uri": qr.svg_data_uri(scale=4)},
        status=400 if error else 200,
    )
