from django.contrib.auth import views as auth_views
from django.urls import path

from . import questionnaire_views, setup_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/language/", views.set_language, name="set_language"),
    path("engagements/", views.engagement_list, name="engagement_list"),
    path("engagements/new/", setup_views.engagement_new, name="engagement_new"),
    path("engagements/<uuid:uuid>/", views.engagement_detail, name="engagement_detail"),
    path("engagements/<uuid:uuid>/edit/", setup_views.engagement_edit, name="engagement_edit"),
    path("engagements/<uuid:uuid>/close/", setup_views.engagement_close, name="engagement_close"),
    path("customers/", setup_views.customer_list, name="customer_list"),
    path("customers/<uuid:uuid>/", setup_views.customer_detail, name="customer_detail"),
    path("customers/<uuid:uuid>/contacts/<int:user_id>/reinvite/", setup_views.contact_reinvite,
         name="contact_reinvite"),
    path("account/set-password/<uidb64>/<token>/", setup_views.SetPasswordView.as_view(), name="set_password"),
    path("engagements/<uuid:uuid>/risks/", views.risk_register, name="risk_register"),
    path("engagements/<uuid:uuid>/risks/<uuid:risk_uuid>/delete/", views.risk_delete, name="risk_delete"),
    path("engagements/<uuid:uuid>/questionnaire/", questionnaire_views.questionnaire_page, name="questionnaire"),
    path("engagements/<uuid:uuid>/questionnaire/start/", questionnaire_views.questionnaire_start,
         name="questionnaire_start"),
    path("engagements/<uuid:uuid>/questionnaire/<str:action>/", questionnaire_views.questionnaire_action,
         name="questionnaire_action"),
    path("stages/<uuid:uuid>/", views.stage_detail, name="stage_detail"),
    path("stages/<uuid:uuid>/transition/", views.stage_transition, name="stage_transition"),
    path("stages/<uuid:uuid>/plan/", views.stage_plan, name="stage_plan"),
    path("stages/<uuid:uuid>/checklist/<int:item_id>/", views.checklist_item_state, name="checklist_item_state"),
    path("stages/<uuid:uuid>/worklogs/", views.log_work, name="log_work"),
    path("stages/<uuid:uuid>/worklogs/<uuid:log_uuid>/delete/", views.worklog_delete, name="worklog_delete"),
    path("stages/<uuid:uuid>/deliverables/", views.deliverable_upload, name="deliverable_upload"),
    path("deliverables/<uuid:uuid>/", views.deliverable_download, name="deliverable_download"),
]
