from django.urls import path

from . import views

urlpatterns = [
    path("engagements/<uuid:uuid>/assessments/", views.engagement_assessments, name="engagement_assessments"),
    path("engagements/<uuid:uuid>/analyses/<int:pk>/", views.analysis_detail, name="analysis_detail"),
    path("engagements/<uuid:uuid>/curves/upload/", views.curve_upload, name="curve_upload"),
    path("engagements/<uuid:uuid>/curves/pair/", views.curve_pair, name="curve_pair"),
    path("engagements/<uuid:uuid>/curves/pairs/<int:pk>/remove/", views.curve_unpair, name="curve_unpair"),
    path("engagements/<uuid:uuid>/score-baselines/", views.score_baseline, name="score_baseline"),
    path("engagements/<uuid:uuid>/score-baselines/<int:pk>/remove/", views.score_baseline_delete,
         name="score_baseline_delete"),
    path("engagements/<uuid:uuid>/performance-baselines/", views.performance_baseline, name="performance_baseline"),
    path("engagements/<uuid:uuid>/performance-baselines/<int:pk>/remove/", views.performance_baseline_delete,
         name="performance_baseline_delete"),
    path("engagements/<uuid:uuid>/models/<uuid:model_uuid>/acceptance/", views.model_acceptance,
         name="model_acceptance"),
    path("engagements/<uuid:uuid>/analyses/<int:pk>/resolve/", views.findings_resolve, name="findings_resolve"),
    path("stages/<uuid:uuid>/tuning-measures/", views.tuning_measure, name="tuning_measure"),
    path("tuning-measures/<uuid:uuid>/remove/", views.tuning_measure_delete, name="tuning_measure_delete"),
]
