"""The engagement's assessment records in the browser: analyses with their findings, loss
curves, benchmark and evaluation results. Internal to the service provider."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from engagements.models import Engagement

from .charts import curve_chart
from .models import Finding, MigrationAnalysis
from .services import finding_counts


def _staff_engagement(request, uuid) -> Engagement:
    if not request.user.is_provider_staff:
        raise Http404
    return get_object_or_404(Engagement.objects.visible_to(request.user), uuid=uuid)


@login_required
def engagement_assessments(request, uuid):
    engagement = _staff_engagement(request, uuid)
    curves = list(engagement.loss_curves.select_related("job", "model")[:20])
    return render(request, "assessments/engagement_assessments.html", {
        "engagement": engagement,
        "analyses": engagement.analyses.select_related("job__host").all()[:20],
        "curves": [(curve, curve_chart(curve, width=320, height=80)) for curve in curves],
        "benchmarks": engagement.benchmark_runs.select_related("job")[:20],
        "evaluations": engagement.evaluation_runs.select_related("job")[:20],
    })


@login_required
def analysis_detail(request, uuid, pk):
    engagement = _staff_engagement(request, uuid)
    analysis = get_object_or_404(MigrationAnalysis.objects.select_related("job__host"), pk=pk, engagement=engagement)
    findings = analysis.findings.all()
    filters = {name: request.GET.get(name, "").strip() for name in ("source", "category", "fix", "file")}
    if filters["source"]:
        findings = findings.filter(source=filters["source"])
    if filters["category"]:
        findings = findings.filter(category=filters["category"])
    if filters["fix"]:
        findings = findings.filter(fix=filters["fix"])
    if filters["file"]:
        findings = findings.filter(file__icontains=filters["file"])
    page = Paginator(findings, 100).get_page(request.GET.get("page"))
    counts = finding_counts(analysis)
    return render(request, "assessments/analysis_detail.html", {
        "engagement": engagement, "analysis": analysis, "page": page, "filters": filters, "counts": counts,
        "categories": sorted({row["category"] for row in counts}), "fixes": Finding.Fix.choices,
        "sources": Finding.Source.choices, "total": sum(row["count"] for row in counts),
        "query": urlencode({k: v for k, v in filters.items() if v}),
    })
