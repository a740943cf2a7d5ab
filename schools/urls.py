from django.urls import path

from schools import views, views_la

app_name = "schools"
urlpatterns = [
    path("", views.school_list, name="list"),
    path("<int:pk>/", views.school_detail, name="detail"),
    path("provisions/", views.provision_list, name="provisions"),
    path("audit/", views.audit_log, name="audit"),
    path("la/", views_la.la_settings, name="la-settings"),
    path("la/terms/", views_la.la_terms, name="la-terms"),
    path("la/costs/", views_la.la_costs, name="la-costs"),
    path("rates/", views_la.school_rates, name="rates"),
]
