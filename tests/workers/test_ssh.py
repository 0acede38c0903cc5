"""The SSH door against a real OpenSSH sshd on loopback."""

import dataclasses
import hashlib
import os
import shlex
import socket
import subprocess
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.commands import quote_argv, sh_c
from workers.errors import PermanentError, Reason, TransientError
from workers.ssh import HostKey, Session, fetch_host_key

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="password logins need sshd running as root")


def test_the_fetched_host_key_is_the_one_ssh_keygen_reports(simhost, tmp_path):
    key = fetch_host_key(simhost.address, simhost.port)
    pub = tmp_path / "k.pub"
    pub.write_text(f"{key.key_type} {key.base64}\n")
    expected = subprocess.run(["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True,
                              check=True).stdout.split()[1]
    assert key.fingerprint == expected
    assert key == simhost.host_key


def test_it_runs_a_command_with_a_key(target):
    with Session(target) as session:
        result = session.run("echo hello; echo oops >&2; exit 3")
    assert (result.exit_code, result.stdout_text, result.stderr_text) == (3, "hello\n", "oops\n")


@needs_root
def test_it_logs_in_with_a_password_and_refuses_a_wrong_one(simhost, target):
    with Session(dataclasses.replace(target, private_key=None, password=simhost.password)) as session:
        assert session.run("whoami").stdout_text.strip() == simhost.username
    with pytest.raises(PermanentError) as exc:
        Session(dataclasses.replace(target, private_key=None, password="wrong-password")).connect()
    assert exc.value.reason == Reason.AUTHENTICATION


def test_an_unpinned_host_is_refused(target):
    with pytest.raises(PermanentError) as exc:
        Session(dataclasses.replace(target, host_key=None)).connect()
    assert exc.value.reason == Reason.HOST_KEY


def test_a_changed_host_key_is_refused_with_a_clear_message(target, tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    key_type, key_b64 = (tmp_path / "other.pub").read_text().split()[:2]
    impostor = HostKey(key_type, key_b64, "")
    with pytest.raises(PermanentError) as exc:
        Session(dataclasses.replace(target, host_key=impostor)).connect()
    assert exc.value.reason == Reason.HOST_KEY
    assert "Host key changed" in exc.value.message


def test_an_unreachable_port_is_a_transient_connection_error(target):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    with pytest.raises(TransientError) as exc:
        Session(dataclasses.replace(target, port=closed_port)).connect()
    assert exc.value.reason == Reason.CONNECTION


def test_command_not_found_and_non_zero_exit_are_results(target):
    with Session(target) as session:
        missing = session.run("no-such-ascend-tool --version")
        failing = session.run("sh -c 'exit 42'")
    assert missing.exit_code == 127 and "not found" in missing.stderr_text
    assert failing.exit_code == 42


def test_a_command_past_its_deadline_is_a_timeout(target):
    with Session(target) as session:
        with pytest.raises(PermanentError) as exc:
            session.run("sleep 30", timeout=1)
    assert exc.value.reason == Reason.TIMEOUT


def test_twenty_megabytes_on_both_streams_at_once_do_not_deadlock(target):
    size = 20 * 1024 * 1024
    script = f"head -c {size} /dev/zero | tr '\\0' a >&2 & head -c {size} /dev/zero | tr '\\0' b; wait"
    seen = {"out": 0, "err": 0}
    with Session(target) as session:
        result = session.run(
            sh_c(script),
            timeout=120,
            on_stdout=lambda data: seen.__setitem__("out", seen["out"] + len(data)),
            on_stderr=lambda data: seen.__setitem__("err", seen["err"] + len(data)),
            keep_bytes=1024,
        )
    assert result.exit_code == 0
    assert (result.stdout_bytes, result.stderr_bytes) == (size, size)
    assert seen == {"out": size, "err": size}
    assert result.stdout == b"b" * 1024


def test_non_utf8_output_is_decoded_with_replacements(target):
    with Session(target) as session:
        result = session.run(r"printf 'loss \377\376 ok \344\270\255\n'")
    assert result.stdout_text == "loss \ufffd\ufffd ok 中\n"


HOSTILE = ["; $(id) \"'", "a\nb", "迁移 测试", "`reboot`", "$HOME", "--flag=1 && rm -rf /", ""]


def test_hostile_arguments_arrive_verbatim(target):
    with Session(target) as session:
        result = session.run(quote_argv(["printf", "%s\\0", *HOSTILE]))
    assert result.stdout.decode().split("\0")[:-1] == HOSTILE


@settings(max_examples=200)
@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))), max_size=6))
def test_quoting_round_trips_any_text(argv):
    assert shlex.split(quote_argv(argv)) == argv


