from django.urls import path

from schools import views, views_la

app_name = "schools"
urlpatterns = [
    path("", views.school_list, name="list"),
    path("<int:pk>/", views.school_detail, name="detail"),
    path("provisions/", views.provision_list, name="provisions"),
    path("audit/", views.audit_log, name="audit"),
    path("la/", views_la.la_settings, name="la-settings"),
    path("la/terms/", views_la.la_terms, name="la-terms"),
    path("la/costs/", views_la.la_costs, name="la-costs"),
    path("rates/", views_la.school_rates, name="rates"),
]

# Partnership budgets (issue 6). Imported here so this block is appended whole.
from schools import views_budgets  # noqa: E402

urlpatterns += [
    path("budgets/", views_budgets.budget_list, name="budgets"),
    path("budgets/new/", views_budgets.budget_create, name="budget-create"),
    path("budgets/<int:pk>/", views_budgets.budget_detail, name="budget"),
    path("budgets/<int:pk>/lines/", views_budgets.line_add, name="budget-line-add"),
    path("budgets/<int:pk>/spend/", views_budgets.spend_add, name="budget-spend-add"),
    path(
        "budgets/<int:pk>/spend/<int:item_id>/approve/",
        views_budgets.spend_approve,
        name="budget-spend-approve",
    ),
    path("budgets/<int:pk>/spend/<int:item_id>/paid/", views_budgets.spend_paid, name="budget-spend-paid"),
]

# --- a partnership's agreements, their reviews and the annual report's narratives (issue 6) ---
from schools import views_partnership  # noqa: E402

urlpatterns += [
    path("agreements/", views_partnership.sla_list, name="sla-list"),
    path("agreements/<int:pk>/", views_partnership.sla_detail, name="sla-detail"),
    path("agreements/<int:pk>/edit/", views_partnership.sla_edit, name="sla-edit"),
    path("agreements/<int:pk>/agree/", views_partnership.sla_agree, name="sla-agree"),
    path("agreements/<int:pk>/reviews/new/", views_partnership.sla_review_create, name="sla-review-create"),
    path("provisions/<int:provision_id>/agreements/new/", views_partnership.sla_create, name="sla-create"),
    path("report/", views_partnership.my_report, name="report"),
    path("partnerships/<int:pk>/report/", views_partnership.narrative_list, name="narratives"),
    path(
        "partnerships/<int:pk>/report/<slug:section>/",
        views_partnership.narrative_save,
        name="narrative-save",
    ),
]
