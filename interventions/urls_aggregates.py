"""Figures for partnership leads, LA officers and provision leads (mounted at /partnership/)."""

from django.urls import path

from interventions import views_aggregates

app_name = "partnership"
urlpatterns = [
    path("kpis/", views_aggregates.kpis, name="kpis"),
    path("kpis/provisions/<int:provision_id>/targets/", views_aggregates.kpi_targets, name="kpi-targets"),
    path("overview/", views_aggregates.overview, name="overview"),
    path("overview/<int:pk>/", views_aggregates.partnership_overview, name="partnership-overview"),
]
