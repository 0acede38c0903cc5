from django.urls import path

from . import views

urlpatterns = [
    path("hosts/", views.host_list, name="host_list"),
    path("hosts/<uuid:uuid>/", views.host_detail, name="host_detail"),
    path("hosts/<uuid:uuid>/edit/", views.host_edit, name="host_edit"),
    path("hosts/<uuid:uuid>/pin-key/", views.host_pin_key, name="host_pin_key"),
    path("hosts/<uuid:uuid>/test/", views.host_test, name="host_test"),
    path("stages/<uuid:uuid>/jobs/", views.stage_jobs, name="stage_jobs"),
    path("jobs/<uuid:uuid>/", views.job_detail, name="job_detail"),
    path("jobs/<uuid:uuid>/live/", views.job_live, name="job_live"),
    path("jobs/<uuid:uuid>/log/", views.job_log, name="job_log"),
    path("jobs/<uuid:uuid>/cancel/", views.job_cancel, name="job_cancel"),
    path("jobs/<uuid:uuid>/save-template/", views.job_save_template, name="job_save_template"),
    path("job-templates/<uuid:uuid>/", views.job_template_edit, name="job_template_edit"),
    path("job-templates/<uuid:uuid>/launch/", views.job_template_launch, name="job_template_launch"),
    path("job-templates/<uuid:uuid>/delete/", views.job_template_delete, name="job_template_delete"),
]
