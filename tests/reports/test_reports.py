"""The acceptance report: versions, PDF contents, sign-off rules and the hash chain."""

import subprocess

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, InternalError, transaction

from common import access
from engagements.models import Engagement
from reports import services
from reports.models import ReportVersion, SignOffEvent

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "r.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def rendered(user, engagement, language="zh-hans") -> ReportVersion:
    version = services.check_request_render(user, engagement, language)
    return services.render_version(version.pk)


def test_a_chinese_report_has_the_headings_figures_fonts_and_charts(pm, acceptance_ready, tmp_path):
    version = rendered(pm, acceptance_ready)
    assert version.status == "draft" and version.sha256 and bytes(version.pdf).startswith(b"%PDF")
    text = pdf_text(bytes(version.pdf), tmp_path)
    for heading in ("验收测试报告", "各模型结论", "各模型结果", "交付件清单", "结论与建议"):
        assert heading in text, heading
    mre = version.data["models"][0]["criteria"][0]["result"]["mean_relative_error"]
    assert mre == pytest.approx(0.01) and "1%" in text  # a curve 1% above its reference, read back
    fonts = subprocess.run(["pdffonts", str(tmp_path / "r.pdf")], capture_output=True, text=True).stdout
    assert "Noto" in fonts and all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:] if line.strip())
    chart = version.data["models"][0]["criteria"][0]["chart"]
    assert chart.startswith("<svg") and 'stroke-dasharray' in chart  # both curves, the reference dashed
    assert "相对误差" in text and "阈值 2%" in text  # the error chart and its threshold, labelled
    flat = "".join(text.split())
    assert "训练任务" in flat and "上传的日志" in flat and "Uploaded log" not in text  # sources in Chinese
    assert "Trainingjob" not in flat and "overcommonsteps" not in flat  # the formula too
    assert version.data["overall"] == "pass" and "assessments.parsers.evaluation" in text  # scores trace to a job


def test_a_report_speaks_one_language_whatever_the_worker_speaks(pm, acceptance_ready, tmp_path):
    from django.utils import translation

    with translation.override("zh-hans"):  # the worker's active language must not leak in
        version = rendered(pm, acceptance_ready, "en")
    text = " ".join(pdf_text(bytes(version.pdf), tmp_path).split())
    assert "Training job" in text and "Uploaded log" in text and "over common steps" in text
    assert "训练任务" not in text and "上传的日志" not in text and "通过" not in text


def test_an_english_report(pm, acceptance_ready, tmp_path):
    text = pdf_text(bytes(rendered(pm, acceptance_ready, "en").pdf), tmp_path)
    assert "Acceptance test report" in text and "Mean relative error" in text


def test_each_render_is_a_new_version_and_an_issued_one_never_changes(pm, acceptance_ready):
    first = rendered(pm, acceptance_ready)
    services.check_issue(pm, first)
    pdf, sha = bytes(first.pdf), first.sha256
    second = rendered(pm, acceptance_ready)
    assert (first.number, second.number) == (1, 2)
    assert services.render_version(first.pk).sha256 == sha  # asking again renders nothing
    first.refresh_from_db()
    assert bytes(first.pdf) == pdf and first.status == "issued"


def test_issue_notifies_the_contacts_and_only_a_pm_issues(pm, consultant, contact, acceptance_ready,
                                                         django_capture_on_commit_callbacks):
    version = rendered(pm, acceptance_ready)
    with pytest.raises(PermissionDenied):
        services.check_issue(consultant, version)
    with django_capture_on_commit_callbacks(execute=True):
        services.check_issue(pm, version)
    assert [m.to for m in mail.outbox] == [[contact.email]]
    assert f"/reports/{version.uuid}/" in mail.outbox[0].body  # a link to the version
    with pytest.raises(ValidationError):
        services.check_issue(pm, version)


def test_sign_off_records_everything_and_closes_acceptance(pm, contact, acceptance_ready, tmp_path):
    version = rendered(pm, acceptance_ready)
    services.check_issue(pm, version)
    event = services.check_sign_off(contact, version, password="correct-horse-battery", name="张伟", title="技术总监",
                                    confirm=True, request_meta={"REMOTE_ADDR": "10.1.2.3", "HTTP_USER_AGENT": "pytest"})
    version.refresh_from_db()
    assert version.status == "signed"
    assert (event.signer_name, event.ip, event.user_agent, event.version_sha256) == (
        "张伟", "10.1.2.3", "pytest", version.sha256)
    engagement = Engagement.objects.get(pk=acceptance_ready.pk)
    assert (engagement.acceptance_signed_at, engagement.status) == (event.at, Engagement.Status.ACCEPTED)
    signed = bytes(event.signed_pdf)
    assert signed != bytes(version.pdf) and event.signed_sha256 != version.sha256
    text = pdf_text(signed, tmp_path)
    assert "张伟" in text and "技术总监" in text and version.sha256 in text.replace("\n", "")
    verified = services.verify_pdf(signed)
    assert verified["known"] and verified["signed_by"] == "张伟" and verified["kind"] == "signed copy"
    assert services.verify_pdf(bytes(version.pdf))["signed_by"] == "张伟"
    assert services.verify_pdf(b"%PDF-1.7 something else")["known"] is False