def _make_files(session, base):
    session.run(sh_c(
        f"mkdir -p {shlex.quote(base)}/sub && printf result > {shlex.quote(base)}/sub/metrics.json && "
        f"ln -sf /etc/passwd {shlex.quote(base)}/passwd && head -c 5000 /dev/zero > {shlex.quote(base)}/big.bin"
    ))


def test_fetching_result_files_refuses_links_escapes_and_oversize(target, simhost):
    base = f"{simhost.work_root}/fetch-test"
    chunks = []
    with Session(target) as session:
        _make_files(session, base)
        size = session.fetch_file(base, "sub/metrics.json", chunks.append, max_bytes=1000)
        assert (size, b"".join(chunks)) == (6, b"result")
        for relative, words in [("passwd", "not a regular file"), ("../../../../etc/passwd", "outside"),
                                ("big.bin", "over the limit"), ("missing.txt", "does not exist")]:
            with pytest.raises(PermanentError) as exc:
                session.fetch_file(base, relative, chunks.append, max_bytes=1000)
            assert words in exc.value.message



def test_output_written_after_the_exit_status_is_read_to_the_end(target):
    """The shell exits at once (its exit status arrives first); a child it left behind writes
    the last 2 MB of stderr afterwards, on the inherited descriptor. Every byte must arrive."""
    out_lines, err_lines = 100_000, 300_000
    script = (f"seq 1 {out_lines}; exec 1>&-; "
              f"(sleep 0.5; seq 1 {err_lines} | sed 's/^/e/' >&2) & exit 7")
    expected_out = "".join(f"{i}\n" for i in range(1, out_lines + 1)).encode()
    expected_err = "".join(f"e{i}\n" for i in range(1, err_lines + 1)).encode()
    seen = {"out": [], "err": []}
    with Session(target) as session:
        result = session.run(sh_c(script), timeout=60, on_stdout=seen["out"].append, on_stderr=seen["err"].append)
    assert result.exit_code == 7
    got_out, got_err = b"".join(seen["out"]), b"".join(seen["err"])
    assert (result.stdout_bytes, result.stderr_bytes) == (len(expected_out), len(expected_err))
    assert hashlib.sha256(got_out).hexdigest() == hashlib.sha256(expected_out).hexdigest()
    assert hashlib.sha256(got_err).hexdigest() == hashlib.sha256(expected_err).hexdigest()
    assert result.stderr == expected_err[:1024 * 1024]  # the kept part is the start of the stream


def test_a_connection_dropped_after_the_exit_status_is_not_a_short_result(target):
    """The exit status arrived, then the connection died before the streams ended: that is a
    lost connection (retried), never a result with part of the output missing."""
    with Session(target) as session:
        transport = session.client.get_transport()
        killer = threading.Timer(1.0, transport.close)
        killer.start()
        try:
            with pytest.raises(TransientError) as exc:
                session.run(sh_c("(sleep 3; echo late >&2) & exit 0"), timeout=30)
        finally:
            killer.cancel()
    assert exc.value.reason == Reason.CONNECTION


def test_only_a_lost_connection_is_transient():
    import paramiko

    from workers.ssh import is_transient

    for lost in (OSError("Socket is closed"), EOFError(), TimeoutError(), ConnectionResetError(),
                 paramiko.SSHException("SSH session not active")):
        assert is_transient(lost), lost
    for final in (paramiko.AuthenticationException("no"), paramiko.SSHException("Server '[h]:2' not found in "
                  "known_hosts"), PermissionError("denied"), FileNotFoundError("gone"), KeyError("argv"), ValueError()):
        assert not is_transient(final), final
