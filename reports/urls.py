from django.urls import path

from . import views

urlpatterns = [
    path("engagements/<uuid:uuid>/reports/", views.engagement_reports, name="engagement_reports"),
    path("reports/verify/", views.verify, name="report_verify"),
    path("reports/<uuid:uuid>/", views.version_detail, name="version_detail"),
    path("reports/<uuid:uuid>/preview/", views.version_preview, name="version_preview"),
    path("reports/<uuid:uuid>/pdf/", views.version_pdf, name="version_pdf"),
    path("reports/<uuid:uuid>/signed.pdf", views.signed_pdf, name="signed_pdf"),
    path("reports/<uuid:uuid>/issue/", views.version_issue, name="version_issue"),
    path("reports/<uuid:uuid>/sign/", views.version_decide, {"decision": "sign"}, name="version_sign"),
    path("reports/<uuid:uuid>/reject/", views.version_decide, {"decision": "reject"}, name="version_reject"),
]
