"""The one door to customers' hosts: the only module that imports paramiko.

It works on plain values (``Target``, ``HostKey``) and turns every paramiko and socket
failure into ``TransientError`` or ``PermanentError`` with a classified reason. Host keys
are pinned: an unknown or changed key is refused, never added.
"""

import base64
import io
import posixpath
import socket
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import paramiko
from django.utils.translation import gettext_noop as N_

from .errors import PermanentError, Reason, TransientError

CONNECT_TIMEOUT = 10
READ_CHUNK = 32 * 1024
KEEPALIVE_SECONDS = 30
NOT_PINNED = N_("The host key of %(host)s is not pinned: fetch and confirm it first.")


@dataclass(frozen=True)
class HostKey:
    key_type: str
    base64: str
    fingerprint: str


@dataclass(frozen=True)
class Target:
    address: str
    port: int
    username: str
    host_key: HostKey | None
    private_key: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @property
    def known_hosts_name(self) -> str:
        # OpenSSH/paramiko look keys up as "[host]:port" on any port but 22.
        return self.address if self.port == 22 else f"[{self.address}]:{self.port}"


@dataclass
class CommandResult:
    exit_code: int
    stdout: bytes
    stderr: bytes
    duration: float
    stdout_bytes: int
    stderr_bytes: int

    @property
    def stdout_text(self) -> str:
        return as_text(self.stdout)

    @property
    def stderr_text(self) -> str:
        return as_text(self.stderr)


def as_text(data: bytes) -> str:
    """Remote output as text: undecodable bytes and NULs (which PostgreSQL's text and jsonb
    refuse) become U+FFFD. Logs on disk keep the bytes the host wrote."""
    return data.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def load_private_key(text: str) -> paramiko.PKey:
    """An Ed25519, ECDSA or RSA private key pasted in OpenSSH or PEM format."""
    errors = []
    for key_class in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return key_class.from_private_key(io.StringIO(text.strip() + "\n"))
        except (paramiko.SSHException, ValueError, TypeError) as exc:
            errors.append(str(exc))
    raise PermanentError(N_("The private key cannot be read: paste an unencrypted Ed25519, ECDSA or RSA key "
                            "in OpenSSH or PEM format."), Reason.AUTHENTICATION)


def public_key_line(private_key_text: str) -> str:
    key = load_private_key(private_key_text)
    return f"{key.get_name()} {key.get_base64()}"


def fingerprint(key_type: str, key_base64: str) -> str:
    return paramiko.PKey.from_type_string(key_type, base64.b64decode(key_base64)).fingerprint


# What paramiko raises as an AuthenticationException though the server refused nothing: the
# connection dropped (sshd killed or restarted) or stalled while the login was under way.
LOGIN_CUT_SHORT = ("transport shut down or saw EOF", "Authentication timeout")


def _login_cut_short(exc: BaseException) -> bool:
    return isinstance(exc, paramiko.AuthenticationException) and any(text in str(exc) for text in LOGIN_CUT_SHORT)


def _connection_error(exc: BaseException, target_name: str) -> Exception:
    if _login_cut_short(exc):
        return TransientError(N_("Cannot connect to %(host)s: %(error)s"), Reason.CONNECTION, host=target_name,
                              error=f"the connection closed during the login ({exc})")
    if isinstance(exc, paramiko.BadHostKeyException):
        return PermanentError(
            N_("Host key changed for %(host)s: the server presented %(presented)s, the portal pinned %(pinned)s. "
               "Nothing was run. Confirm the new key with the customer before re-pinning it."),
            Reason.HOST_KEY, host=target_name, presented=exc.key.fingerprint, pinned=exc.expected_key.fingerprint,
        )
    if isinstance(exc, paramiko.AuthenticationException):
        return PermanentError(N_("Authentication failed for %(host)s: check the user and the key or password."),
                              Reason.AUTHENTICATION, host=target_name)
    if isinstance(exc, paramiko.SSHException) and "not found in known_hosts" in str(exc):
        return PermanentError(NOT_PINNED, Reason.HOST_KEY, host=target_name)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return TransientError(N_("Timed out connecting to %(host)s."), Reason.CONNECTION, host=target_name)
    if isinstance(exc, (paramiko.ssh_exception.NoValidConnectionsError, ConnectionError, OSError)):
        return TransientError(N_("Cannot connect to %(host)s: %(error)s"), Reason.CONNECTION, host=target_name,
                              error=str(exc))
    if isinstance(exc, paramiko.SSHException):
        return TransientError(N_("SSH error with %(host)s: %(error)s"), Reason.CONNECTION, host=target_name,
                              error=str(exc))
    return exc