def test_sign_off_rules(pm, contact, consultant, acceptance_ready, django_user_model, customer_b):
    version = rendered(pm, acceptance_ready)
    with pytest.raises(ValidationError):  # a draft cannot be signed
        services.check_sign_off(contact, version, password="correct-horse-battery", name="A", title="B", confirm=True)
    services.check_issue(pm, version)
    with pytest.raises(PermissionDenied):
        services.check_sign_off(consultant, version, password="correct-horse-battery", name="A", title="B",
                                confirm=True)
    other = django_user_model.objects.create_user("other-contact", password="correct-horse-battery", role="customer",
                                                  customer=customer_b)
    with pytest.raises(PermissionDenied):
        services.check_sign_off(other, version, password="correct-horse-battery", name="A", title="B", confirm=True)
    with pytest.raises(ValidationError) as wrong:
        services.check_sign_off(contact, version, password="wrong", name="A", title="B", confirm=True)
    assert "password" in wrong.value.message_dict
    with pytest.raises(ValidationError) as unconfirmed:
        services.check_sign_off(contact, version, password="correct-horse-battery", name="", title="B", confirm=False)
    assert set(unconfirmed.value.message_dict) == {"name", "confirm"}
    assert not SignOffEvent.objects.filter(action="signed").exists()
    services.check_sign_off(contact, version, password="correct-horse-battery", name="A", title="B", confirm=True)
    with pytest.raises(ValidationError):  # never twice
        services.check_sign_off(contact, version, password="correct-horse-battery", name="A", title="B", confirm=True)
    with pytest.raises(ValidationError):
        services.check_reject(contact, version, password="correct-horse-battery", comment="late")


def test_reject_needs_a_comment(pm, contact, acceptance_ready):
    version = rendered(pm, acceptance_ready)
    services.check_issue(pm, version)
    with pytest.raises(ValidationError):
        services.check_reject(contact, version, password="correct-horse-battery", comment=" ")
    event = services.check_reject(contact, version, password="correct-horse-battery",
                                  comment="Loss diverges after step 200")
    version.refresh_from_db()
    assert version.status == "rejected" and event.comment == "Loss diverges after step 200"
    assert Engagement.objects.get(pk=acceptance_ready.pk).acceptance_signed_at is None


def test_events_are_append_only_and_chained(pm, contact, acceptance_ready):
    version = rendered(pm, acceptance_ready)
    services.check_issue(pm, version)
    services.check_sign_off(contact, version, password="correct-horse-battery", name="A", title="B", confirm=True)
    issued, signed = SignOffEvent.objects.order_by("pk")
    assert signed.previous_hash == issued.hash and services.chain_is_intact()
    with pytest.raises(ValueError):
        signed.save()
    with pytest.raises(ValueError):
        signed.delete()
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():  # the database refuses too
        SignOffEvent.objects.filter(pk=signed.pk).update(signer_name="Someone else")
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        SignOffEvent.objects.filter(pk=signed.pk).delete()
    assert SignOffEvent.objects.get(pk=signed.pk).signer_name == "A"


def test_a_customer_sees_only_issued_versions_of_their_own_engagements(pm, contact, acceptance_ready, other_engagement):
    draft = rendered(pm, acceptance_ready)
    assert not access.scope(contact, ReportVersion).exists()
    services.check_issue(pm, draft)
    assert list(access.scope(contact, ReportVersion)) == [draft]
    other = rendered(pm, other_engagement)
    ReportVersion.objects.filter(pk=other.pk).update(status=ReportVersion.Status.ISSUED)  # issued to customer B
    assert other not in access.scope(contact, ReportVersion)


def test_a_report_that_does_not_pass_is_neither_issued_nor_signed(pm, contact, acceptance_ready):
    acceptance_ready.evaluation_runs.update(score=60.0)  # the migrated model scores 15% lower
    failing = rendered(pm, acceptance_ready)
    score = next(c for c in failing.data["models"][0]["criteria"] if c["kind"] == "score")
    assert failing.data["overall"] == "fail" and score["verdict"] == "fail"
    with pytest.raises(ValidationError, match="overall verdict is FAIL"):
        services.check_issue(pm, failing)
    failing.refresh_from_db()
    assert failing.status == ReportVersion.Status.DRAFT and not failing.events.exists()
    ReportVersion.objects.filter(pk=failing.pk).update(status=ReportVersion.Status.ISSUED)  # however it got there
    with pytest.raises(ValidationError, match="overall verdict is FAIL"):
        services.check_sign_off(contact, failing, password="correct-horse-battery", name="Li", title="CTO",
                                confirm=True)
    acceptance_ready.refresh_from_db()
    assert acceptance_ready.acceptance_signed_at is None and not failing.events.exists()
