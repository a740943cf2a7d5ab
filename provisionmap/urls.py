from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import TemplateView

from dashboards import views as dashboard_views
from provisionmap.health import healthz
from schools import views as school_views
from schools import views_auth

ACCOUNT = "schools/account"

urlpatterns = [
    path("", dashboard_views.home, name="home"),
    path("dashboard/", include("dashboards.urls")),
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", views_auth.sign_in, name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", views_auth.two_factor_challenge, name="two_factor_challenge"),
    path("accounts/two-factor/setup/", views_auth.two_factor_setup, name="two_factor_setup"),
    # Our own templates, named here: under registration/ the admin's would be found first.
    path(
        "accounts/password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name=f"{ACCOUNT}/password_reset_form.html",
            email_template_name=f"{ACCOUNT}/password_reset_email.html",
            subject_template_name=f"{ACCOUNT}/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name=f"{ACCOUNT}/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(template_name=f"{ACCOUNT}/password_reset_confirm.html"),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name=f"{ACCOUNT}/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("membership/switch/", school_views.switch_membership, name="switch_membership"),
    path("schools/", include("schools.urls")),
    path("pupils/", include("pupils.urls")),
    path("pupils/", include("graduated_response.urls")),
    path("transfers/", include("pupils.urls_transfers")),
    path("interventions/", include("interventions.urls")),
    path("placements/", include("interventions.urls_placements")),
    path("", include("interventions.urls_map")),
    path("partnership/", include("interventions.urls_aggregates")),
    path("frameworks/", include("graduated_response.urls_frameworks")),
    path("reports/", include("reports.urls")),
    path("api/v1/", include("provisionmap.api_urls")),
    path("accessibility/", TemplateView.as_view(template_name="accessibility.html"), name="accessibility"),
    path("admin/", admin.site.urls),
]

handler400 = "provisionmap.errors.bad_request"
handler403 = "provisionmap.errors.forbidden"
handler404 = "provisionmap.errors.not_found"
handler500 = "provisionmap.errors.server_error"
