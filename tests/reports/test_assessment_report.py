"""The migration assessment report (迁移评估报告): its contents in both languages (read back from
the PDF with pdftotext), the issue and acknowledgement flow, who sees what, and that the acceptance
report's flow is unchanged beside it.

The engagement's records are made the way the portal makes them: the real scanner runs over a
small code tree and its report is recorded by the migration-analysis job kind; the environment
snapshot comes from the probe's parser reading a real npu-smi output; findings are handled with
the assessments service."""

import datetime
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from assessments.kinds import env_probe, migration_analysis
from assessments.models import Finding
from assessments.scanner import ascend_scan
from assessments.services import check_resolve_findings
from common import access
from engagements.models import Stage
from reports import review, services
from reports.models import ReportVersion, SignOffEvent
from tests.factories import MigrationModelFactory, RiskFactory
from workers.models import AscendHost, Job

SAMPLES = Path(__file__).resolve().parents[1] / "workers" / "samples"
RISK = "HCCL bandwidth between the two training nodes is unknown"
MITIGATION = "Measure it with hccl_test during environment setup"
NOTE = "Replaced by torch_npu's fused Adam; checked on 200 steps"
OP_NOTE = "Rewrite as an AscendC kernel"
GRID_NOTE = "Kept on the CPU: only used for augmentation"

CODE = {
    "train.py": (
        "import torch\n"
        "import apex\n"
        "from apex.optimizers import FusedAdam\n"
        "model = torch.nn.Linear(4, 4).cuda()\n"
        "opt = FusedAdam(model.parameters())\n"
        "scripted = torch.jit.script(model)\n"
        "torch.distributed.init_process_group('nccl')\n"
        "import torch.nn.functional as F\n"
        "warped = F.grid_sample(model.weight[None, None], torch.zeros(1, 2, 2, 2))\n"
        "scores = torch.baddbmm(torch.zeros(1, 2, 2), torch.ones(1, 2, 2), torch.ones(1, 2, 2))\n"
    ),
    "ops/roi_align_kernel.cu": "__global__ void roi_align_forward(float *x) { }\n",
}


def pdf_text(data: bytes, tmp_path, mode: str = "-layout") -> str:
    path = tmp_path / "assessment.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", mode, str(path), "-"], capture_output=True, text=True, check=True).stdout


def flat(text: str) -> str:
    """Without white space: table cells wrap words across lines."""
    return "".join(text.split())


def cells(data: bytes, tmp_path) -> str:
    """The PDF's text in content order (a table cell's lines together), without white space."""
    return flat(pdf_text(data, tmp_path, "-raw"))


@pytest.fixture
def assessment_ready(engagement, consultant, tmp_path):
    """The survey's records: two models, a probed host, an analysis by the real scanner with
    handled findings, a risk and a stage plan."""
    MigrationModelFactory(engagement=engagement, name="YOLOv5s", size="46 MB")
    MigrationModelFactory(engagement=engagement, name="Qwen-14B-Chat", task_type="llm", size="14B parameters",
                          scope="inference")
    host = AscendHost.objects.create(customer=engagement.customer, name="gz-910b-01", address="192.0.2.10",
                                     username="ascend", auth_method="key", secret="-", created_by=consultant)
    survey = engagement.stages.get(key="survey")

    def job(kind, **parameters):
        return Job.objects.create(kind=kind, engagement=engagement, stage=survey, host=host, started_by=consultant,
                                  status="succeeded", exit_code=0, parameters=parameters)

    sections = {
        "npu_smi": (SAMPLES / "npu-smi_info_910B3_8cards_idle.txt").read_text(encoding="utf-8"),
        "driver": "Version=24.1.rc2\n", "firmware": "Version=7.5.0.1.129\n",
        "cann_install_info": "version=8.0.RC3\ninnerversion=V100R001C19SPC001\n",
        "os_release": 'PRETTY_NAME="openEuler 22.03 (LTS-SP4)"\n', "uname": "Linux 5.10.0 aarch64\n",
        "python": "Python 3.10.12\n", "torch": "2.1.0\n",
        "torch_npu": "Traceback (most recent call last):\nModuleNotFoundError: No module named 'torch_npu'\n",
    }
    env_probe.record(job("env_probe"), env_probe.snapshot_from_sections(sections))

    code = tmp_path / "code"
    for name, text in CODE.items():
        (code / name).parent.mkdir(parents=True, exist_ok=True)
        (code / name).write_text(text)
    report = ascend_scan.scan(str(code))
    migration_analysis.record(job("migration_analysis", code_dir="/home/ascend/yolov5"), {
        "summary": report["summary"], "effort": report["effort"], "findings": report["findings"],
        "files_scanned": report["files_scanned"], "official_tool_ran": False, "official": []})
    findings = Finding.objects.filter(analysis__engagement=engagement)
    assert findings.filter(fix="port_custom_op").exists() and findings.filter(fix="manual").exists()
    check_resolve_findings(consultant, findings.filter(api__startswith="apex"), Finding.Resolution.WORKAROUND, NOTE)
    check_resolve_findings(consultant, findings.filter(fix="port_custom_op"), Finding.Resolution.OPEN, OP_NOTE)
    check_resolve_findings(consultant, findings.filter(api="torch.nn.functional.grid_sample"),
                           Finding.Resolution.WONT_FIX, GRID_NOTE)

    RiskFactory(engagement=engagement, description=RISK, mitigation=MITIGATION)
    start = datetime.date(2026, 3, 2)
    for offset, stage in enumerate(engagement.stages.order_by("order")):
        Stage.objects.filter(pk=stage.pk).update(
            planned_start=start + datetime.timedelta(days=7 * offset),
            planned_end=start + datetime.timedelta(days=7 * offset + 4),
            planned_person_days=Decimal("2.5") + offset)
    engagement.refresh_from_db()
    return engagement


