from django.urls import path

from pupils import views, views_import, views_transfers

app_name = "pupils"
urlpatterns = [
    path("", views.pupil_index, name="list"),
    path("<int:pk>/", views.pupil_detail, name="detail"),
    path("import/", views_import.import_upload, name="import"),
    path("import/commit/", views_import.import_commit, name="import-commit"),
    path("new/", views.pupil_create, name="create"),
    path("<int:pk>/edit/", views.pupil_edit, name="edit"),
    path("<int:pk>/profile/", views.pupil_profile, name="profile"),
    path("<int:pk>/outcomes/", views.pupil_outcomes, name="outcomes"),
    path("<int:pk>/scores/", views.pupil_scores, name="scores"),
    path("<int:pk>/print/", views.pupil_print, name="print"),
    path("<int:pk>/legal-hold/", views.pupil_legal_hold, name="legal-hold"),
    path("<int:pk>/transfer/", views_transfers.transfer_create, name="transfer"),
    path("export.csv", views.export_csv, name="export-csv"),
    path("export.xlsx", views.export_xlsx, name="export-xlsx"),
]
