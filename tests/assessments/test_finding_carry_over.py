"""Re-running an analysis keeps how each finding was handled, even when its line moved."""

import pytest

from assessments import findings as identity
from assessments.models import Finding, MigrationAnalysis
from assessments.services import check_resolve_findings

pytestmark = pytest.mark.django_db

CODE = [  # (file, line, api)
    ("train.py", 10, "torch.cuda.amp.GradScaler"),
    ("train.py", 40, "torch.cuda.synchronize"),
    ("train.py", 90, "torch.cuda.synchronize"),
    ("model.py", 5, "apex.normalization.FusedLayerNorm"),
]


def run(engagement, code, shift=0, code_dir="/data/project", given=None):
    analysis = MigrationAnalysis.objects.create(engagement=engagement, code_dir=code_dir)
    rows = [Finding(analysis=analysis, source=Finding.Source.SCANNER, category="cuda_api", fix="auto", file=file,
                    line=line + (shift if file == "train.py" else 0), api=api) for file, line, api in code]
    identity.identify(rows, given)
    Finding.objects.bulk_create(rows)
    carried = identity.carry_over(analysis)
    return analysis, carried


def test_resolutions_follow_their_findings_across_a_line_shift(engagement, consultant):
    first, carried = run(engagement, CODE)
    assert carried == 0
    check_resolve_findings(consultant, first.findings.filter(api="torch.cuda.amp.GradScaler"), "resolved")
    check_resolve_findings(consultant, first.findings.filter(line=90), "not_needed", "Only in the profiler path")

    second, carried = run(engagement, CODE, shift=7)  # seven lines added at the top of train.py
    assert carried == 2
    by_line = {(f.file, f.line): f for f in second.findings.all()}
    assert by_line[("train.py", 17)].resolution == "resolved"
    assert by_line[("train.py", 17)].resolved_by == consultant
    assert by_line[("train.py", 47)].resolution == "open"  # the first synchronize was not handled
    assert by_line[("train.py", 97)].resolution == "not_needed"
    assert by_line[("train.py", 97)].resolution_note == "Only in the profiler path"
    assert by_line[("model.py", 5)].resolution == "open"


def test_a_finding_that_is_gone_carries_nothing_and_a_new_one_starts_open(engagement, consultant):
    first, _ = run(engagement, CODE)
    check_resolve_findings(consultant, first.findings.all(), "workaround", "Patched in our fork")
    changed = [row for row in CODE if row[2] != "apex.normalization.FusedLayerNorm"] + [
        ("data.py", 3, "torch.cuda.is_available")]
    second, carried = run(engagement, changed)
    assert carried == 3
    assert second.findings.get(file="data.py").resolution == "open"


def test_the_scanners_context_tells_apart_same_api_calls_in_other_code(engagement, consultant):
    first, _ = run(engagement, CODE[1:3], given=["ctx-a", "ctx-b"])
    check_resolve_findings(consultant, first.findings.filter(line=90), "resolved")
    # The first call was deleted: by order alone the remaining one would be taken for it.
    second, carried = run(engagement, [CODE[2]], shift=-50, given=["ctx-b"])
    assert carried == 1
    assert second.findings.get().resolution == "resolved"


def test_another_code_directory_is_preferred_less_than_the_same(engagement, consultant):
    first, _ = run(engagement, CODE, code_dir="/data/project")
    other, _ = run(engagement, CODE, code_dir="/data/other")
    check_resolve_findings(consultant, first.findings.filter(line=10), "resolved")
    third, carried = run(engagement, CODE, code_dir="/data/project")
    assert carried == 1  # from the earlier run of the same code, not the later one of other code
    assert other.findings.filter(resolution="resolved").count() == 0
