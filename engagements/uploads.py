"""Checks on uploaded files: size, allowed type, and content that matches the name."""

import codecs
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Extensions whose content is a known binary format, and what a sniffer may call them.
BINARY_KINDS = {
    "pdf": {"pdf"},
    "png": {"png"},
    "jpg": {"jpg"},
    "jpeg": {"jpg"},
    "zip": {"zip"},
    "gz": {"gz"},
    "docx": {"docx", "zip"},
    "xlsx": {"xlsx", "zip"},
    "pptx": {"pptx", "zip"},
}


# Binary formats whose signature is printable text; a text file never starts with one.
BINARY_SIGNATURES = (b"%PDF-",)
# Control characters text may hold: tab, line breaks, form feed, backspace and ESC (coloured logs).
_CONTROL = re.compile(r"[\x00-\x07\x0e-\x1a\x1c-\x1f\x7f]")


class TextCheck:
    """Whether a file's bytes, fed chunk by chunk, are text.

    Text is UTF-8 (with or without a BOM), UTF-16 with a BOM, or GB18030 (GBK, as written by
    Chinese Windows and Excel), decoded strictly, without NUL or other control characters.
    """

    def __init__(self, head: bytes):
        self.ok = not head.startswith(BINARY_SIGNATURES)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encodings = ["utf-16"]
        else:
            encodings = ["utf-8-sig", "gb18030"]
        self.decoders = [codecs.getincrementaldecoder(encoding)(errors="strict") for encoding in encodings]

    def feed(self, chunk: bytes, final: bool = False) -> None:
        if not self.ok:
            return
        alive = []
        for decoder in self.decoders:
            try:
                decoded = decoder.decode(chunk, final)
            except UnicodeDecodeError:
                continue
            if not _CONTROL.search(decoded):
                alive.append(decoder)
        self.decoders = alive
        self.ok = bool(alive)

    def finish(self) -> bool:
        self.feed(b"", final=True)
        return self.ok


@dataclass(frozen=True)
class UploadInfo:
    name: str
    size: int
    content_type: str
    sha256: str


def clean_filename(name: str) -> str:
    """The base name, NFC-normalised, without control characters or path parts."""
    base = PurePath(unicodedata.normalize("NFC", name or "").replace("\\", "/")).name
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return base[:200] or "file"


def check_size(upload, max_bytes: int, field: str = "file") -> None:
    """Refuse an empty or oversized upload before reading a byte of it."""
    if upload.size > max_bytes:
        raise ValidationError({field: _("The file is %(size)s MB; the limit is %(limit)s MB.")
                               % {"size": round(upload.size / 1048576, 1), "limit": round(max_bytes / 1048576, 1)}})
    if upload.size == 0:
        raise ValidationError({field: _("The file is empty.")})


def inspect_upload(upload, *, max_bytes: int | None = None, extensions=None) -> UploadInfo:
    """Validate an uploaded file and return what is stored about it.

    Raises ValidationError({"file": ...}) when the file is empty, too large, of a type not
    allowed, or when its content does not match its extension.
    """
    max_bytes = max_bytes or settings.DELIVERABLE_MAX_BYTES
    extensions = extensions or settings.DELIVERABLE_EXTENSIONS
    name = clean_filename(upload.name)
    check_size(upload, max_bytes)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in extensions:
        raise ValidationError(
            {"file": _("Files of type “.%(ext)s” are not accepted. Allowed: %(allowed)s.")
             % {"ext": extension or "?", "allowed": ", ".join(sorted(extensions))}}
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    binary = extension in BINARY_KINDS
    if binary:
        kind = filetype.guess(head)
        if kind is None or kind.extension not in BINARY_KINDS[extension]:
            raise ValidationError({"file": _("The content of the file is not a .%(ext)s file.") % {"ext": extension}})
        content_type = kind.mime
    else:
        # Sniffers match text on short signatures ("BMW" is a bitmap, "MZ" a program, "ID3"
        # an MP3): a text file is judged by its bytes decoding as text instead.
        content_type = "text/plain"
        text = TextCheck(head)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
        if not binary:
            text.feed(chunk)
    upload.seek(0)
    if not binary and not text.finish():
        raise ValidationError({"file": _("A .%(ext)s file must be text.") % {"ext": extension}})
    return UploadInfo(name=name, size=upload.size, content_type=content_type, sha256=digest.hexdigest())
