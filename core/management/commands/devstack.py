"""`make run`: the web server, the django-q2 cluster and the sandbox courier in one command.

The children share one environment that points every courier adapter at the sandbox and speeds
the sync clock up, so the demo's parcels visibly move within minutes. Ctrl-C stops all three.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from sellers.demo import DEMO_LOGINS


class Command(BaseCommand):
    help = "Start web server, django-q2 cluster and sandbox courier together (Ctrl-C stops all)."

    def add_arguments(self, parser):
        parser.add_argument("--web-port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--sandbox-port", type=int, default=8050)
        parser.add_argument(
            "--step-seconds",
            type=float,
            default=90.0,
            help="Sandbox: seconds between two steps of a parcel's journey.",
        )

    def handle(self, *args, web_port: int, sandbox_port: int, step_seconds: float, **options):
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        env = {
            **os.environ,
            "CARRIER_SANDBOX_URL": sandbox_url,
            "TRACKING_SYNC_INTERVAL_DIVISOR": os.environ.get(
                "TRACKING_SYNC_INTERVAL_DIVISOR", "120"
            ),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}",
            "PYTHONUNBUFFERED": "1",
        }
        manage = str(settings.BASE_DIR / "manage.py")
        commands = {
            "sandbox": [
                sys.executable,
                "-m",
                "tracking.sandbox",
                "--port",
                str(sandbox_port),
                "--step-seconds",
                str(step_seconds),
            ],
            "qcluster": [sys.executable, manage, "qcluster"],
            "web": [sys.executable, manage, "runserver", f"127.0.0.1:{web_port}", "--noreload"],
        }
        children = {
            name: subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR)  # noqa: S603
            for name, cmd in commands.items()
        }
        base = f"http://127.0.0.1:{web_port}"
        self.stdout.write(self.style.SUCCESS("\nParcelle is running:"))
        self.stdout.write(f"  admin            {base}/admin/")
        self.stdout.write(f"  API docs         {base}/api/docs/")
        self.stdout.write(f"  API (shipments)  {base}/api/v1/shipments/")
        self.stdout.write(f"  sandbox courier  {sandbox_url}/_sandbox/health")
        for role, login in DEMO_LOGINS.items():
            self.stdout.write(f"  {role:<16} {login}")
        self.stdout.write("Ctrl-C stops everything.\n")
        try:
            while all(child.poll() is None for child in children.values()):
                time.sleep(0.5)
            failed = [name for name, child in children.items() if child.poll() is not None]
            self.stderr.write(f"stopped because {', '.join(failed)} exited")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signal.SIGINT)
            deadline = time.monotonic() + 10
            for child in children.values():
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
