"""`make mutate`: mutation testing of the rules whose wrong answer moves money or hides a parcel.

    python scripts/mutate.py [MODULE ...] [--report-only]
      -> mutmut run <the module's mutants> (config: [tool.mutmut] in pyproject.toml)
      -> read mutmut's results (mutants/<file>.meta) and each surviving mutant's diff
      -> drop the reviewed equivalent mutants (scripts/mutate_equivalents.toml)
      -> print and write the per-module report (var/mutate-report.md)
      -> exit 1 when a module kills less than MIN_SCORE of its non-equivalent mutants

An equivalent mutant is identified by its module, function and diff (the changed lines, without
indentation), not by mutmut's numbered name, which shifts whenever the function changes: an
entry keeps matching across re-runs and unrelated edits, and stops matching (reported as stale)
when the line it is about changes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "scripts" / "mutate_equivalents.toml"
REPORT = ROOT / "var" / "mutate-report.md"
MIN_SCORE = 0.90

# name -> file mutated
MODULES = {
    "status": "tracking/status.py",
    "pod-gate": "tracking/proof.py",
    "payout-rules": "payouts/rules.py",
    "checksums": "tracking/detection/checksums.py",
    "payout-release": "payouts/services/release.py",
    "ingest": "tracking/services/ingest.py",
}
# The ingest and the release write with SQL of their own on PostgreSQL (production) and through
# the ORM elsewhere: their mutants run on PostgreSQL, where both paths are reached (the ORM path
# through the SQLite-only branch is small and covered by the suite). The others are pure rules
# or run the same SQL everywhere: SQLite in memory, the fastest database to build per mutant.
ON_POSTGRES = {"ingest", "payout-release"}
SQLITE_URL = f"sqlite:///{ROOT / 'var' / 'mutate.sqlite3'}"  # unused: tests build theirs in memory
POSTGRES_URL = os.environ.get(
    "MUTATE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/parcelle_mutate"
)

# mutmut's exit-code vocabulary (mutmut.stats.status_by_exit_code) folded into what the score
# needs: a timeout is a kill (the mutant made the code loop), "no tests" is a survivor (nothing
# reaches the code), anything else unexpected is not a kill either.
KILLED = {"killed", "timeout", "caught by type check", "segfault"}


def prefix(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".") + "."


def normalised_diff(diff: str) -> str:
    """The changed lines of a mutant's diff, stripped: its identity, whatever the indentation."""
    lines = [
        line[0] + line[1:].strip()
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return "\n".join(lines)


@dataclass
class ModuleResult:
    name: str
    path: str
    total: int = 0
    killed: int = 0
    equivalent: list[tuple[str, str, str]] = field(default_factory=list)  # (mutant, diff, why)
    survived: list[tuple[str, str, str]] = field(default_factory=list)  # (mutant, status, diff)

    @property
    def considered(self) -> int:
        return self.total - len(self.equivalent)

    @property
    def score(self) -> float:
        return self.killed / self.considered if self.considered else 1.0


def load_equivalents() -> dict[tuple[str, str, str], str]:
    data = tomllib.loads(EQUIVALENTS.read_text("utf-8")) if EQUIVALENTS.exists() else {}
    reviewed = {}
    for entry in data.get("equivalent", []):
        key = (entry["module"], entry["function"], normalised_diff(entry["diff"]))
        reviewed[key] = entry["why"].strip()
    return reviewed


def collect(name: str, path: str, reviewed: dict[tuple[str, str, str], str]) -> ModuleResult:
    # mutmut's own readers: they resolve paths against the current directory (the project root)
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    data = SourceFileMutationData(path=Path(path))
    data.load()
    result = ModuleResult(name, path)
    for mutant, exit_code in sorted(data.exit_code_by_key.items(), key=lambda kv: _order(kv[0])):
        result.total += 1
        status = status_by_exit_code[exit_code]
        if status in KILLED:
            result.killed += 1
            continue
        diff = get_diff_for_mutant(mutant, path=Path(path))
        function = mutant.removeprefix(prefix(path)).split("__mutmut_")[0].removeprefix("x_")
        why = reviewed.pop((name, function, normalised_diff(diff)), None)
        if why is not None and status == "survived":
            result.equivalent.append((mutant, diff, why))
        else:
            result.survived.append((mutant, status, diff))
    return result


def _order(mutant: str) -> tuple[str, int]:
    function, _, number = mutant.rpartition("__mutmut_")
    return function, int(number) if number.isdigit() else 0


def report(results: list[ModuleResult], stale: list[tuple[str, str, str]]) -> str:
    out = [
        "# Mutation testing report (`make mutate`)",
        "",
        "| module | file | mutants | killed | survived | equivalent | score |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        out.append(
            f"| {r.name} | `{r.path}` | {r.total} | {r.killed} | {len(r.survived)} | "
            f"{len(r.equivalent)} | {r.score:.1%} |"
        )
    out.append("")
    out.append("Score: killed / (mutants - equivalent); a timeout counts as killed, a mutant no")
    out.append(f"selected test reaches as survived. Minimum: {MIN_SCORE:.0%} per module.")
    for r in results:
        if r.survived:
            out += ["", f"## {r.name}: surviving mutants", ""]
            for mutant, status, diff in r.survived:
                out += [f"### {mutant} ({status})", "", "```diff", diff.strip(), "```", ""]
    if stale:
        out += ["", "## Reviewed equivalents that no longer match a surviving mutant", ""]
        out += [f"- {module}.{function}: `{diff}`" for module, function, diff in stale]
    return "\n".join(out) + "\n"


def run_mutmut(names: list[str], on_postgres: bool, max_children: str) -> int:
    env = dict(os.environ, DATABASE_URL=POSTGRES_URL if on_postgres else SQLITE_URL)
    if on_postgres:
        # One test database, built once and kept (--reuse-db), one mutant at a time: a
        # transactional test of one mutant's run commits rows another run could count.
        env["PYTEST_ADDOPTS"] = (env.get("PYTEST_ADDOPTS", "") + " --reuse-db").strip()
        max_children = "1"
    globs = [prefix(MODULES[name]) + "*" for name in names]
    mutmut = Path(sys.executable).with_name("mutmut")
    command = [str(mutmut), "run", "--max-children", max_children, *globs]
    return subprocess.run(command, cwd=ROOT, env=env).returncode  # noqa: S603 - fixed arguments


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=", ".join(MODULES))
    parser.add_argument("--report-only", action="store_true", help="report the last run")
    parser.add_argument("--max-children", default="2", help="mutants tested at once")
    args = parser.parse_args()
    names = args.modules or list(MODULES)
    unknown = [name for name in names if name not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    if not args.report_only:
        # The SQLite modules together; the PostgreSQL ones one after the other (one mutant at a
        # time each), so that a module's results are complete before the next one starts.
        sqlite = [name for name in names if name not in ON_POSTGRES]
        groups = [(sqlite, False)] if sqlite else []
        groups += [([name], True) for name in names if name in ON_POSTGRES]
        for group, on_postgres in groups:
            if code := run_mutmut(group, on_postgres, args.max_children):
                print(f"mutmut run failed (exit {code})", file=sys.stderr)
                return code

    reviewed = load_equivalents()
    results = [collect(name, MODULES[name], reviewed) for name in names]
    # Entries left over belong to the modules run here but matched no surviving mutant.
    stale = [key for key in reviewed if key[0] in names]
    text = report(results, stale)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(text, "utf-8")
    print(text)
    print(f"(written to {REPORT.relative_to(ROOT)})")
    below = [r.name for r in results if r.score < MIN_SCORE]
    if below:
        print(f"below {MIN_SCORE:.0%}: {', '.join(below)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
