from csp.decorators import csp_replace
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from assessments.api import LossCurveViewSet
from reports.api import ReportVersionViewSet, VerifyViewSet

from . import views

router = DefaultRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("engagements", views.EngagementViewSet, basename="engagement")
router.register("models", views.MigrationModelViewSet, basename="migrationmodel")
router.register("stages", views.StageViewSet, basename="stage")
router.register("checklist-items", views.ChecklistItemViewSet, basename="checklistitem")
router.register("worklogs", views.WorkLogViewSet, basename="worklog")
router.register("risks", views.RiskViewSet, basename="risk")
router.register("loss-curves", LossCurveViewSet, basename="losscurve")
router.register("report-versions", ReportVersionViewSet, basename="reportversion")
router.register("report-verify", VerifyViewSet, basename="reportverify")

# Swagger UI runs inline scripts and styles: the page (and only it) relaxes the policy.
docs = csp_replace({"script-src": ["'self'", "'unsafe-inline'"], "style-src": ["'self'", "'unsafe-inline'"],
                    "img-src": ["'self'", "data:"]})(SpectacularSwaggerView.as_view(url_name="schema"))

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api_token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", docs, name="api_docs"),
    path("", include(router.urls)),
]
