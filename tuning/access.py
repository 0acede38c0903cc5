"""Who may do what with the tuning evidence (the rules of ``common.access``): staff of the
engagement read it, whoever works on it (its PM, its consultants) changes it; a customer's
contact sees it only where the acceptance report shows it (403 on these pages, 404 outside
their scope)."""

from django.utils.translation import gettext_lazy as _

from common.access import register
from engagements.access import EngagementPart

from .models import AccuracyComparison, AtcConversion, BenchmarkConfig, MeasureEvidence, Profile, ServiceConfig

INTERNAL = _("Tuning evidence is internal to the service provider; the acceptance report shows what it proves.")
CHANGE = _("You can view this engagement but not change it.")


class TuningPart(EngagementPart):
    staff_only = True
    messages = {"view": INTERNAL, "change": CHANGE}


@register
class AccuracyComparisonPolicy(TuningPart):
    model = AccuracyComparison


@register
class ProfilePolicy(TuningPart):
    model = Profile


@register
class ServiceConfigPolicy(TuningPart):
    model = ServiceConfig


@register
class BenchmarkConfigPolicy(TuningPart):
    model = BenchmarkConfig
    engagement_path = "config__engagement"


@register
class AtcConversionPolicy(TuningPart):
    model = AtcConversion


@register
class MeasureEvidencePolicy(TuningPart):
    model = MeasureEvidence
    engagement_path = "measure__engagement"
