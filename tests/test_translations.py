"""The Chinese catalogue is complete: no string left untranslated or only guessed (fuzzy),
and the compiled catalogue is the one the sources give."""

import subprocess
from pathlib import Path

PO = Path(__file__).resolve().parents[1] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def entries(*flags) -> list[str]:
    out = subprocess.run(["msgattrib", *flags, "--no-obsolete", str(PO)], capture_output=True, text=True,
                         check=True).stdout
    # msgattrib repeats the header entry (msgid "") whenever it prints anything.
    return [line for line in out.splitlines() if line.startswith("msgid ") and line != 'msgid ""']


def test_no_string_is_left_untranslated_or_fuzzy():
    assert entries("--untranslated") == []
    assert entries("--only-fuzzy") == []


def test_the_compiled_catalogue_matches_the_sources(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(compiled), str(PO)], check=True)
    assert compiled.read_bytes() == PO.with_suffix(".mo").read_bytes()