def rendered(user, engagement, language="en", kind=ReportVersion.Kind.ASSESSMENT) -> ReportVersion:
    version = services.check_request_render(user, engagement, language, kind=kind)
    return services.render_version(version.pk)


# --- contents -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_english_report_holds_every_section(consultant, assessment_ready, tmp_path):
    version = rendered(consultant, assessment_ready, "en")
    assert version.status == "draft", version.failure
    assert version.kind == "assessment" and version.number == 1 and len(version.sha256) == 64
    assert version.filename.endswith("-assessment-v1-en.pdf")
    text = pdf_text(bytes(version.pdf), tmp_path)
    squashed = cells(bytes(version.pdf), tmp_path)
    for heading in ("Migration assessment report", "1. Scope and models", "2. Environment findings",
                    "3. Migration analysis summary", "4. Unsupported operators and advisories",
                    "5. Custom operators to port", "6. Effort estimate", "7. Risks", "8. Recommended plan"):
        assert heading in text, heading
    # Scope and models.
    assert "YOLOv5s" in text and "Qwen-14B-Chat" in text and "14Bparameters" in squashed
    # Environment: the probe's findings for the customer's host, and what it flagged.
    assert "gz-910b-01" in text and "910B3" in text and "24.1.rc2" in text and "8.0.RC3" in text
    assert flat("torch_npu is not installed or could not be imported.") in squashed
    # Analysis summary and the handled findings with their planned handling.
    assert "Mixed precision (AMP / apex)" in text and "TorchScript (jit)" in text
    assert flat(NOTE) in squashed and "Worked around" in text
    # Unsupported APIs first, then precision advisories, by the scanner's categories.
    assert "4.1 API on the official unsupported list" in text and "4.2 Precision advisory" in text
    assert "torch.nn.functional.grid_sample" in text and flat(GRID_NOTE) in squashed and "torch.baddbmm" in text
    # Custom operators to port.
    assert "ops/roi_align_kernel.cu" in squashed and flat(OP_NOTE) in squashed
    # The effort and its formula, the figure as the analysis recorded it.
    analysis = assessment_ready.analyses.get()
    assert flat("rounded up to the nearest 0.5 person-day") in squashed
    assert flat(analysis.effort_basis[:60]) in squashed
    assert version.data["analysis"]["effort"]["person_days"] == float(analysis.effort_person_days) > 0
    # Risks and the recommended plan (stages in scope, with dates and person-days).
    assert flat(RISK) in squashed and flat(MITIGATION) in squashed
    assert "Environment setup" in text and "2026-03-16" in text and "2026-03-20" in text
    assert version.data["plan"]["total_person_days"] == sum(s["person_days"] for s in version.data["plan"]["stages"])


@pytest.mark.django_db
def test_the_chinese_report_speaks_chinese(consultant, assessment_ready, tmp_path):
    with translation.override("en"):  # the worker's active language must not leak in
        version = rendered(consultant, assessment_ready, "zh-hans")
    assert version.status == "draft", version.failure
    squashed = cells(bytes(version.pdf), tmp_path)
    with translation.override("zh-hans"):
        expected = [gettext("Migration assessment report"), gettext("Risks"), gettext("Effort estimate"),
                    gettext("Environment setup"), gettext("Worked around"), gettext("Network")]
    assert "环境搭建准备" in expected  # the stage names are translated already
    for words in expected:
        assert flat(words) in squashed, words
    assert flat(NOTE) in squashed and flat(RISK) in squashed and "2026-03-16" in squashed
    apex = Finding.objects.filter(analysis__engagement=assessment_ready, api__startswith="apex").first()
    assert apex.message_zh and flat(apex.message_zh)[:20] in squashed  # the scanner's Chinese message
    assert "Environmentsetup" not in squashed
    assert version.data["language"] == "zh-hans"


