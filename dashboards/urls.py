from django.urls import path

from dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("<str:scope_type>/<int:pk>/", views.scope_dashboard, name="scope"),
]
