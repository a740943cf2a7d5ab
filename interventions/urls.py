from django.urls import path

from interventions import views

app_name = "interventions"
urlpatterns = [
    path("", views.groups, name="groups"),
    path("groups/<int:pk>/", views.group_detail, name="group"),
    path("groups/<int:pk>/edit/", views.group_edit, name="group-edit"),
    path("groups/<int:pk>/enrol/", views.group_enrol, name="group-enrol"),
    path("groups/<int:pk>/sessions/new/", views.session_record, name="session-record"),
    path("enrolments/<int:pk>/", views.enrolment_edit, name="enrolment-edit"),
    path("enrolments/<int:pk>/withdraw/", views.enrolment_withdraw, name="enrolment-withdraw"),
    path("provisions/", views.provisions, name="provisions"),
    path("provisions/new/", views.provision_create, name="provision-create"),
    path("provisions/add/", views.provision_add, name="provision-add"),
    path("provisions/<int:pk>/edit/", views.provision_edit, name="provision-edit"),
    path("provisions/<int:pk>/groups/new/", views.group_create, name="group-create"),
]