@pytest.mark.django_db
def test_an_engagement_without_records_still_renders(consultant, engagement, tmp_path):
    version = rendered(consultant, engagement, "en")
    assert version.status == "draft", version.failure
    text = pdf_text(bytes(version.pdf), tmp_path)
    assert "No migration analysis has run for this engagement yet." in text
    assert "No Ascend host of the customer is registered yet." in text


# --- issue, read, acknowledge -------------------------------------------------------------------

@pytest.mark.django_db
def test_a_pm_issues_and_the_contact_acknowledges_what_they_read(
        pm, consultant, contact, stranger, assessment_ready, django_capture_on_commit_callbacks):
    version = rendered(consultant, assessment_ready)
    assert not access.scope(contact, ReportVersion).filter(pk=version.pk).exists()  # a draft is not theirs
    with pytest.raises(PermissionDenied):
        services.check_issue(consultant, version)
    with django_capture_on_commit_callbacks(execute=True):
        services.check_issue(pm, version)  # no PASS verdict nor conclusions asked of an assessment
    assert [m.to for m in mail.outbox] == [[contact.email]]
    assert "assessment report" in mail.outbox[0].subject and f"/reports/{version.uuid}/" in mail.outbox[0].body
    version.refresh_from_db()
    assert version.status == "issued" and version.status_label == "Issued"

    for other in (pm, consultant):
        with pytest.raises(PermissionDenied):
            services.check_acknowledge(other, version)
    with pytest.raises(PermissionDenied):  # it is acknowledged, never signed off
        services.check_sign_off(contact, version, password="correct-horse-battery", name="A", title="B",
                                confirm=True)
    with pytest.raises(ValidationError, match="Read every page"):
        services.check_acknowledge(contact, version)
    review.record_whole(contact, version)
    event = services.check_acknowledge(contact, version, {"REMOTE_ADDR": "10.1.2.3", "HTTP_USER_AGENT": "pytest"})
    version.refresh_from_db()
    assert version.status == ReportVersion.Status.ACKNOWLEDGED
    assert (event.action, event.user, event.version_sha256, event.ip) == ("acknowledged", contact, version.sha256,
                                                                          "10.1.2.3")
    issued, acknowledged = version.events.order_by("pk")
    assert acknowledged.previous_hash == issued.hash and services.chain_is_intact()
    with pytest.raises(ValueError):
        acknowledged.save()  # append-only, like the sign-offs
    with pytest.raises(ValidationError):
        services.check_acknowledge(contact, version)  # once
    verified = services.verify_pdf(bytes(version.pdf))
    assert verified["report_kind"] == "assessment" and verified["acknowledged_by"] == event.signer_name
    assert verified["signed_by"] is None


@pytest.mark.django_db
def test_in_the_portal_the_contact_reads_only_issued_versions_and_acknowledges(
        client, pm, consultant, contact, stranger, assessment_ready):
    client.force_login(consultant)
    response = client.post(reverse("engagement_reports", args=[assessment_ready.uuid]),
                           {"language": "en", "kind": "assessment"})
    assert response.status_code == 302 and response["Location"].endswith("#assessment-report")
    version = ReportVersion.objects.get(kind="assessment")
    services.render_version(version.pk)  # what the worker does (a worker renders it in the test below)
    draft = rendered(consultant, assessment_ready)  # v2, never issued

    client.force_login(contact)
    for name in ("version_detail", "version_pdf", "version_preview"):
        assert client.get(reverse(name, args=[version.uuid])).status_code == 404, name
    assert client.post(reverse("version_acknowledge", args=[version.uuid])).status_code == 404

    client.force_login(pm)
    assert client.post(reverse("version_issue", args=[version.uuid])).status_code == 302
    page = client.get(reverse("engagement_reports", args=[assessment_ready.uuid])).content.decode()
    assert "Migration assessment report" in page and 'data-testid="render-assessment"' in page

    client.force_login(contact)
    page = client.get(reverse("engagement_reports", args=[assessment_ready.uuid])).content.decode()
    assert f'href="/reports/{version.uuid}/"' in page and str(draft.uuid) not in page
    assert 'data-testid="render-assessment"' not in page
    detail = client.get(reverse("version_detail", args=[version.uuid])).content.decode()
    assert 'data-testid="acknowledge"' in detail and 'data-review-gate disabled' in detail
    assert client.get(reverse("version_detail", args=[draft.uuid])).status_code == 404
    assert client.post(reverse("version_acknowledge", args=[version.uuid])).status_code == 400  # not read yet
    number = 1
    while client.get(reverse("version_page", args=[version.uuid, number])).status_code == 200:
        number += 1
    assert number > 2  # several pages, each served
    assert client.post(reverse("version_acknowledge", args=[version.uuid])).status_code == 302
    detail = client.get(reverse("version_detail", args=[version.uuid])).content.decode()
    assert 'data-testid="acknowledged"' in detail and "Acknowledged" in detail
    event = SignOffEvent.objects.get(version=version, action="acknowledged")
    version.refresh_from_db()
    assert event.user == contact and event.version_sha256 == version.sha256

    client.force_login(stranger)
    for name in ("version_detail", "version_pdf"):
        assert client.get(reverse(name, args=[version.uuid])).status_code == 404
    assert client.get(reverse("engagement_reports", args=[assessment_ready.uuid])).status_code == 404


