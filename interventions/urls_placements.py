"""Placements in behaviour provisions: /placements/ (see views_placements.py)."""

from django.urls import path

from interventions import views_placements as views

app_name = "placements"
urlpatterns = [
    path("", views.placements, name="list"),
    path("refer/<int:pupil_pk>/", views.refer, name="refer"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/start/", views.start, name="start"),
    path("<int:pk>/progress/", views.progress, name="progress"),
    path("<int:pk>/end/", views.end, name="end"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
]
