"""A simulated Ascend host: OpenSSH's sshd on a loopback port, with its own host key, whose
PATH holds stand-ins for the Ascend tools printing their real output formats, version files
in their real places under its root, and a small pure-Python training script.

Run as root, sshd logs users in as a dedicated ``ascendsim`` account (key or password).
Run as anyone else, sshd runs unprivileged and logs in only that same user (key only).
"""

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from engagements.models import Customer, User
from workers import jobs
from workers.models import AscendHost

FILES = Path(__file__).resolve().parent / "files"
SSHD = "/usr/sbin/sshd"
SIM_USER = "ascendsim"


@dataclass
class SimHostInfo:
    address: str
    port: int
    username: str
    private_key: str = field(repr=False)
    password: str | None = field(repr=False)
    root: Path
    ascend_home: str
    tool_path: str
    work_root: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


def _npu_smi_script(share: Path) -> str:
    return f"""#!/bin/sh
# Stand-in for npu-smi: prints the real output of an 8 x 910B3 host.
F={share}
if [ "$1" != "info" ]; then echo "Usage: npu-smi info [-t board|usages] [-i id]" >&2; exit 2; fi
shift
case "$1" in
  "") cat "$F/npu-smi_info.txt" ;;
  -t)
    case "$2" in
      board) cat "$F/npu-smi_board.txt" ;;
      usages) cat "$F/npu-smi_usages.txt" ;;
      *) echo "Error: unsupported type $2" >&2; exit 2 ;;
    esac ;;
  *) echo "Error: unsupported option $1" >&2; exit 2 ;;
esac
"""


def _analyse_script(official: Path) -> str:
    return f"""#!/bin/sh
# Stand-in for CANN's pytorch_analyse.sh: -i <dir> -o <dir> -v <version> -m <mode>.
while [ $# -gt 0 ]; do case "$1" in -i) in="$2"; shift 2 ;; -o) out="$2"; shift 2 ;; *) shift ;; esac; done
[ -d "$in" ] || {{ echo "[ERROR] input path $in does not exist"; exit 1; }}
dest="$out/$(basename "$in")_analysis"
mkdir -p "$dest" && cp {official}/*.csv "$dest"/ && cat {official}/console.log
"""


def build_root(root: Path, python: str) -> tuple[str, str]:
    """Lay out the simulated host's files under ``root``; returns (ascend_home, tool_path)."""
    ascend = root / "usr" / "local" / "Ascend"
    bin_dir = root / "bin"
    shutil.copyfile(FILES / "driver_version.info", _mk(ascend / "driver") / "version.info")
    shutil.copyfile(FILES / "firmware_version.info", _mk(ascend / "firmware") / "version.info")
    toolkit = _mk(ascend / "ascend-toolkit" / "latest")
    shutil.copyfile(FILES / "version.cfg", toolkit / "version.cfg")
    shutil.copyfile(FILES / "ascend_toolkit_install.info",
                    _mk(toolkit / "x86_64-linux") / "ascend_toolkit_install.info")
    # Everything the login user reads lives under root: the checkout may sit in a directory
    # that user cannot enter.
    share = _mk(root / "share")
    for sample in FILES.glob("*.txt"):
        shutil.copyfile(sample, share / sample.name)
    _write(bin_dir / "npu-smi", _npu_smi_script(share), 0o755)
    _write(bin_dir / "benchmark",
           f"#!/bin/sh\n# Stand-in for MindIE's benchmark (under the tuned config_v2.json: its own tables).\n"
           f"sleep 0.2\ncase \"$*\" in *config_v2*) cat {share}/tuning/mindie_benchmark_output_v2.txt ;; "
           f"*) cat {share}/mindie_benchmark_output.txt ;; esac\n",
           0o755)
    _build_tuning_tools(root, share, bin_dir)
    pylib = _mk(root / "pylib")
    _write(pylib / "torch" / "__init__.py", '__version__ = "2.1.0"\n')
    _write(pylib / "torch_npu" / "__init__.py", '__version__ = "2.1.0.post8"\n')
    # python3 on the simulated host: the system interpreter with the stub packages.
    _write(bin_dir / "python3", f'#!/bin/sh\nPYTHONPATH="{pylib}${{PYTHONPATH:+:$PYTHONPATH}}" exec {python} "$@"\n',
           0o755)
    _write(bin_dir / "python", f'#!/bin/sh\nexec "{bin_dir}/python3" "$@"\n', 0o755)
    # The official analysis tool, where CANN puts it (not on PATH): prints its console output
    # and writes its CSV files as it did on the sample code.
    official = _mk(share / "official")
    for csv_file in (FILES / "official").iterdir():
        shutil.copyfile(csv_file, official / csv_file.name)
    tool_dir = _mk(toolkit / "tools" / "ms_fmk_transplt")
    _write(tool_dir / "pytorch_analyse.sh", _analyse_script(official), 0o755)
    shutil.copytree(FILES / "train_demo", root / "opt" / "code" / "train_demo", dirs_exist_ok=True)
    train = _mk(root / "opt" / "train")
    shutil.copyfile(FILES / "train.py", train / "train.py")
    shutil.copyfile(FILES / "evaluate.py", train / "evaluate.py")
    # Short names for the demo: `ascend-demo-train --precision bf16`, `ascend-demo-eval --score 70.1`.
    _write(bin_dir / "ascend-demo-train", f'#!/bin/sh\nexec "{bin_dir}/python3" "{train}/train.py" "$@"\n', 0o755)
    _write(bin_dir / "ascend-demo-eval", f'#!/bin/sh\nexec "{bin_dir}/python3" "{train}/evaluate.py" "$@"\n', 0o755)
    for path in [root, *root.rglob("*")]:
        if path.is_dir():
            path.chmod(0o755)
    return str(ascend), str(bin_dir)


