"""What every benchmark shares: Django on DATABASE_URL (PostgreSQL only), the bench database
created and migrated, a description of the machine, and a section of docs/benchmarks.md.

Call ``setup_django()`` before importing any model; it exits with status 2 when DATABASE_URL
is not a PostgreSQL database (the figures mean nothing on SQLite).
"""

from __future__ import annotations

import os
import platform
import re
import secrets
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC_PATH = ROOT / "docs" / "benchmarks.md"
DOC_HEADER = """# Benchmarks

Figures measured by `make bench` (`python -m benchmarks.run`) on PostgreSQL. Each section is
rewritten by its benchmark on every run, between its `<!-- bench:NAME:start/end -->` markers;
text outside the markers is kept.
"""

EXIT_REFUSED = 2


class BenchmarkRefused(SystemExit):
    """The environment cannot give meaningful figures (not PostgreSQL, no DATABASE_URL…)."""

    def __init__(self, message: str) -> None:
        print(f"benchmarks: {message}", file=sys.stderr)
        super().__init__(EXIT_REFUSED)


class VerificationFailed(AssertionError):
    """A benchmark's results are wrong (a search missed its parcel, rollups differ from the raw
    rows, a page answered with an error): a failure in the full run and in the smoke alike,
    unlike a missed goal, which the smoke ignores."""


def verify(condition: bool, message: str) -> None:
    """Raise VerificationFailed(message) unless ``condition`` (not an ``assert``: it must hold
    under ``python -O`` too)."""
    if not condition:
        raise VerificationFailed(message)


# The smoke run (python -m benchmarks.run --smoke): small sizes, verifications only. Its figures
# mean nothing, so it must not overwrite the full run's in docs/benchmarks.md.
_smoke = False


def set_smoke(enabled: bool) -> None:
    global _smoke
    _smoke = enabled


def is_smoke() -> bool:
    return _smoke


_ready = False


def setup_django(*, migrate: bool = True) -> None:
    """Configure Django on DATABASE_URL, refuse anything but PostgreSQL, create the database if
    missing and apply migrations. Idempotent: later benchmarks in the same run reuse it."""
    global _ready
    if _ready:
        return
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://", "postgis://")):
        raise BenchmarkRefused(
            "refusing to run: the benchmarks measure PostgreSQL only. Set DATABASE_URL to a "
            "PostgreSQL database (make bench uses BENCH_DATABASE_URL, default "
            "postgres://postgres@127.0.0.1:5432/parcelle_bench)."
        )
    # Measure what production runs: DEBUG=0 (Django then keeps no log of every query). Production
    # settings need a secret key: a throwaway one for the benchmark database.
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-" + secrets.token_urlsafe(48))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()

    from django.db import connection

    if connection.vendor != "postgresql":
        raise BenchmarkRefused(f"refusing to run on {connection.vendor}: PostgreSQL only.")
    _create_database_if_missing(connection.settings_dict)
    if migrate:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
    _ready = True


def _create_database_if_missing(settings_dict: dict) -> None:
    import psycopg
    from psycopg import sql

    name = settings_dict["NAME"]
    params = {
        "dbname": "postgres",
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
    }
    try:
        with psycopg.connect(
            **{k: v for k, v in params.items() if v}, autocommit=True
        ) as maintenance:
            exists = maintenance.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if not exists:
                maintenance.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"benchmarks: created database {name}")
    except psycopg.OperationalError as exc:
        raise BenchmarkRefused(f"cannot reach PostgreSQL: {exc}".strip()) from exc


def truncate(*models) -> None:
    """Empty these models' tables (and, by CASCADE, whatever references them); ids restart."""
    from django.db import connection

    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


def settle_database(*tables: str) -> None:
    """Before a timed run: refresh planner statistics and flush dirty pages, so that neither the
    autovacuum daemon nor a checkpoint started by the previous phase lands inside the timing."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        cursor.execute("CHECKPOINT")


@dataclass
class Timer:
    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Timer]:
    timer = Timer()
    start = time.perf_counter()
    try:
        yield timer
    finally:
        timer.seconds = time.perf_counter() - start


# --- The machine ---------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else platform.machine()


def _ram_gib() -> float | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    match = re.search(r"^MemTotal:\s*(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) / 1024 / 1024 if match else None


def _postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def _cores() -> str:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    total = os.cpu_count()
    if usable and total and usable != total:
        return f"{usable} usable of {total}"
    return str(total)


def machine_description() -> dict[str, str]:
    import django
    import psycopg

    ram = _ram_gib()
    # The load when the section is written: the machine is shared (other engineers' tests run
    # beside the benchmarks), so a figure means little without it.
    load = "/".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return {
        "Date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "Load average (1/5/15 min, at the end of the run)": load,
        "CPU": _cpu_model(),
        "Cores": _cores(),
        "RAM": f"{ram:.1f} GiB" if ram else "unknown",
        "PostgreSQL": _postgres_version(),
        "Python": platform.python_version(),
        "Django / psycopg": f"{django.get_version()} / {psycopg.__version__}",
        "OS": f"{platform.system()} {platform.release()}",
    }


def machine_markdown() -> str:
    return "\n".join(f"- {key}: {value}" for key, value in machine_description().items())


# --- Output --------------------------------------------------------------------------------


def text_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Plain-text table for the terminal; numbers right-aligned."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )

    return "\n".join(
        [line(cells[0]), "  ".join("-" * w for w in widths), *(line(r) for r in cells[1:])]
    )


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    align = ["---", *["---:"] * (len(headers) - 1)]
    return "\n".join(
        "| " + " | ".join(str(c) for c in row) + " |" for row in [headers, align, *rows]
    )


def record_section(name: str, body: str, *, path: Path = DOC_PATH) -> None:
    """Write ``body`` between ``<!-- bench:NAME:start -->`` and ``<!-- bench:NAME:end -->`` in
    docs/benchmarks.md: replaced in place when the markers exist, appended otherwise. The rest
    of the file (other benchmarks' sections, hand-written notes) is left as it is. A smoke run
    records nothing."""
    if _smoke:
        print(f"smoke run: {name} not recorded in {path.name}")
        return
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = path.read_text() if path.exists() else DOC_HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"recorded in {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")
