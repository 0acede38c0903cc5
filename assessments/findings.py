"""A finding's stable identity, and resolutions carried over when an analysis is run again.

A re-run finds the same things at other line numbers once code above them has changed. Its
identity is therefore never the line: it is the scanner's fingerprint (file, API and code
context) when the scanner gives one, otherwise the source, category, file and API; and, for
several findings with the same identity in one file, their order of appearance.
"""

import hashlib
from collections import Counter

from django.db import transaction

from .models import Finding, MigrationAnalysis


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()[:40]


def identify(findings: list[Finding], given: list[str | None] | None = None) -> None:
    """Set ``fingerprint`` on unsaved findings (``given``: the scanner's own, aligned, or None)."""
    given = given or [None] * len(findings)
    order = sorted(range(len(findings)), key=lambda i: (findings[i].file, findings[i].line or 0, i))
    seen: Counter = Counter()
    for i in order:
        finding = findings[i]
        base = given[i] or _digest(finding.source, finding.category, finding.file, finding.api)
        seen[base] += 1
        finding.fingerprint = _digest(base, str(seen[base]))


def previous_analysis(analysis: MigrationAnalysis) -> MigrationAnalysis | None:
    """The analysis this one re-runs: the latest earlier one of the same code, else of the engagement."""
    earlier = MigrationAnalysis.objects.filter(engagement_id=analysis.engagement_id, pk__lt=analysis.pk) \
        .order_by("-pk")
    return earlier.filter(code_dir=analysis.code_dir).first() or earlier.first()


def carry_over(analysis: MigrationAnalysis) -> int:
    """Copy each handled finding's resolution, note, and who and when, onto the same finding of
    ``analysis``; returns how many were carried."""
    previous = previous_analysis(analysis)
    if previous is None:
        return 0
    handled = {f.fingerprint: f for f in previous.findings.exclude(resolution=Finding.Resolution.OPEN)
               .exclude(fingerprint="")}
    if not handled:
        return 0
    carried = []
    for finding in analysis.findings.filter(fingerprint__in=list(handled)):
        before = handled[finding.fingerprint]
        finding.resolution, finding.resolution_note = before.resolution, before.resolution_note
        finding.resolved_by_id, finding.resolved_at = before.resolved_by_id, before.resolved_at
        carried.append(finding)
    with transaction.atomic():
        Finding.objects.bulk_update(carried, ["resolution", "resolution_note", "resolved_by", "resolved_at"],
                                    batch_size=1000)
    return len(carried)
