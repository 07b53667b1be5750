"""Separate processes of the product (qclusters, a driver) for tests that run it as production
does: several processes on one database and one Redis."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import connection


def database_url() -> str:
    """This test database's URL, for child processes (PostgreSQL: they need a server)."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextlib.contextmanager
def running_processes(commands: dict[str, list[str]], env: dict[str, str], logs: Path):
    """Start each command in its own process group, its output in ``logs/<name>.log``; SIGINT
    then SIGKILL them all on exit."""
    children = {}
    try:
        for name, command in commands.items():
            children[name] = subprocess.Popen(  # noqa: S603 - our interpreter, our manage.py
                command, env=env, cwd=settings.BASE_DIR, start_new_session=True,
                stdout=(logs / f"{name}.log").open("wb"), stderr=subprocess.STDOUT,
            )  # fmt: skip
        yield children
    finally:
        for child in children.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGINT)
        for child in children.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=20)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