# File errors stay what they are on another try: a missing or forbidden path, local or remote (SFTP).
FILE_ERRORS = (FileNotFoundError, FileExistsError, PermissionError, IsADirectoryError, NotADirectoryError)


def is_transient(exc: BaseException) -> bool:
    """Whether another try may help with an error that escaped classification: a connection that
    dropped or timed out (``OSError: Socket is closed`` from SFTP, ``EOFError``, an SSH protocol
    error). Never a refused login, an unknown or changed host key, or a file error."""
    if isinstance(exc, (paramiko.AuthenticationException, paramiko.BadHostKeyException, *FILE_ERRORS)):
        return _login_cut_short(exc)
    if isinstance(exc, paramiko.SSHException) and "not found in known_hosts" in str(exc):
        return False
    return isinstance(exc, (paramiko.SSHException, EOFError, OSError))  # socket.timeout is an OSError


def fetch_host_key(address: str, port: int, timeout: float = CONNECT_TIMEOUT) -> HostKey:
    """The key a server presents, for a person to confirm before it is pinned."""
    name = f"{address}:{port}"
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
    except OSError as exc:
        raise _connection_error(exc, name) from None
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=timeout)
        key = transport.get_remote_server_key()
        return HostKey(key.get_name(), key.get_base64(), key.fingerprint)
    except (paramiko.SSHException, OSError) as exc:
        raise _connection_error(exc, name) from None
    finally:
        transport.close()


SFTP_PIECE = 32 * 1024