@pytest.mark.django_db
def test_the_api_lists_downloads_and_acknowledges(client, pm, consultant, contact, stranger, assessment_ready):
    version = rendered(consultant, assessment_ready)
    services.check_issue(pm, version)
    acceptance = rendered(consultant, assessment_ready, kind=ReportVersion.Kind.ACCEPTANCE)
    client.force_login(consultant)
    listed = client.get(reverse("reportversion-list")).json()["results"]
    assert [v["uuid"] for v in listed] == [str(acceptance.uuid)]  # the acceptance report's, as before
    listed = client.get(reverse("reportversion-list") + "?kind=assessment").json()["results"]
    assert [(v["uuid"], v["kind"]) for v in listed] == [(str(version.uuid), "assessment")]
    assert client.get(reverse("reportversion-list") + "?kind=nonsense").status_code == 400

    client.force_login(contact)
    acknowledge = reverse("reportversion-acknowledge", args=[version.uuid])
    refused = client.post(acknowledge)
    assert refused.status_code == 400 and "Read every page" in refused.content.decode()
    pdf = client.get(reverse("reportversion-pdf", args=[version.uuid]))
    assert pdf.status_code == 200 and pdf.content == bytes(version.pdf)
    answer = client.post(acknowledge)
    assert answer.status_code == 200, answer.content
    assert answer.json()["action"] == "acknowledged" and answer.json()["version_sha256"] == version.sha256
    assert client.post(reverse("reportversion-sign-off", args=[version.uuid]), {
        "password": "correct-horse-battery", "name": "A", "title": "B", "confirm": True}).status_code == 403

    client.force_login(stranger)
    assert client.post(acknowledge).status_code == 404
    assert client.get(reverse("reportversion-pdf", args=[version.uuid])).status_code == 404


# --- the acceptance report beside it ------------------------------------------------------------

@pytest.mark.django_db
def test_the_acceptance_flow_is_unchanged(pm, consultant, contact, acceptance_ready,
                                          django_capture_on_commit_callbacks):
    assessment = rendered(consultant, acceptance_ready)
    services.check_issue(pm, assessment)
    acceptance = rendered(pm, acceptance_ready, "zh-hans", kind=ReportVersion.Kind.ACCEPTANCE)
    assert (assessment.number, acceptance.number) == (1, 1)  # each kind numbers its own versions
    assert acceptance.data["overall"] == "pass" and "kind" not in acceptance.data
    assert acceptance.filename.endswith("-acceptance-v1-zh-hans.pdf")
    with pytest.raises(PermissionDenied):  # an acceptance report is signed off, not acknowledged
        services.check_acknowledge(contact, acceptance)
    with django_capture_on_commit_callbacks(execute=True):
        services.check_issue(pm, acceptance)
    assert "sign-off" in mail.outbox[-1].subject
    services.check_sign_off(contact, acceptance, password="correct-horse-battery", name="张伟", title="技术总监",
                            confirm=True)
    acceptance.refresh_from_db()
    assert acceptance.status == "signed" and services.chain_is_intact()
    acceptance_ready.refresh_from_db()
    assert acceptance_ready.acceptance_signed_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_render_request_is_rendered_by_the_celery_worker(client, worker, consultant, assessment_ready):
    client.force_login(consultant)
    response = client.post(reverse("engagement_reports", args=[assessment_ready.uuid]),
                           {"language": "zh-hans", "kind": "assessment"})
    assert response.status_code == 302
    version = ReportVersion.objects.get(kind="assessment")
    deadline = time.monotonic() + 90
    while version.status == "rendering" and time.monotonic() < deadline:
        time.sleep(0.5)
        version.refresh_from_db()
    assert version.status == "draft", (version.failure, (worker.base / "worker.log").read_text()[-3000:])
    assert bytes(version.pdf).startswith(b"%PDF") and version.data["kind"] == "assessment"
