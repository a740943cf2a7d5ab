"""The LA's frameworks: read by every role of the LA, edited by its administrator."""

from django.urls import path

from graduated_response import views_frameworks as views

app_name = "frameworks"
urlpatterns = [
    path("", views.framework_list, name="list"),
    path("copy/", views.framework_copy, name="copy"),
    path("<int:pk>/", views.framework_detail, name="detail"),
    path("<int:pk>/new-version/", views.framework_new_version, name="new-version"),
    path("<int:pk>/steps/<int:step_id>/edit/", views.step_edit, name="step-edit"),
    path("<int:pk>/steps/<int:step_id>/strategies/add/", views.strategy_add, name="strategy-add"),
    path(
        "<int:pk>/steps/<int:step_id>/strategies/<int:strategy_id>/edit/",
        views.strategy_edit,
        name="strategy-edit",
    ),
    path(
        "<int:pk>/steps/<int:step_id>/strategies/<int:strategy_id>/remove/",
        views.strategy_remove,
        name="strategy-remove",
    ),
    path(
        "<int:pk>/steps/<int:step_id>/strategies/<int:strategy_id>/move/",
        views.strategy_move,
        name="strategy-move",
    ),
]
