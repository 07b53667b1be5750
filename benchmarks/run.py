"""Run the benchmarks: ``make bench`` or ``python -m benchmarks.run [NAME ...] [options]``.

Every module in BENCHMARKS provides
    NAME: str                                   short name, also its docs/benchmarks.md section
    add_arguments(parser) -> None               its own options (distinct names across modules)
    SMOKE: dict[str, object]                    option values of its smoke run (small sizes)
    run(options) -> bool                        runs, verifies, prints, records; True when its
                                                goal is met; raises (VerificationFailed or an
                                                assertion) when its results are wrong

``--smoke`` runs every benchmark at its SMOKE size (issue 20): the data is built and the results
verified exactly as in the full run, the goals are reported but ignored, and docs/benchmarks.md
is left alone. tests/test_benchmarks_smoke.py runs it in CI, so a benchmark that no longer runs
against the current schema fails the suite instead of waiting for the next `make bench`.

Exit status: 0 all goals met (smoke: every benchmark ran and verified), 1 a goal missed or a
benchmark failed, 2 refused (not PostgreSQL, database unreachable).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# In the order they run. Add a module here to add a benchmark.
BENCHMARKS = [
    "benchmarks.ingest",
    "benchmarks.tracking_page",
    "benchmarks.payouts_release",
    "benchmarks.cs_search",
    "benchmarks.seller_dashboards",
]


def main(argv: Sequence[str] | None = None) -> int:
    modules = [importlib.import_module(name) for name in BENCHMARKS]
    by_name = {module.NAME: module for module in modules}
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument(
        "only",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run (default: all): {', '.join(by_name)}",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="every benchmark at a small size: verify the results, ignore the goals, record "
        "nothing (explicit options still override the smoke sizes)",
    )
    for module in modules:
        module.add_arguments(parser.add_argument_group(module.NAME))
    smoke = parser.parse_known_args(argv)[0].smoke
    if smoke:
        for module in modules:
            parser.set_defaults(**module.SMOKE)
    options = parser.parse_args(argv)
    unknown = [name for name in options.only if name not in by_name]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")

    from benchmarks.common import set_smoke, setup_django

    set_smoke(smoke)
    setup_django()
    results = {}
    for module in modules:
        if options.only and module.NAME not in options.only:
            continue
        print(f"\n=== {module.NAME}{' (smoke)' if smoke else ''} ===", flush=True)
        results[module.NAME] = module.run(options)

    if smoke:
        # Reaching here means every benchmark built its data and verified its results.
        print("\nsmoke: " + "  ".join(
            f"{name}: verified (goal {'met' if ok else 'missed, ignored'})"
            for name, ok in results.items()
        ))  # fmt: skip
        return 0
    print("\n" + "  ".join(f"{name}: {'PASS' if ok else 'FAIL'}" for name, ok in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
