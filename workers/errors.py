"""The two kinds of failure a job on a host can meet.

``TransientError``: another try may help (connection refused, timeout, host busy); tasks
retry these with backoff. ``PermanentError``: it will fail again (authentication, host key
mismatch, tool missing, unreadable output); the job fails at once with the message.
Each carries the classified reason a consultant sees.
"""


class Reason:
    CONNECTION = "connection"
    AUTHENTICATION = "authentication"
    HOST_KEY = "host_key"
    COMMAND = "command"
    TIMEOUT = "timeout"
    PARSE = "parse"
    CANCELLED = "cancelled"
    WORKER_LOST = "worker_lost"


class JobError(Exception):
    permanent = True

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class TransientError(JobError):
    permanent = False


class PermanentError(JobError):
    permanent = True
