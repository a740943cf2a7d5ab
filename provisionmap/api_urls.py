from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from graduated_response import api as graduated_api
from graduated_response import api_plans
from provisionmap.api_docs import api_docs
from pupils import api as pupils_api
from pupils import api_import as pupils_import
from schools import api as schools_api

app_name = "api"
urlpatterns = [
    path("", schools_api.ApiRoot.as_view(), name="root"),
    path("me/", schools_api.MeView.as_view(), name="me"),
    path("auth/token/", schools_api.TokenView.as_view(), name="token"),
    path("auth/token/current/", schools_api.TokenRevokeView.as_view(), name="token-current"),
    path(
        "schema/", SpectacularAPIView.as_view(permission_classes=[], authentication_classes=[]), name="schema"
    ),
    path("docs/", api_docs, name="docs"),
    path("schools/", schools_api.SchoolList.as_view(), name="school-list"),
    path("schools/<int:pk>/", schools_api.SchoolDetail.as_view(), name="school-detail"),
    path("behaviour-provisions/", schools_api.ProvisionList.as_view(), name="behaviour-provision-list"),
    path("pupils/", pupils_api.PupilListCreate.as_view(), name="pupil-list"),
    path("pupils/search/", pupils_api.PupilSearch.as_view(), name="pupil-search"),
    path("pupils/import/", pupils_import.PupilImport.as_view(), name="pupil-import"),
    path("pupils/<int:pk>/", pupils_api.PupilDetail.as_view(), name="pupil-detail"),
    path("pupils/<int:pk>/sen-history/", pupils_api.PupilSenHistory.as_view(), name="pupil-sen-history"),
    path("pupils/<int:pk>/outcomes/", pupils_api.PupilOutcomes.as_view(), name="pupil-outcomes"),
    path("pupils/<int:pk>/scores/", pupils_api.PupilScores.as_view(), name="pupil-scores"),
    path("frameworks/", graduated_api.FrameworkList.as_view(), name="framework-list"),
    path("frameworks/<int:pk>/", graduated_api.FrameworkDetail.as_view(), name="framework-detail"),
    path("pupils/<int:pk>/steps/", graduated_api.PupilPlacements.as_view(), name="pupil-placements"),
    path(
        "pupils/<int:pk>/steps/<int:placement_id>/approve/",
        graduated_api.PlacementApprove.as_view(),
        name="pupil-placement-approve",
    ),
    path("support-plans/", api_plans.SupportPlanList.as_view(), name="support-plan-list"),
    path("support-plans/<int:pk>/", api_plans.SupportPlanDetail.as_view(), name="support-plan-detail"),
    path(
        "support-plans/<int:pk>/reviews/", api_plans.SupportPlanReviews.as_view(), name="support-plan-reviews"
    ),
]

# Behaviour observations. Imported here so this block is appended whole, not spliced in.
from graduated_response import api_observations  # noqa: E402

urlpatterns += [
    path("observations/", api_observations.ObservationListCreate.as_view(), name="observation-list"),
    path("observations/<int:pk>/", api_observations.ObservationDetail.as_view(), name="observation-detail"),
]

# The costed provision map and what works. Imported here so this block is appended whole.
from interventions import api_map  # noqa: E402

urlpatterns += [
    path("provision-map/", api_map.ProvisionMapView.as_view(), name="provision-map"),
    path("what-works/", api_map.WhatWorksView.as_view(), name="what-works"),
]

# Interventions: the school's catalogue of provisions, groups, enrolments, sessions and
# attendance. Imported here so this block is appended whole, not spliced in.
from interventions import api as interventions_api  # noqa: E402

urlpatterns += [
    path("provisions/", interventions_api.ProvisionList.as_view(), name="provision-list"),
    path("provisions/<int:pk>/", interventions_api.ProvisionDetail.as_view(), name="provision-detail"),
    path("groups/", interventions_api.GroupList.as_view(), name="group-list"),
    path("groups/<int:pk>/", interventions_api.GroupDetail.as_view(), name="group-detail"),
    path("enrolments/", interventions_api.EnrolmentList.as_view(), name="enrolment-list"),
    path("enrolments/<int:pk>/", interventions_api.EnrolmentDetail.as_view(), name="enrolment-detail"),
    path("sessions/", interventions_api.SessionList.as_view(), name="session-list"),
    path("sessions/<int:pk>/", interventions_api.SessionDetail.as_view(), name="session-detail"),
]

# Partnership budgets: lines, spend, approvals and quarterly figures (issue 6).
# Imported here so this block is appended whole.
from schools import api_budgets  # noqa: E402

urlpatterns += [
    path("budgets/", api_budgets.BudgetList.as_view(), name="budget-list"),
    path("budgets/<int:pk>/", api_budgets.BudgetDetail.as_view(), name="budget-detail"),
    path("budgets/<int:pk>/spend/", api_budgets.BudgetSpend.as_view(), name="budget-spend"),
    path(
        "budgets/<int:pk>/spend/<int:item_id>/approve/",
        api_budgets.SpendApprove.as_view(),
        name="budget-spend-approve",
    ),
]

# Placements in behaviour provisions: refer, start, progress, end, withdraw (issue 6).
# Imported here so this block is appended whole.
from interventions import api_placements  # noqa: E402

urlpatterns += [
    path("placements/", api_placements.PlacementList.as_view(), name="placement-list"),
    path("placements/<int:pk>/", api_placements.PlacementDetail.as_view(), name="placement-detail"),
    path("placements/<int:pk>/start/", api_placements.PlacementStart.as_view(), name="placement-start"),
    path(
        "placements/<int:pk>/progress/", api_placements.PlacementProgress.as_view(), name="placement-progress"
    ),
    path("placements/<int:pk>/end/", api_placements.PlacementEnd.as_view(), name="placement-end"),
    path(
        "placements/<int:pk>/withdraw/", api_placements.PlacementWithdraw.as_view(), name="placement-withdraw"
    ),
]

# Transfers of pupils between schools of an LA (issue 6). Imported here so this block is
# appended whole.
from pupils import api_transfers  # noqa: E402

urlpatterns += [
    path("transfers/", api_transfers.TransferListCreate.as_view(), name="transfer-list"),
    path("transfers/<int:pk>/", api_transfers.TransferDetail.as_view(), name="transfer-detail"),
]

# Behaviour provision KPIs with the partnership's targets (issue 6). Imported here so this
# block is appended whole.
from interventions import api_kpis  # noqa: E402

urlpatterns += [
    path("partnerships/<int:pk>/kpis/", api_kpis.PartnershipKpis.as_view(), name="partnership-kpis"),
]

# Reports: ask for one (202), follow it, download it (issue 7). Imported here so this block
# is appended whole.
from reports import api as reports_api  # noqa: E402

urlpatterns += [
    path("reports/", reports_api.ReportList.as_view(), name="report-list"),
    path("reports/<int:pk>/", reports_api.ReportDetail.as_view(), name="report-detail"),
    path("reports/<int:pk>/pdf/", reports_api.ReportPdf.as_view(), name="report-pdf"),
    path("reports/<int:pk>/snapshot/", reports_api.ReportSnapshot.as_view(), name="report-snapshot"),
]

# The figures dashboards and reports share. Imported here so this block is appended whole.
from dashboards import api as dashboards_api  # noqa: E402

urlpatterns += [path("figures/", dashboards_api.FiguresView.as_view(), name="figures")]
