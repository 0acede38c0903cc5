"""The API's router: every app's viewsets under /api/, the schema and its Swagger UI. It lives
here, above the apps, so no app imports another's API."""

import base64
import hashlib
import re
from functools import cache

from csp.decorators import csp_update
from django.template.loader import get_template
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from assessments.api import LossCurveViewSet
from engagements.api import views
from reports.api import ReportVersionViewSet, VerifyViewSet
from tuning.api import AccuracyComparisonViewSet, AtcConversionViewSet, ProfileViewSet, ServiceConfigViewSet
from workers.api import JobViewSet

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
router.register("accuracy-comparisons", AccuracyComparisonViewSet, basename="accuracycomparison")
router.register("profiles", ProfileViewSet, basename="profile")
router.register("mindie-configs", ServiceConfigViewSet, basename="serviceconfig")
router.register("atc-conversions", AtcConversionViewSet, basename="atcconversion")
router.register("report-verify", VerifyViewSet, basename="reportverify")
router.register("jobs", JobViewSet, basename="job")


def inline_style_hashes(template_name: str) -> tuple[str, ...]:
    """CSP hash sources of the literal ``<style>`` blocks of a template (no template tags inside)."""
    source = get_template(template_name).template.source
    blocks = re.findall(r"<style>(.*?)</style>", source, flags=re.DOTALL)
    return tuple(f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in blocks)


@cache
def _docs_view():
    hashes = inline_style_hashes(SpectacularSwaggerSplitView.template_name)
    return csp_update({"style-src": list(hashes)})(SpectacularSwaggerSplitView.as_view(url_name="schema"))


def swagger_docs(request, *args, **kwargs):
    """Swagger UI under the site's strict CSP: the split view loads its start-up script from
    ``?script`` (same origin, no inline script); of the page's inline code only its own
    ``<style>`` block is allowed, by hash. Everything else comes from the vendored sidecar."""
    return _docs_view()(request, *args, **kwargs)


urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api_token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", swagger_docs, name="api_docs"),
    path("", include(router.urls)),
]
