"""The costed provision map, what works, and a pupil's provision (mounted at the site root)."""

from django.urls import path

from interventions import views_map

app_name = "provision_map"
urlpatterns = [
    path("provision-map/", views_map.school_map, name="school"),
    path("provision-map/export.csv", views_map.map_export_csv, name="export-csv"),
    path("provision-map/export.xlsx", views_map.map_export_xlsx, name="export-xlsx"),
    path("what-works/", views_map.what_works, name="what-works"),
    path("what-works/export.csv", views_map.what_works_csv, name="what-works-csv"),
    path("what-works/export.xlsx", views_map.what_works_xlsx, name="what-works-xlsx"),
    path("pupils/<int:pk>/provision/", views_map.pupil_map, name="pupil"),
]
