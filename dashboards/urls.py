from django.urls import path

from dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("school/<int:pk>/", views.scope_dashboard, {"scope_type": "school"}, name="school"),
    path("provision/<int:pk>/", views.scope_dashboard, {"scope_type": "provision"}, name="provision"),
    path("partnership/<int:pk>/", views.scope_dashboard, {"scope_type": "partnership"}, name="partnership"),
    path(
        "local-authority/<int:pk>/",
        views.scope_dashboard,
        {"scope_type": "local_authority"},
        name="local-authority",
    ),
]
