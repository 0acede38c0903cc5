"""The detached-run protocol on a host, as shell scripts built from quoted argv lists.

Every job has a remote directory ``<work_root>/<job uuid>/``. The launcher starts the
command with ``nohup setsid`` (its pid is also its session id), writing ``pid``,
``output.log`` (stdout and stderr together), then ``exit_code`` and ``done``. Launching is
idempotent: a directory that already has ``done`` or a live ``pid`` is reported, not run
again, so a redelivered task or a restarted worker re-attaches instead of running a
benchmark twice.
"""

import shlex

from .commands import quote_argv, sh_c, shell_path

STATE_PREFIX = "STATE="
LAUNCHED, RUNNING, DONE, VANISHED = "launched", "running", "done", "vanished"
BASE_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"


def job_dir(work_root: str, job_uuid: str) -> str:
    return f"{work_root.rstrip('/')}/{job_uuid}"


def launch_script(run_dir: str, argv: list[str], *, workdir: str = "", tool_path: str = "",
                  timeout_s: int = 3600) -> str:
    """The command that launches ``argv`` detached in ``run_dir`` (or reports its state).

    ``workdir`` is where the command runs (default: the run directory). The environment is
    cleared and rebuilt inside the wrapper, so nothing of the SSH session leaks in.
    """
    path = f"{tool_path}:{BASE_PATH}" if tool_path else BASE_PATH
    # $1 is the run directory's absolute path, $2 the working directory.
    inner = "; ".join(
        [
            'echo $$ > "$1/pid"',
            ('cd "$2" || { echo "cannot enter working directory $2" ; echo 126 > "$1/exit_code"; '
             'touch "$1/done"; exit 126; }'),
            " ".join(
                [
                    'env -i HOME="$HOME" USER="$USER"',
                    f"PATH={shlex.quote(path)}",
                    "LC_ALL=C.UTF-8 LANG=C.UTF-8 PYTHONUNBUFFERED=1 PYTHONIOENCODING=utf-8",
                    f"timeout --signal=TERM --kill-after=30 {int(timeout_s)}",
                    quote_argv(argv),
                ]
            ),
            'echo $? > "$1/exit_code.tmp"',
            'mv "$1/exit_code.tmp" "$1/exit_code"',
            'touch "$1/done"',
        ]
    )
    lines = [
        "set -e",
        f"mkdir -p {shlex.quote(run_dir)}",
        f"cd {shlex.quote(run_dir)}",
        f'if [ -f done ]; then echo {STATE_PREFIX}{DONE}; exit 0; fi',
        f'if [ -f pid ] && kill -0 "$(cat pid)" 2>/dev/null; then echo {STATE_PREFIX}{RUNNING}; exit 0; fi',
        f'if [ -f pid ] || [ -f output.log ]; then echo {STATE_PREFIX}{VANISHED}; exit 0; fi',
        "umask 027",
        "RUN_ABS=$(pwd)",
    ]
    workdir_expr = shell_path(workdir) if workdir else '"$RUN_ABS"'
    lines += [
        f'nohup setsid sh -c {shlex.quote(inner)} sh "$RUN_ABS" {workdir_expr} > output.log 2>&1 < /dev/null &',
        # Wait until the wrapper has written its pid, so a cancel right after launch finds it.
        "i=0; while [ ! -s pid ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done",
        f"echo {STATE_PREFIX}{LAUNCHED}",
    ]
    return sh_c("\n".join(lines))


def mkdir_script(run_dir: str) -> str:
    return sh_c(f"umask 027 && mkdir -p {shlex.quote(run_dir)} && cd {shlex.quote(run_dir)} && pwd")


def state_script(run_dir: str) -> str:
    """Reports done (with the exit code), running, or vanished (started, gone, not done)."""
    return sh_c(
        "\n".join(
            [
                f"cd {shlex.quote(run_dir)} 2>/dev/null || {{ echo {STATE_PREFIX}{VANISHED}; exit 0; }}",
                f'if [ -f done ]; then echo {STATE_PREFIX}{DONE}; cat exit_code 2>/dev/null; exit 0; fi',
                f'if [ -f pid ] && kill -0 "$(cat pid)" 2>/dev/null; then echo {STATE_PREFIX}{RUNNING}; exit 0; fi',
                f"echo {STATE_PREFIX}{VANISHED}",
            ]
        )
    )


def kill_script(run_dir: str, signal: str = "TERM") -> str:
    """Signal every process of the job's session (the pid is the session id, thanks to setsid).

    The whole session, not just the pid's process group: ``timeout`` moves itself and the
    command into a group of their own. Falls back to the group where pkill is missing.
    """
    if signal not in ("TERM", "KILL"):
        raise ValueError(signal)
    return sh_c(
        f'cd {shlex.quote(run_dir)} 2>/dev/null || exit 0\n'
        '[ -f pid ] || { echo gone; exit 0; }\n'
        'sid=$(cat pid)\n'
        f'pkill -{signal} -s "$sid" 2>/dev/null || kill -{signal} "-$sid" 2>/dev/null\n'
        'sleep 0.2\n'
        'if pgrep -s "$sid" >/dev/null 2>&1 || kill -0 "$sid" 2>/dev/null; then echo alive; else echo gone; fi'
    )


def parse_state(stdout: str) -> tuple[str, int | None]:
    """(state, exit code or None) from the output of launch/state scripts."""
    state, exit_code = VANISHED, None
    lines = [line.strip() for line in stdout.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if line.startswith(STATE_PREFIX):
            state = line[len(STATE_PREFIX):]
            if state == DONE and index + 1 < len(lines):
                try:
                    exit_code = int(lines[index + 1])
                except ValueError:
                    exit_code = None
    return state, exit_code
