from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("config.api")),
    path("", include("workers.urls")),
    path("", include("assessments.urls")),
    path("", include("tuning.urls")),
    path("", include("reports.urls")),
    path("", include("inbox.urls")),
    path("", include("engagements.urls")),
]