class Session:
    """An SSH connection to one target, as a context manager."""

    def __init__(self, target: Target):
        self.target = target
        self.name = f"{target.username}@{target.address}:{target.port}"
        self.client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None

    def __enter__(self) -> "Session":
        self.connect()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def connect(self) -> None:
        target = self.target
        if target.host_key is None:
            raise PermanentError(NOT_PINNED, Reason.HOST_KEY, host=self.name)
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        pinned = paramiko.PKey.from_type_string(target.host_key.key_type, base64.b64decode(target.host_key.base64))
        client.get_host_keys().add(target.known_hosts_name, target.host_key.key_type, pinned)
        pkey = load_private_key(target.private_key) if target.private_key else None
        try:
            client.connect(
                target.address,
                port=target.port,
                username=target.username,
                pkey=pkey,
                password=None if pkey else target.password,
                timeout=CONNECT_TIMEOUT,
                banner_timeout=15,
                auth_timeout=20,
                channel_timeout=15,
                allow_agent=False,
                look_for_keys=False,
            )
        except Exception as exc:
            client.close()
            raise _connection_error(exc, self.name) from None
        client.get_transport().set_keepalive(KEEPALIVE_SECONDS)
        self.client = client

    def close(self) -> None:
        if self._sftp is not None:
            self._sftp.close()
            self._sftp = None
        if self.client is not None:
            self.client.close()
            self.client = None

    def run(
        self,
        command: str,
        *,
        timeout: float = 60,
        on_stdout: Callable[[bytes], None] | None = None,
        on_stderr: Callable[[bytes], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        keep_bytes: int = 1024 * 1024,
    ) -> CommandResult:
        """Run a command (already quoted) and drain both streams without deadlock.

        Both streams are read in turn, in bounded chunks, so a command that fills stderr
        while we read stdout never stalls. Both are read to their end (EOF), not only until the
        exit status arrives. At most ``keep_bytes`` of each stream are kept
        in the result; the callbacks see everything. The deadline and ``should_stop`` are
        checked between reads; either ends the wait with a PermanentError (timeout) or a
        return with exit code -1 (stopped).
        """
        started = time.monotonic()
        try:
            channel = self.client.get_transport().open_session(timeout=15)
            channel.settimeout(1.0)
            channel.exec_command(command)
            channel.shutdown_write()
        except Exception as exc:
            raise _connection_error(exc, self.name) from None
        kept = {"out": bytearray(), "err": bytearray()}
        counts = {"out": 0, "err": 0}

        def take(kind: str, data: bytes, sink) -> None:
            counts[kind] += len(data)
            room = keep_bytes - len(kept[kind])
            if room > 0:
                kept[kind] += data[:room]
            if sink is not None:
                sink(data)

        stopped = False
        try:
            while True:
                progressed = False
                # Read before the buffers are looked at: a stream's data always comes before its end.
                ended = channel.eof_received or channel.closed
                while channel.recv_ready():
                    take("out", channel.recv(READ_CHUNK), on_stdout)
                    progressed = True
                while channel.recv_stderr_ready():
                    take("err", channel.recv_stderr(READ_CHUNK), on_stderr)
                    progressed = True
                # The exit status can arrive before the streams end (a child still writing to an
                # inherited descriptor): done only once both are drained to EOF (or the server closed
                # the channel). A channel closed because the connection died has lost output: no result.
                if ended and channel.exit_status_ready() and not channel.recv_ready() \
                        and not channel.recv_stderr_ready():
                    if not channel.eof_received and not channel.get_transport().is_active():
                        raise TransientError(N_("The connection to %(host)s closed mid-command."),
                                             Reason.CONNECTION, host=self.name)
                    break
                if time.monotonic() - started > timeout:
                    raise PermanentError(N_("The command on %(host)s did not finish within %(s)s s."),
                                         Reason.TIMEOUT, host=self.name, s=round(timeout))
                if should_stop is not None and should_stop():
                    stopped = True
                    break
                if not progressed:
                    if channel.closed and not channel.exit_status_ready():
                        raise TransientError(N_("The connection to %(host)s closed mid-command."), Reason.CONNECTION,
                                             host=self.name)
                    time.sleep(0.01)
            exit_code = -1 if stopped else channel.recv_exit_status()
        except (TimeoutError, paramiko.SSHException, OSError) as exc:
            raise _connection_error(exc, self.name) from None
        finally:
            channel.close()
        return CommandResult(
            exit_code=exit_code,
            stdout=bytes(kept["out"]),
            stderr=bytes(kept["err"]),
            duration=time.monotonic() - started,
            stdout_bytes=counts["out"],
            stderr_bytes=counts["err"],
        )

    # --- files --------------------------------------------------------------------------

    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            try:
                self._sftp = self.client.open_sftp()
            except Exception as exc:
                raise _connection_error(exc, self.name) from None
            self._sftp.get_channel().settimeout(60)
        return self._sftp

    def put_bytes(self, data: bytes, remote_path: str, mode: int = 0o640) -> None:
        sftp = self.sftp()
        with sftp.open(remote_path, "wb") as fh:
            fh.write(data)
        sftp.chmod(remote_path, mode)

    def read_from(self, remote_path: str, offset: int, max_bytes: int) -> bytes:
        """Up to ``max_bytes`` of a remote file from ``offset`` (for tailing a growing log).

        The range is requested in 32 KiB pieces all at once (``readv``), not one round trip
        after another, so a log streams at the link's speed rather than its latency's."""
        try:
            with self.sftp().open(remote_path, "rb") as fh:
                available = min(max_bytes, fh.stat().st_size - offset)
                if available <= 0:
                    return b""
                pieces = [(offset + start, min(SFTP_PIECE, available - start))
                          for start in range(0, available, SFTP_PIECE)]
                return b"".join(fh.readv(pieces))
        except FileNotFoundError:
            return b""

    def fetch_file(self, base_dir: str, relative: str, sink: Callable[[bytes], None], max_bytes: int) -> int:
        """Copy one regular file from inside ``base_dir`` to ``sink``; returns its size.

        Refuses a path that leaves ``base_dir``, a symlink or anything but a regular file,
        and a file over ``max_bytes`` (counted while copying too, in case it grows).
        """
        base = posixpath.normpath(base_dir)
        path = posixpath.normpath(posixpath.join(base, relative))
        if not (path + "/").startswith(base.rstrip("/") + "/") or path == base:
            raise PermanentError(N_("Refused to fetch %(name)s: it is outside the job directory."), Reason.COMMAND,
                                 name=repr(relative))
        sftp = self.sftp()
        try:
            info = sftp.lstat(path)
        except FileNotFoundError:
            raise PermanentError(N_("The result file %(name)s does not exist."), Reason.COMMAND,
                                 name=repr(relative)) from None
        if not stat.S_ISREG(info.st_mode):
            raise PermanentError(N_("Refused to fetch %(name)s: not a regular file (a link or a device)."),
                                 Reason.COMMAND, name=repr(relative))
        if info.st_size > max_bytes:
            raise PermanentError(N_("Refused to fetch %(name)s: %(size)s bytes is over the limit of %(limit)s bytes."),
                                 Reason.COMMAND, name=repr(relative), size=info.st_size, limit=max_bytes)
        copied = 0
        with sftp.open(path, "rb") as fh:
            fh.prefetch(info.st_size, max_concurrent_requests=64)
            while True:
                chunk = fh.read(256 * 1024)
                if not chunk:
                    break
                copied += len(chunk)
                if copied > max_bytes:
                    raise PermanentError(N_("Refused to fetch %(name)s: it grew over the limit of %(limit)s bytes."),
                                         Reason.COMMAND, name=repr(relative), limit=max_bytes)
                sink(chunk)
        return copied
