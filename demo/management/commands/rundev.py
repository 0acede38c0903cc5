"""Run the portal for a local try-out: the web server and a Celery worker, until Ctrl-C."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from demo.management.commands.seed_demo import DEMO_PASSWORD
from demo.simhost import SSHD, SimulatedHost, register_demo_host


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def child_environment(environ, host: str, port: int) -> dict:
    """The environment of the web server and the worker: e-mails link to where this portal
    serves (``PORTAL_URL``), unless the user set it."""
    env = dict(environ)
    if not env.get("PORTAL_URL"):
        env["PORTAL_URL"] = f"http://{host}:{port}"
    return env


class Command(BaseCommand):
    help = "Start the development web server and a Celery worker (with beat); print the URL and the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--no-simhost", action="store_true", help="Do not start the simulated Ascend host.")

    def handle(self, *args, host, port, no_simhost=False, **options):
        simhost = None if no_simhost else self._start_simhost()
        (settings.VAR_DIR / "celery" / "queue").mkdir(parents=True, exist_ok=True)
        for folder in ("processed", "control"):
            (settings.VAR_DIR / "celery" / folder).mkdir(parents=True, exist_ok=True)
        python = sys.executable
        env = child_environment(os.environ, host, port)
        children = [
            subprocess.Popen(
                [python, "-m", "celery", "-A", "config", "worker", "-P", "prefork", "-c", "2",
                 "-Q", "default,ssh,pdf", "--without-mingle", "--without-gossip", "-l", "info",
                 f"--statedb={settings.VAR_DIR / 'celery' / 'worker.state'}",
                 # Beat inside the worker: the reaper of lost jobs and the expiry of quotes run here too.
                 "--beat", f"--schedule={settings.VAR_DIR / 'celery' / 'celerybeat-schedule'}"],
                start_new_session=True, env=env,
            ),
            subprocess.Popen([python, "manage.py", "runserver", "--noreload", f"{host}:{port}"],
                             start_new_session=True, env=env),
        ]
        url = f"http://{host}:{port}/"
        self.stdout.write(self.style.SUCCESS(f"\nThe portal runs at {url}  (Ctrl-C stops it)\n"))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):\n")
        self.stdout.write("  consultant  - consultant on both demo engagements\n")
        self.stdout.write("  pm          - project manager, sees every engagement\n")
        self.stdout.write("  customer    - contact of the demo smart-grid customer\n")
        self.stdout.write("  customer2   - contact of the demo LLM customer\n\n")
        if simhost:
            self.stdout.write(f"Simulated Ascend host 'sim-910b (demo)' (8 x 910B3) on 127.0.0.1:{simhost.port},\n"
                              "registered for both demo customers: run jobs on it from any stage's Jobs page.\n\n")
        # Stopped with Ctrl-C or a SIGTERM alike: the children always go with it.
        signal.signal(signal.SIGTERM, _interrupt)
        signal.signal(signal.SIGINT, _interrupt)  # also when started in the background, where SIGINT is ignored
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    os.killpg(child.pid, signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(child.pid, signal.SIGKILL)
            if simhost:
                simhost.stop()

    def _start_simhost(self):
        """The simulated Ascend host (sshd on loopback), registered for the demo customer."""
        if not os.path.exists(SSHD):
            self.stdout.write("No sshd here (apt-get install openssh-server): starting without the simulated host.")
            return None
        simhost = SimulatedHost(settings.VAR_DIR / "simhost")
        info = simhost.start()
        register_demo_host(info, simhost.host_public_key())
        return simhost
