"""The acceptance report for every shape of engagement, rendered to a real PDF on PostgreSQL
and read back with pdftotext: each model's verdict must be printed, right.

Shapes: training + inference, inference only (the MindIE route), tuning only, and several
models with one excluded. Also: a render never hangs (every kind of record present, the data
round-trips through the JSONField), and criteria changed after an issue start a new version."""

import json
import re
import subprocess
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from assessments import services as assessment_services
from assessments.models import BenchmarkRun, EvaluationRun, Finding, LossCurve, MigrationAnalysis
from engagements import services as engagement_services
from engagements.models import Engagement, MigrationModel, PerformanceBaseline
from reports import services
from reports.models import ReportVersion
from workers.models import AscendHost, EnvSnapshot, Job

from ..conftest import make_curve
from ..factories import make_engagement

pytestmark = pytest.mark.django_db
STEPS = np.arange(1, 301)
REF = 3.0 * np.exp(-STEPS / 90) + 1.2


def pdf_text(version, tmp_path) -> str:
    path = tmp_path / f"v{version.number}.pdf"
    path.write_bytes(bytes(version.pdf))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"[ \t]+", " ", text)


def rendered(user, engagement, language="en") -> ReportVersion:
    version = services.render_version(services.check_request_render(user, engagement, language).pk)
    assert version.status == ReportVersion.Status.DRAFT, version.failure
    return version


def verdict_line(text: str, name: str) -> str:
    """The line of the per-model verdict table that names the model."""
    table = text.split("1. Verdict per model", 1)[1].split("2. Engagement", 1)[0]
    return next(line for line in table.splitlines() if name in line)


class Records:
    """Evidence as the jobs would leave it, for one engagement."""

    def __init__(self, engagement, user):
        self.engagement, self.user = engagement, user
        self.host = AscendHost.objects.create(customer=engagement.customer, name=f"h-{engagement.pk}",
                                              address="192.0.2.1", username="ascend", auth_method="key", secret="-",
                                              created_by=user)
        self.stage = engagement.stages.get(key="training_tuning")

    def job(self, kind, model=None):
        return Job.objects.create(kind=kind, engagement=self.engagement, stage=self.stage, host=self.host,
                                  started_by=self.user, status="succeeded", exit_code=0, model=model)

    def curves(self, model, factor=1.01, throughput=None):
        gpu = make_curve(self.engagement, "gpu", REF, f"A100 {model.name}", self.user)
        npu = make_curve(self.engagement, "npu", REF * factor, f"910B {model.name}", self.user)
        npu.source, npu.job, npu.model = "job", self.job("training_run", model), model
        npu.throughput = throughput or {"samples_per_s": 900.0}
        npu.save()
        gpu.model = model
        gpu.save()
        assessment_services.check_pair_curves(self.user, self.engagement, gpu, npu, model=model)
        return npu

    def score(self, model, dataset, before, after, **options):
        assessment_services.check_set_score_baseline(self.user, self.engagement, dataset, before, model=model,
                                                     **options)
        EvaluationRun.objects.create(engagement=self.engagement, model=model, job=self.job("evaluation", model),
                                     dataset=dataset, score=after)

    def benchmark(self, model, **summary):
        BenchmarkRun.objects.create(engagement=self.engagement, model=model, job=self.job("inference_benchmark", model),
                                    summary=summary, common={"Concurrency": 10, "Throughput": 0.679},
                                    performance={"InputTokens": {"average": 60.89},
                                                 "GeneratedTokens": {"average": 482}})

    def baseline(self, model, metric, unit, value, direction="higher", category="inference"):
        engagement_services.check_save_performance_baseline(self.user, self.engagement, {
            "model": model, "metric": metric, "unit": unit, "value": value, "direction": direction,
            "category": category})


def engagement_of(pm, customer, consultant, **scope) -> Engagement:
    engagement = make_engagement(pm, customer, consultants=[consultant], **scope)
    engagement.conclusions = "Accepted as measured."
    engagement.save()
    return engagement


