"""`make run`: the web server, the django-q2 cluster and the sandbox courier in one command.

The children share one environment that points every courier adapter at the sandbox and speeds
the sync clock up, so the demo's parcels visibly move within minutes. Ctrl-C stops all three.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from devtools.demo.marketplace import demo_logins
from sellers.models import Order


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
                "devtools.sandbox",
                "--port",
                str(sandbox_port),
                "--step-seconds",
                str(step_seconds),
            ],
            "qcluster": [sys.executable, manage, "qcluster"],
            "web": [sys.executable, manage, "runserver", f"127.0.0.1:{web_port}", "--noreload"],
        }
        # Each child leads its own process group, so stopping it reaches its workers too
        # (qcluster forks several), and a SIGTERM to us stops everything like Ctrl-C does.
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        children = {
            name: subprocess.Popen(  # noqa: S603 - our own interpreter and scripts
                cmd, env=env, cwd=settings.BASE_DIR, start_new_session=True
            )
            for name, cmd in commands.items()
        }
        base = f"http://127.0.0.1:{web_port}"
        self.stdout.write(self.style.SUCCESS("\nParcelle is running:"))
        self.stdout.write(f"  admin            {base}/admin/")
        self.stdout.write(f"  API docs         {base}/api/docs/")
        self.stdout.write(f"  CS console       {base}/cs/")
        self.stdout.write(f"  API (shipments)  {base}/api/v1/shipments/")
        self.stdout.write(f"  sandbox courier  {sandbox_url}/_sandbox/health")
        for role, login in demo_logins().items():
            self.stdout.write(f"  {role:<16} {login}")
        order = Order.objects.order_by("id").first()
        if order is not None:  # what a buyer receives: the order's tracking page
            self.stdout.write(f"  {'buyer page':<16} {base}/t/{order.public_token}/")
        self.stdout.write("Ctrl-C stops everything.\n")
        try:
            while all(child.poll() is None for child in children.values()):
                time.sleep(0.5)
            failed = [name for name, child in children.items() if child.poll() is not None]
            self.stderr.write(f"stopped because {', '.join(failed)} exited")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            _stop_all(children.values())


GRACE_SECONDS = 15  # qcluster finishes its current task before leaving


def _raise_keyboard_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _stop_all(children) -> None:
    """SIGINT every child's process group, wait, then SIGKILL whatever is left."""
    for child in children:
        _signal_group(child, signal.SIGINT)
    deadline = time.monotonic() + GRACE_SECONDS
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        _signal_group(child, signal.SIGKILL)  # workers still alive after their parent left


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
        os.killpg(child.pid, signum)
