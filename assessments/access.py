"""Who may do what with analyses, findings, loss curves, comparisons and baselines (the
rules of ``common.access``): staff of the engagement read them, whoever works on it changes
them; a customer's contact sees them only in the acceptance report."""

from django.utils.translation import gettext_lazy as _

from common.access import register
from engagements.access import EngagementPart

from .models import (
    BenchmarkRun,
    CurvePair,
    EvaluationRun,
    Finding,
    LossCurve,
    MigrationAnalysis,
    ScoreBaseline,
    TuningMeasure,
)

INTERNAL = _("Assessments are internal to the service provider.")
CHANGE = _("You can view this engagement but not change it.")


class AssessmentPart(EngagementPart):
    staff_only = True
    messages = {"view": INTERNAL, "change": CHANGE}


@register
class MigrationAnalysisPolicy(AssessmentPart):
    model = MigrationAnalysis


@register
class FindingPolicy(AssessmentPart):
    model = Finding
    engagement_path = "analysis__engagement"


@register
class LossCurvePolicy(AssessmentPart):
    model = LossCurve


@register
class CurvePairPolicy(AssessmentPart):
    model = CurvePair


@register
class ScoreBaselinePolicy(AssessmentPart):
    model = ScoreBaseline


@register
class BenchmarkRunPolicy(AssessmentPart):
    model = BenchmarkRun


@register
class EvaluationRunPolicy(AssessmentPart):
    model = EvaluationRun


@register
class TuningMeasurePolicy(AssessmentPart):
    model = TuningMeasure