def model(engagement, name, scope="both", **fields) -> MigrationModel:
    return MigrationModel.objects.create(engagement=engagement, name=name, task_type="llm", scope=scope, **fields)


def test_training_and_inference_each_model_passes_on_all_its_criteria(pm, consultant, customer_a, tmp_path):
    engagement = engagement_of(pm, customer_a, consultant)
    qwen = model(engagement, "Qwen2-7B")
    records = Records(engagement, consultant)
    records.curves(qwen)
    records.score(qwen, "C-Eval", 70.58, 70.10, mode="absolute", threshold=2)
    records.benchmark(qwen, first_token_ms=97.07, generate_speed_token_s=327.3)
    records.baseline(qwen, "first_token_ms", "s", 0.12, direction="lower")  # 97 ms against 0.12 s
    records.baseline(qwen, "samples_per_s", "samples/s", 850, category="training")
    version = rendered(pm, engagement)
    text = pdf_text(version, tmp_path)
    assert "PASS" in verdict_line(text, "Qwen2-7B")
    assert version.data["overall"] == "pass" and version.data["passed"] is True
    kinds = [c["kind"] for c in version.data["models"][0]["criteria"]]
    assert kinds.count("loss") == 1 and "training_function" in kinds and kinds.count("performance") == 2
    # The absolute score rule in points, with the figures put in.
    assert "|70.1 - 70.58| = 0.48 points < 2 points" in text
    # Milliseconds against a baseline in seconds: converted, 97.07 ms = 0.09707 s, 80.9% of the baseline.
    first_token = next(c for c in version.data["models"][0]["criteria"] if c.get("metric") == "first_token_ms")
    assert first_token["result"]["measured"] == pytest.approx(0.09707) and first_token["verdict"] == "pass"
    assert "concurrency 10" in text  # the benchmark's context


def test_an_inference_only_engagement_passes_on_its_inference_criteria_alone(pm, consultant, customer_a, tmp_path):
    engagement = engagement_of(pm, customer_a, consultant, scope_training_migration=False, scope_tuning=False)
    qwq = model(engagement, "QwQ-32B", scope="inference", precision="bf16")
    records = Records(engagement, consultant)
    records.score(qwq, "GSM8K", 85.0, 86.9)  # better than the baseline by more than 2%: passes, marked so
    records.benchmark(qwq, generate_speed_token_s=327.3, throughput_req_s=0.679)
    records.baseline(qwq, "generate_speed_token_s", "tokens/s", 300)
    version = rendered(pm, engagement)
    text = pdf_text(version, tmp_path)
    assert "PASS" in verdict_line(text, "QwQ-32B") and version.data["overall"] == "pass"
    assert "Loss curve against the GPU reference" not in text and "Training function" not in text
    assert "FAIL" not in text
    assert "better than the baseline" in " ".join(text.split()) and "bf16" in text


def test_a_measurement_in_other_units_is_not_comparable_never_a_fail_and_blocks_issue(pm, consultant, customer_a,
                                                                                       tmp_path):
    engagement = engagement_of(pm, customer_a, consultant, scope_training_migration=False)
    llm = model(engagement, "LLM", scope="inference")
    records = Records(engagement, consultant)
    records.benchmark(llm, throughput_req_s=0.679)
    records.baseline(llm, "throughput_req_s", "tokens/s", 1500)  # req/s measured, tokens/s agreed
    version = rendered(pm, engagement)
    criterion = version.data["models"][0]["criteria"][0]
    assert criterion["verdict"] == "not_comparable" and version.data["overall"] == "incomplete"
    text = pdf_text(version, tmp_path)
    assert "NOT COMPARABLE" in verdict_line(text, "LLM") or "INCOMPLETE" in verdict_line(text, "LLM")
    assert "FAIL" not in text and "req/s" in text and "cannot be issued yet" in text
    with pytest.raises(Exception, match="verdict"):
        services.check_issue(pm, version)


