from django.urls import path

from . import views

urlpatterns = [
    path("engagements/<uuid:uuid>/assessments/", views.engagement_assessments, name="engagement_assessments"),
    path("engagements/<uuid:uuid>/analyses/<int:pk>/", views.analysis_detail, name="analysis_detail"),
]
