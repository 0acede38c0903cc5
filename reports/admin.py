from django.contrib import admin
from django.core.exceptions import ValidationError

from .models import (
    CloudLine,
    FirmProfile,
    Quote,
    QuoteEvent,
    QuoteLine,
    RateCardItem,
    ReauthEvent,
    ReportPageView,
    ReportVersion,
    ReportVersionTransition,
    SignOffEvent,
    StageServiceMapping,
)
from .quotes import check_delete_rate_item


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SignOffInline(ReadOnly, admin.TabularInline):
    model = SignOffEvent
    exclude = ["signed_pdf"]


class TransitionInline(ReadOnly, admin.TabularInline):
    model = ReportVersionTransition


class PageViewInline(ReadOnly, admin.TabularInline):
    """Which pages of the version the portal served to which contact (review before sign-off)."""

    model = ReportPageView
    fields = ["user", "page", "first_viewed_at"]


@admin.register(ReportVersion)
class ReportVersionAdmin(ReadOnly, admin.ModelAdmin):
    """Versions are immutable: rendered, issued and signed through the portal only."""

    list_display = ["engagement", "kind", "number", "language", "status", "sha256", "rendered_at"]
    list_filter = ["status", "language"]
    exclude = ["pdf", "data"]
    inlines = [TransitionInline, SignOffInline, PageViewInline]


@admin.register(RateCardItem)
class RateCardItemAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "category", "rate", "placeholder", "valid_from", "valid_to"]
    list_filter = ["category", "placeholder"]

    def get_readonly_fields(self, request, obj=None):
        """A rate in use by a quote stays as it was quoted: a new price is a new row with a later
        ``valid_from``; the old row only gets an end date."""
        if obj is not None and obj.quote_lines.exists():
            return ["code", "category", "name_en", "name_zh", "rate", "valid_from", "position"]
        return []

    def delete_model(self, request, obj):
        try:
            check_delete_rate_item(request.user, obj)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), level="error")


class LineInline(ReadOnly, admin.TabularInline):
    model = QuoteLine


class CloudInline(ReadOnly, admin.TabularInline):
    model = CloudLine


class EventInline(ReadOnly, admin.TabularInline):
    model = QuoteEvent


@admin.register(Quote)
class QuoteAdmin(ReadOnly, admin.ModelAdmin):
    """Quotes change through the portal's quote pages (drafts only; sent ones are frozen)."""

    list_display = ["number", "version", "customer", "engagement", "status", "created_at"]
    list_filter = ["status"]
    inlines = [LineInline, CloudInline, EventInline]


@admin.register(StageServiceMapping)
class StageServiceMappingAdmin(admin.ModelAdmin):
    list_display = ["stage_key", "item_code"]


@admin.register(ReauthEvent)
class ReauthEventAdmin(ReadOnly, admin.ModelAdmin):
    """The audit of passwords typed again before decisions (read-only; unlock with
    ``manage.py reauth_unlock``)."""

    list_display = ["at", "user", "kind", "purpose", "ip", "actor"]
    list_filter = ["kind", "purpose"]


@admin.register(FirmProfile)
class FirmProfileAdmin(admin.ModelAdmin):
    list_display = ["name_zh", "name_en", "tax_number", "updated_at"]

    def has_add_permission(self, request):
        return not FirmProfile.objects.exists()  # one firm: the portal's
