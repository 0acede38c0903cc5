from django.urls import path

from . import views

urlpatterns = [
    path("engagements/<uuid:uuid>/tuning/", views.tuning_evidence, name="tuning_evidence"),
    path("engagements/<uuid:uuid>/tuning/accuracy/", views.accuracy_upload, name="accuracy_upload"),
    path("engagements/<uuid:uuid>/tuning/profiles/", views.profile_upload, name="profile_upload"),
    path("engagements/<uuid:uuid>/tuning/profiles/compare/", views.profile_compare, name="profile_compare"),
    path("engagements/<uuid:uuid>/tuning/mindie-configs/", views.service_config_upload,
         name="service_config_upload"),
    path("engagements/<uuid:uuid>/tuning/benchmarks/", views.benchmark_compare, name="benchmark_compare"),
    path("engagements/<uuid:uuid>/tuning/atc/", views.atc_upload, name="atc_upload"),
    path("tuning/accuracy/<uuid:uuid>/", views.accuracy_detail, name="accuracy_detail"),
    path("tuning/accuracy/<uuid:uuid>/remove/", views.accuracy_delete, name="accuracy_delete"),
    path("tuning/profiles/<uuid:uuid>/", views.profile_detail, name="profile_detail"),
    path("tuning/profiles/<uuid:uuid>/remove/", views.profile_delete, name="profile_delete"),
    path("tuning/mindie-configs/<uuid:uuid>/", views.service_config_detail, name="service_config_detail"),
    path("tuning/mindie-configs/<uuid:uuid>/remove/", views.service_config_delete, name="service_config_delete"),
    path("tuning/benchmarks/<int:pk>/config/", views.benchmark_config, name="benchmark_config"),
    path("tuning/atc/<uuid:uuid>/", views.atc_detail, name="atc_detail"),
    path("tuning/atc/<uuid:uuid>/remove/", views.atc_delete, name="atc_delete"),
    path("stages/<uuid:uuid>/tuning-evidence/", views.measure_evidence, name="measure_evidence"),
]
