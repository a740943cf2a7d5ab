from django.urls import path

from graduated_response import views
from graduated_response import views_plans as plans

app_name = "graduated_response"
urlpatterns = [
    path("<int:pk>/step/", views.step, name="step"),
    path("<int:pk>/step/<int:placement_id>/approve/", views.approve, name="approve"),
    path("<int:pk>/strategies/", views.strategies, name="strategies"),
    path("reviews/", plans.reviews_due, name="reviews-due"),
    path("<int:pk>/plans/new/", plans.plan_create, name="plan-create"),
    path("<int:pk>/plans/<int:plan_id>/", plans.plan_detail, name="plan"),
    path("<int:pk>/plans/<int:plan_id>/edit/", plans.plan_edit, name="plan-edit"),
    path("<int:pk>/plans/<int:plan_id>/review/", plans.plan_review, name="plan-review"),
    path("<int:pk>/timeline/", plans.timeline, name="timeline"),
]

# Behaviour observations. Imported here so this block is appended whole, not spliced in.
from graduated_response import views_observations  # noqa: E402

urlpatterns += [
    path("<int:pk>/observations/", views_observations.observations, name="observations"),
]

# Following up moves: overrides awaiting approval, and reviewing a strategy tried later.
from graduated_response import views_followup  # noqa: E402

urlpatterns += [
    path("overrides/", views_followup.overrides, name="overrides"),
    path(
        "<int:pk>/strategies/<int:tried_id>/review/", views_followup.strategy_review, name="strategy-review"
    ),
]