def test_tuning_only_accepts_performance_and_shows_scores_as_out_of_scope(pm, consultant, customer_a, tmp_path):
    engagement = engagement_of(pm, customer_a, consultant, scope_training_migration=False,
                               scope_inference_migration=False, scope_tuning=True)
    yolo = model(engagement, "YOLOv5", scope="training")
    records = Records(engagement, consultant)
    npu = make_curve(engagement, "npu", REF, "910B tuned", consultant)
    npu.throughput, npu.model = {"samples_per_s": 1240.0}, yolo
    npu.save()
    records.baseline(yolo, "samples_per_s", "samples/s", 1000, category="training")
    records.score(yolo, "COCO mAP", 37.4, 30.0)  # would fail, but scores are out of a tuning-only scope
    version = rendered(pm, engagement)
    text = pdf_text(version, tmp_path)
    assert "PASS" in verdict_line(text, "YOLOv5") and version.data["overall"] == "pass"
    assert "Out of scope for this model" in text and "COCO mAP" in text and "FAIL" not in text


def test_several_models_one_excluded_and_one_failing(pm, consultant, customer_a, tmp_path):
    engagement = engagement_of(pm, customer_a, consultant)
    good, bad = model(engagement, "ResNet50"), model(engagement, "BERT-base")
    skipped = model(engagement, "Legacy-LSTM", excluded_reason="The customer retires it before go-live.")
    records = Records(engagement, consultant)
    records.curves(good)
    records.curves(bad, factor=1.05)  # 5% above its reference: fails the 2% threshold
    records.score(good, "ImageNet top-1", 76.1, 75.9)
    version = rendered(pm, engagement)
    text = pdf_text(version, tmp_path)
    assert "PASS" in verdict_line(text, "ResNet50")
    assert "FAIL" in verdict_line(text, "BERT-base")
    assert "EXCLUDED" in verdict_line(text, "Legacy-LSTM") and "before go-live" in text  # the reason, wrapped
    assert version.data["excluded"] == [{"name": "Legacy-LSTM", "reason": "The customer retires it before go-live."}]
    assert version.data["overall"] == "fail"
    assert [m["name"] for m in version.data["models"]] == ["BERT-base", "ResNet50"]  # the excluded one is apart
    assert skipped.name not in [m["name"] for m in version.data["models"]]


def test_evidence_without_a_model_counts_for_the_only_model(pm, consultant, customer_a):
    engagement = engagement_of(pm, customer_a, consultant, scope_tuning=False)
    only = model(engagement, "Only", scope="inference")
    EvaluationRun.objects.create(engagement=engagement, job=Records(engagement, consultant).job("evaluation"),
                                 dataset="ceval", score=70.0)
    assessment_services.check_set_score_baseline(consultant, engagement, "ceval", 70.2, model=only)
    version = rendered(pm, engagement)
    assert version.data["models"][0]["criteria"][0]["verdict"] == "pass"


