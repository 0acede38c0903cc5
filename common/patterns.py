"""Regular expressions typed by people (a loss or score pattern), run in linear time.

Python's ``re`` backtracks: ``loss: ((a+)+)b`` against a 31-character line held a worker for
minutes, and every extra character doubles it. RE2 matches in time linear in the text, so a
pattern can never tie up a worker or a web process. It has no backreferences or look-around;
a pattern that uses them is refused with a clear message when it is typed.
"""

import re2


class PatternError(ValueError):
    """Not a pattern RE2 accepts; the message says why."""


def compile_user_pattern(text: str):
    """``text`` compiled by RE2 (the ``re``-like interface: search, finditer, groups, groupindex)."""
    try:
        return re2.compile(text)
    except re2.error as exc:
        raise PatternError(str(exc) or "invalid pattern") from None
