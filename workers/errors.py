"""The two kinds of failure a job on a host can meet, and the messages the portal keeps.

``TransientError``: another try may help (connection refused, timeout, host busy); tasks
retry these with backoff. ``PermanentError``: it will fail again (authentication, host key
mismatch, tool missing, unreadable output); the job fails at once with the message.
Each carries the classified reason a consultant sees.

Messages are made in a worker, whose language is nobody's, and read later by people in
theirs. So a message is kept as a ``Text``: its English msgid (marked with
``gettext_noop``) and its parameters; it is rendered in the reader's language at display
time, and stored in English beside that for the admin, logs and searches.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext


class Reason:
    CONNECTION = "connection"
    AUTHENTICATION = "authentication"
    HOST_KEY = "host_key"
    COMMAND = "command"
    TIMEOUT = "timeout"
    PARSE = "parse"
    CANCELLED = "cancelled"
    WORKER_LOST = "worker_lost"


@dataclass(frozen=True)
class Text:
    """A translatable message with its parameters; a parameter may itself be a Text."""

    msgid: str
    params: dict = field(default_factory=dict)

    @property
    def english(self) -> str:
        return self._render(lambda msgid: msgid)

    @property
    def localized(self) -> str:
        """In the active language (the request's, in a view)."""
        return self._render(gettext)

    def _render(self, translate) -> str:
        params = {key: value._render(translate) if isinstance(value, Text) else value
                  for key, value in self.params.items()}
        for template in (translate(self.msgid), self.msgid):  # a broken translation falls back to English
            try:
                return template % params if params else template
            except (KeyError, TypeError, ValueError):
                continue
        return self.msgid  # never raises in a page

    def as_json(self) -> dict:
        return {"msgid": self.msgid,
                "params": {key: value.as_json() if isinstance(value, Text) else value
                           for key, value in self.params.items()}}

    @classmethod
    def from_json(cls, data) -> "Text | None":
        if not isinstance(data, dict) or not isinstance(data.get("msgid"), str):
            return None
        params = {key: cls.from_json(value) if isinstance(value, dict) else value
                  for key, value in (data.get("params") or {}).items()}
        return cls(data["msgid"], params)

    def __str__(self) -> str:
        return self.english


def localize(data, fallback: str = "") -> str:
    """A stored message (``Text.as_json``) in the active language; ``fallback`` for old rows."""
    text = Text.from_json(data)
    return text.localized if text else fallback


class JobError(Exception):
    permanent = True

    def __init__(self, msgid: str, reason: str, **params) -> None:
        self.text = Text(msgid, params)
        super().__init__(self.text.english)
        self.reason = reason

    @property
    def message(self) -> str:
        """In the active language: for a form error shown to the person who caused it."""
        return self.text.localized


class TransientError(JobError):
    permanent = False
    # Seconds the retry waits instead of the task's backoff (None: the backoff).
    retry_after: float | None = None


class PermanentError(JobError):
    permanent = True