def test_a_render_with_every_kind_of_record_round_trips_through_the_jsonfield(pm, consultant, customer_a, tmp_path):
    """Lazy labels, Decimals, NaN losses: whatever the records hold, the stored data is JSON."""
    engagement = engagement_of(pm, customer_a, consultant)
    trained, served = model(engagement, "Trained"), model(engagement, "Served", scope="inference")
    records = Records(engagement, consultant)
    records.curves(trained)
    nan_curve = make_curve(engagement, "npu", np.r_[REF[:50], [np.nan], REF[51:]], "nan run", consultant)
    gpu = LossCurve.objects.filter(engagement=engagement, platform="gpu").first()
    assessment_services.check_pair_curves(consultant, engagement, gpu, nan_curve, model=trained)
    records.score(served, "GSM8K", 85, 84.5)
    records.benchmark(served, generate_speed_token_s=300.0)
    records.baseline(served, "generate_speed_token_s", "tokens/s", 280)
    analysis = MigrationAnalysis.objects.create(engagement=engagement, job=records.job("migration_analysis"),
                                                code_dir="/code", files_scanned=3, effort_person_days="2.5")
    for source in Finding.Source.values:
        for fix in Finding.Fix.values:
            Finding.objects.create(analysis=analysis, source=source, category=f"official_{fix}", fix=fix,
                                   file="train.py", line=3, api="torch.cuda.amp")
    assessment_services.check_resolve_findings(consultant, analysis.findings.filter(fix="manual"), "workaround",
                                               "Replaced with torch_npu.npu.amp")
    EnvSnapshot.objects.create(host=records.host, job=records.job("env_probe"), data={
        "npus": [{"name": "910B3", "health": "OK", "hbm_total_mb": 65536}], "driver": {"Version": "24.1.rc1"},
        "cann": {"version": "8.5.0"}, "torch": "2.1.0", "torch_npu": "2.1.0.post8", "os": "openEuler",
        "arch": "aarch64"})
    assessment_services.check_save_tuning_measure(consultant, engagement.stages.get(key="training_tuning"), {
        "model": trained, "change": "Fused the attention operator", "metric": "samples/s", "unit": "samples/s",
        "direction": "higher", "before": 700.0, "after": 900.0})
    version = rendered(pm, engagement)
    stored = ReportVersion.objects.get(pk=version.pk).data
    assert stored == json.loads(json.dumps(stored, allow_nan=False))
    nan_loss = [c for c in stored["models"][1]["criteria"] if c["kind"] == "loss" and c["verdict"] == "fail"]
    assert nan_loss and "NaN" in nan_loss[0]["reason"]
    text = pdf_text(version, tmp_path)
    assert "Replaced with torch_npu.npu.amp" in text and "Fused the attention operator" in text
    assert "+28.6%" in text  # the tuning measure's gain: 700 -> 900 samples/s
    assert "910B3" in text and "official_manual" not in text  # categories in words, not keys


def test_any_failure_marks_the_version_failed_and_a_stale_render_is_reaped(pm, acceptance_ready, monkeypatch,
                                                                           settings):
    def broken(html):
        raise RuntimeError("WeasyPrint ran out of memory")

    monkeypatch.setattr(services, "render_pdf", broken)
    version = services.render_version(services.check_request_render(pm, acceptance_ready, "en").pk)
    assert version.status == "failed" and "out of memory" in version.failure
    stuck = services.check_request_render(pm, acceptance_ready, "en")
    ReportVersion.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(hours=1))
    fresh = services.check_request_render(pm, acceptance_ready, "en")
    settings.REPORT_RENDER_TIMEOUT_SECONDS = 600
    assert services.fail_stale_renders() == 1
    assert ReportVersion.objects.get(pk=stuck.pk).status == "failed"
    assert ReportVersion.objects.get(pk=fresh.pk).status == "rendering"
    assert list(ReportVersion.objects.get(pk=stuck.pk).transitions.values_list("to_status", flat=True)) == [
        "rendering", "failed"]


def test_criteria_changed_after_an_issue_start_a_new_version_named_in_the_next_report(pm, consultant,
                                                                                      acceptance_ready):
    first = rendered(pm, acceptance_ready)
    assert first.data["criteria_version"] == 1
    baseline = PerformanceBaseline.objects.get(engagement=acceptance_ready)
    engagement_services.check_save_performance_baseline(consultant, acceptance_ready, {"value": 110}, baseline)
    acceptance_ready.refresh_from_db()
    assert acceptance_ready.criteria_version == 1  # before the first issue: edited in place
    services.check_issue(pm, first)
    engagement_services.check_save_performance_baseline(consultant, acceptance_ready, {"value": 120}, baseline)
    acceptance_ready.refresh_from_db()
    assert acceptance_ready.criteria_version == 2
    engagement_services.check_save_performance_baseline(consultant, acceptance_ready, {"value": 125}, baseline)
    acceptance_ready.refresh_from_db()
    assert acceptance_ready.criteria_version == 2  # one new version until the next issue
    assert rendered(pm, acceptance_ready).data["criteria_version"] == 2


def test_a_report_without_conclusions_cannot_be_issued(pm, acceptance_ready):
    Engagement.objects.filter(pk=acceptance_ready.pk).update(conclusions="")
    acceptance_ready.refresh_from_db()
    version = rendered(pm, acceptance_ready)
    with pytest.raises(Exception, match="conclusions"):
        services.check_issue(pm, version)
