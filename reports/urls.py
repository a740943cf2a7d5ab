from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("", views.report_list, name="list"),
    path("pupil/<int:pk>/", views.pupil_reports, name="pupil"),
    path("<int:pk>/", views.report_detail, name="detail"),
    path("<int:pk>/again/", views.report_again, name="again"),
    path("<int:pk>/pdf/", views.report_pdf, name="pdf"),
    path("<int:pk>/snapshot/", views.report_snapshot, name="snapshot"),
]
