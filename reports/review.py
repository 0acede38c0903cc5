"""Review before sign-off: the issued PDF shown page by page, and which pages a contact has seen.

The version page shows every page of the version's stored PDF as a PNG that poppler's
``pdftoppm`` renders (cached per PDF SHA-256 under ``MEDIA_ROOT/report-pages/``). Each page image
the portal serves to a contact who may decide on the version is recorded (``ReportPageView``); the
sign-off and reject views refuse until every page of the version has been served to that contact.
"""

import io
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from .models import ReportPageView, ReportVersion

# 150 dpi: an A4 page is 1241 × 1754 pixels, sharp on a laptop and zoomable on a phone.
PAGE_DPI = 150
RENDER_TIMEOUT = 60
_SHA256 = re.compile(r"[0-9a-f]{64}")

logger = logging.getLogger(__name__)


class PageRenderError(RuntimeError):
    """poppler could not render a page (missing, or failed)."""


@dataclass(frozen=True)
class Page:
    number: int
    width: int  # pixels at PAGE_DPI: the <img> keeps its aspect ratio before it loads
    height: int


def pages(version: ReportVersion) -> list[Page]:
    """The pages of the version's PDF, in order (none without a PDF, or with one pypdf cannot read)."""
    if not version.pdf:
        return []
    result = []
    try:
        for number, page in enumerate(PdfReader(io.BytesIO(bytes(version.pdf))).pages, start=1):
            width, height = float(page.mediabox.width), float(page.mediabox.height)
            if (page.rotation or 0) % 180:
                width, height = height, width
            result.append(Page(number, math.ceil(width * PAGE_DPI / 72), math.ceil(height * PAGE_DPI / 72)))
    except (PyPdfError, ValueError, KeyError, TypeError):
        logger.warning("The PDF of report version %s cannot be read page by page", version.uuid, exc_info=True)
        return []
    return result


def page_png(version: ReportVersion, number: int) -> bytes:
    """Page ``number`` (1-based) of the version's PDF as PNG, from the cache or rendered now."""
    cached = _cache_path(version, number)
    if cached is not None:
        try:
            return cached.read_bytes()
        except FileNotFoundError:
            pass
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise PageRenderError("pdftoppm (poppler-utils) is not installed")
    try:
        # Fixed arguments and the PDF on stdin; nothing of the request reaches the command line
        # but the page number, an int.
        done = subprocess.run(  # noqa: S603
            [pdftoppm, "-f", str(number), "-l", str(number), "-r", str(PAGE_DPI), "-png", "-singlefile", "-"],
            input=bytes(version.pdf), capture_output=True, timeout=RENDER_TIMEOUT, check=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise PageRenderError(f"pdftoppm failed on page {number}: {exc}") from exc
    png = done.stdout
    if not png.startswith(b"\x89PNG"):
        raise PageRenderError(f"pdftoppm gave no PNG for page {number}")
    if cached is not None:
        _write_atomically(cached, png)
    return png


def _cache_path(version: ReportVersion, number: int) -> Path | None:
    if not _SHA256.fullmatch(version.sha256 or ""):
        return None
    return Path(settings.MEDIA_ROOT) / "report-pages" / version.sha256 / f"{PAGE_DPI}dpi-{number}.png"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write a cache file so that a concurrent reader sees all of it or none; a cache that cannot
    be written is no error (the page is rendered again next time)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, path)
    except OSError:
        return


def record_view(user, version: ReportVersion, number: int) -> None:
    """Record that page ``number`` of ``version`` was served to ``user`` (once per page)."""
    ReportPageView.objects.bulk_create([ReportPageView(version=version, user=user, page=number)],
                                       ignore_conflicts=True)


def seen_pages(user, version: ReportVersion) -> set[int]:
    return set(ReportPageView.objects.filter(version=version, user=user).values_list("page", flat=True))


def has_seen_every_page(user, version: ReportVersion, page_count: int | None = None) -> bool:
    """Has every page of the version's PDF been served to ``user``? Never for a version with no
    page to show: what could not be read was not reviewed."""
    count = len(pages(version)) if page_count is None else page_count
    return count > 0 and seen_pages(user, version) >= set(range(1, count + 1))


def record_whole(user, version: ReportVersion) -> None:
    """The whole PDF was served to ``user`` (a download): every page of it counts as read."""
    count = len(pages(version))
    ReportPageView.objects.bulk_create([ReportPageView(version=version, user=user, page=n)
                                        for n in range(1, count + 1)], ignore_conflicts=True)


def require_read(user, version: ReportVersion) -> None:
    """A contact decides only on a report they have read whole (every page, or the PDF)."""
    if not has_seen_every_page(user, version):
        raise ValidationError(_("Read every page of the report (or download its PDF) before you sign it off or "
                                "reject it."))
