from django.urls import path

from . import firm_views, quote_views, views

urlpatterns = [
    path("quotes/", quote_views.quote_list, name="quote_list"),
    path("firm/", firm_views.firm_settings, name="firm_settings"),
    path("quotes/<uuid:uuid>/", quote_views.quote_detail, name="quote_detail"),
    path("quotes/<uuid:uuid>/send/", quote_views.quote_action, {"action": "send"}, name="quote_send"),
    path("quotes/<uuid:uuid>/revise/", quote_views.quote_action, {"action": "revise"}, name="quote_revise"),
    path("quotes/<uuid:uuid>/header/", quote_views.quote_header, name="quote_header"),
    path("quotes/<uuid:uuid>/accept/", quote_views.quote_decide, {"decision": "accept"}, name="quote_accept"),
    path("quotes/<uuid:uuid>/reject/", quote_views.quote_decide, {"decision": "reject"}, name="quote_reject"),
    path("quotes/<uuid:uuid>/export.<str:fmt>", quote_views.quote_export, name="quote_export"),
    path("engagements/<uuid:uuid>/quote-from-plan/", quote_views.quote_from_plan, name="quote_from_plan"),
    path("engagements/<uuid:uuid>/analyses/<int:pk>/quote/", quote_views.quote_from_analysis,
         name="quote_from_analysis"),
    path("engagements/<uuid:uuid>/economics/", quote_views.engagement_economics, name="engagement_economics"),
    path("timesheets/", quote_views.timesheets, name="timesheets"),
    path("engagements/<uuid:uuid>/reports/", views.engagement_reports, name="engagement_reports"),
    path("engagements/<uuid:uuid>/reports/write-up/", views.acceptance_writeup, name="acceptance_writeup"),
    path("reports/verify/", views.verify, name="report_verify"),
    path("reports/<uuid:uuid>/", views.version_detail, name="version_detail"),
    path("reports/<uuid:uuid>/preview/", views.version_preview, name="version_preview"),
    path("reports/<uuid:uuid>/pages/<int:number>.png", views.version_page, name="version_page"),
    path("reports/<uuid:uuid>/pdf/", views.version_pdf, name="version_pdf"),
    path("reports/<uuid:uuid>/signed.pdf", views.signed_pdf, name="signed_pdf"),
    path("reports/<uuid:uuid>/issue/", views.version_issue, name="version_issue"),
    path("reports/<uuid:uuid>/sign/", views.version_decide, {"decision": "sign"}, name="version_sign"),
    path("reports/<uuid:uuid>/reject/", views.version_decide, {"decision": "reject"}, name="version_reject"),
    path("reports/<uuid:uuid>/acknowledge/", views.version_acknowledge, name="version_acknowledge"),
]
