"""``manage.py render_report``: renders now, prints each model's verdict, exits by the render."""

import subprocess

import pytest
from django.core.management import CommandError, call_command

from reports.models import ReportVersion

pytestmark = pytest.mark.django_db


def test_it_renders_prints_the_verdicts_and_writes_the_pdf(acceptance_ready, tmp_path, capsys):
    out = tmp_path / "report.pdf"
    call_command("render_report", acceptance_ready.code, "--language", "en", "--output", str(out))
    printed = capsys.readouterr().out
    version = ReportVersion.objects.get(engagement=acceptance_ready)
    assert version.status == "draft" and out.read_bytes() == bytes(version.pdf)
    assert f"{acceptance_ready.code}: PASS" in printed  # the engagement without models is accepted whole
    assert f"{acceptance_ready.code} v1: PASS" in printed
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "Acceptance test report" in text


def test_a_failing_verdict_still_exits_0_and_a_failed_render_or_bad_code_does_not(acceptance_ready, monkeypatch):
    from engagements.models import PerformanceBaseline
    from reports import services

    PerformanceBaseline.objects.filter(engagement=acceptance_ready).update(value=10_000)  # now it fails
    call_command("render_report", acceptance_ready.code, "--language", "en")  # no SystemExit: rendered
    assert ReportVersion.objects.get(engagement=acceptance_ready).data["overall"] == "fail"

    def broken(html):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(services, "render_pdf", broken)
    with pytest.raises(SystemExit) as failed:
        call_command("render_report", acceptance_ready.code)
    assert failed.value.code == 1
    assert ReportVersion.objects.filter(engagement=acceptance_ready, status="failed").count() == 1
    with pytest.raises(CommandError, match="NO-SUCH-CODE"):
        call_command("render_report", "NO-SUCH-CODE")


def test_it_renders_the_migration_assessment_report_too(acceptance_ready, tmp_path, capsys):
    out = tmp_path / "assessment.pdf"
    call_command("render_report", acceptance_ready.code, "--language", "en", "--kind", "assessment",
                 "--output", str(out))
    version = ReportVersion.objects.get(engagement=acceptance_ready, kind="assessment")
    assert version.status == "draft" and out.read_bytes() == bytes(version.pdf)
    assert f"{acceptance_ready.code} assessment v1: rendered" in capsys.readouterr().out
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "Migration assessment report" in text
    assert not ReportVersion.objects.filter(engagement=acceptance_ready, kind="acceptance").exists()
