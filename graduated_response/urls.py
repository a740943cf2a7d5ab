from django.urls import path

from graduated_response import views

app_name = "graduated_response"
urlpatterns = [
    path("<int:pk>/step/", views.step, name="step"),
    path("<int:pk>/step/<int:placement_id>/approve/", views.approve, name="approve"),
    path("<int:pk>/strategies/", views.strategies, name="strategies"),
]
