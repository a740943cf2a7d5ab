from django.urls import path

from pupils import views_transfers

app_name = "transfers"
urlpatterns = [
    path("", views_transfers.transfer_list, name="list"),
    path("<int:pk>/", views_transfers.transfer_detail, name="detail"),
]
