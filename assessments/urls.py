from django.urls import path

from . import views

urlpatterns = [
    path("engagements/<uuid:uuid>/assessments/", views.engagement_assessments, name="engagement_assessments"),
    path("engagements/<uuid:uuid>/analyses/<int:pk>/", views.analysis_detail, name="analysis_detail"),
    path("engagements/<uuid:uuid>/curves/upload/", views.curve_upload, name="curve_upload"),
    path("engagements/<uuid:uuid>/curves/pair/", views.curve_pair, name="curve_pair"),
    path("engagements/<uuid:uuid>/curves/pairs/<int:pk>/remove/", views.curve_unpair, name="curve_unpair"),
    path("engagements/<uuid:uuid>/score-baselines/", views.score_baseline, name="score_baseline"),
]