def _build_tuning_tools(root: Path, share: Path, bin_dir: Path) -> None:
    """The tuning tools (tuning/kinds/): msprobe compare writing its result CSV, ATC printing its
    success and failure output, profiler output folders before and after a tuning measure and a
    cluster step trace, two MindIE service configurations and an ONNX model to convert."""
    shutil.copytree(FILES / "tuning", share / "tuning", dirs_exist_ok=True)
    _write(bin_dir / "msprobe", _msprobe_script(share), 0o755)
    _write(bin_dir / "atc", _atc_script(share), 0o755)
    shutil.copytree(FILES / "tuning" / "profiles", root / "opt" / "profiles", dirs_exist_ok=True)
    mindie = _mk(root / "opt" / "mindie")
    for name in ("mindie_config_v1.json", "mindie_config_v2.json"):
        shutil.copyfile(FILES / "tuning" / name, mindie / name.replace("mindie_", ""))
    _write(_mk(root / "opt" / "models") / "yolox_nano.onnx", "onnx model stand-in\n")


def _msprobe_script(share: Path) -> str:
    return f"""#!/bin/sh
# Stand-in for msprobe: `msprobe -f pytorch compare -i compare.json -o <dir>` writes the
# comparison result (the current header) as compare_result_<timestamp>.csv.
out=./output; cmd=""
while [ $# -gt 0 ]; do
  case "$1" in compare) cmd=compare; shift ;; -o|--output_path) out="$2"; shift 2 ;; *) shift ;; esac
done
[ "$cmd" = compare ] || {{ echo "usage: msprobe -f pytorch compare -i compare.json -o <dir>" >&2; exit 2; }}
mkdir -p "$out" || exit 1
ts=$(date +%Y%m%d%H%M%S)
cp {share}/tuning/msprobe_compare_result.csv "$out/compare_result_$ts.csv"
echo "Compare result is $out/compare_result_$ts.csv"
echo "************************************************************************************"
echo "*                        msprobe compare ends successfully.                        *"
echo "************************************************************************************"
"""


def _atc_script(share: Path) -> str:
    return f"""#!/bin/sh
# Stand-in for ATC, printing its real console output: it fails without --model or --framework,
# or on an operator no library supports (a model named *adddsl*); otherwise it converts, with
# W11001 warnings, and writes <output>.om.
F={share}/tuning
model=""; framework=""; output=""
for a in "$@"; do case "$a" in --model=*) model="${{a#--model=}}" ;; --framework=*) framework="${{a#--framework=}}" ;;
  --output=*) output="${{a#--output=}}" ;; esac; done
echo "ATC start working now, please wait for a moment."
[ -n "$model" ] || {{ cat "$F/atc_failed_no_model.txt"; exit 1; }}
[ -n "$framework" ] || {{ cat "$F/atc_failed_no_framework.txt"; exit 1; }}
case "$model" in *adddsl*|*AddDsl*) cat "$F/atc_failed_unsupported_op.txt"; exit 1 ;; esac
sleep 0.2
[ -n "$output" ] && echo "om stand-in" > "$output.om"
cat "$F/atc_success.txt"
"""


