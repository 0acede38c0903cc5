from django.contrib import admin

from .models import NotificationSetting, Notified


@admin.register(NotificationSetting)
class NotificationSettingAdmin(admin.ModelAdmin):
    list_display = ["user", "frequency"]
    list_filter = ["frequency"]


@admin.register(Notified)
class NotifiedAdmin(admin.ModelAdmin):
    list_display = ["user", "key", "sent_at"]

    def has_add_permission(self, request):
        return False
