from django.urls import path

from . import views

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("account/notifications/", views.notification_settings, name="notification_settings"),
]