def system_python() -> str:
    """An interpreter any login user can run (a virtualenv may sit under a private home)."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(candidate, os.X_OK):
            return candidate
    return sys.executable


def _mk(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


PASSWORD_FILE = Path("/var/lib/ascend-portal-simhost/password")


def _ensure_sim_user() -> tuple[str, str]:
    """The dedicated login account (root only). Its random password is kept in a root-only
    file, so simulated hosts started side by side (tests, the demo) agree on it."""
    try:
        pwd.getpwnam(SIM_USER)
    except KeyError:
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", SIM_USER], check=True)
    if PASSWORD_FILE.exists():
        return SIM_USER, PASSWORD_FILE.read_text().strip()
    password = secrets.token_urlsafe(12)
    subprocess.run(["chpasswd"], input=f"{SIM_USER}:{password}\n", text=True, check=True)
    PASSWORD_FILE.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    PASSWORD_FILE.touch(mode=0o600)
    PASSWORD_FILE.write_text(password)
    return SIM_USER, password


class SimulatedHost:
    """Start with ``start()``, stop with ``stop()``; or use as a context manager."""

    def __init__(self, base_dir: Path, port: int | None = None, python: str | None = None):
        self.base = Path(base_dir)
        self.port = port or _free_port()
        self.python = python or system_python()
        self.process: subprocess.Popen | None = None
        self.info: SimHostInfo | None = None

    def __enter__(self) -> SimHostInfo:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self, timeout: float = 15) -> SimHostInfo:
        if not os.path.exists(SSHD):
            raise RuntimeError("OpenSSH's sshd is missing: install the openssh-server package "
                               "(apt-get install openssh-server).")
        self.base.mkdir(parents=True, exist_ok=True)
        self.base.chmod(0o755)
        keys = _mk(self.base / "keys")
        host_key = keys / "ssh_host_ed25519_key"
        client_key = keys / "client_ed25519"
        for key in (host_key, client_key):
            if not key.exists():
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "simhost", "-f", str(key)],
                               check=True)
        if os.geteuid() == 0:
            username, password = _ensure_sim_user()
            home = Path(pwd.getpwnam(username).pw_dir)
        else:
            username, password = pwd.getpwuid(os.geteuid()).pw_name, None
            home = Path.home()
        authorized = keys / "authorized_keys"
        authorized.write_text(client_key.with_suffix(".pub").read_text())
        authorized.chmod(0o644)
        keys.chmod(0o755)
        ascend_home, tool_path = build_root(self.base / "root", self.python)
        config = self.base / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {host_key}",
                    f"PidFile {self.base / 'sshd.pid'}",
                    f"AuthorizedKeysFile {authorized}",
                    "PubkeyAuthentication yes",
                    f"PasswordAuthentication {'yes' if password else 'no'}",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",
                    f"AllowUsers {username}",
                    "PermitRootLogin no",
                    "MaxStartups 50:30:100",
                    "MaxSessions 50",
                    "Subsystem sftp internal-sftp",
                    "",
                ]
            )
        )
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(parents=True, exist_ok=True)
        log = open(self.base / "sshd.log", "ab")
        self.process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=log,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited at start; see {self.base / 'sshd.log'}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError(f"sshd did not listen on port {self.port} within {timeout} s")
        work_root = home / ".ascend-portal"
        self.info = SimHostInfo(
            address="127.0.0.1",
            port=self.port,
            username=username,
            private_key=client_key.read_text(),
            password=password,
            root=self.base / "root",
            ascend_home=ascend_home,
            tool_path=tool_path,
            work_root=str(work_root),
        )
        return self.info

    def host_public_key(self) -> tuple[str, str]:
        key_type, key_b64 = (self.base / "keys" / "ssh_host_ed25519_key.pub").read_text().split()[:2]
        return key_type, key_b64

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
        self.process = None


DEMO_HOST_NAME = "sim-910b (demo)"


def register_demo_host(info: SimHostInfo, public_key: tuple[str, str]) -> list:
    """Register the simulated host for every demo customer with its key pinned, or bring an
    earlier registration up to date (the port changes between runs; the keys do not). Both
    demo engagements (training on the smart grid's, inference on the LLM company's) run
    their jobs there."""
    pm = User.objects.filter(role=User.Role.PM).order_by("pk").first()
    if pm is None:
        return []
    hosts = []
    for customer in Customer.objects.filter(engagements__isnull=False).distinct().order_by("pk"):
        host = AscendHost.objects.filter(customer=customer, name=DEMO_HOST_NAME).first()
        if host is None:
            host = jobs.check_register_host(pm, {
                "customer": customer, "name": DEMO_HOST_NAME, "address": info.address, "port": info.port,
                "username": info.username, "auth_method": "key", "ascend_home": info.ascend_home,
                "tool_path": info.tool_path,
            }, info.private_key)
        else:
            host.port, host.ascend_home, host.tool_path = info.port, info.ascend_home, info.tool_path
            host.save(update_fields=["port", "ascend_home", "tool_path"])
        key_type, key_b64 = public_key
        if host.host_key_base64 != key_b64:
            presented = jobs.fetch_key_for_confirmation(host)
            host = jobs.check_pin_host_key(pm, host, presented.key_type, presented.base64, presented.fingerprint)
        hosts.append(host)
    return hosts
