"""Run the benchmarks: ``make bench`` or ``python -m benchmarks.run [NAME ...] [options]``.

Every module in BENCHMARKS provides
    NAME: str                                   short name, also its docs/benchmarks.md section
    add_arguments(parser) -> None               its own options (distinct names across modules)
    run(options) -> bool                        runs, prints, records; True when its goal is met

Exit status: 0 all goals met, 1 a goal missed, 2 refused (not PostgreSQL, database unreachable).
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
    for module in modules:
        module.add_arguments(parser.add_argument_group(module.NAME))
    options = parser.parse_args(argv)
    unknown = [name for name in options.only if name not in by_name]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")

    from benchmarks.common import setup_django

    setup_django()
    results = {}
    for module in modules:
        if options.only and module.NAME not in options.only:
            continue
        print(f"\n=== {module.NAME} ===", flush=True)
        results[module.NAME] = module.run(options)

    print("\n" + "  ".join(f"{name}: {'PASS' if ok else 'FAIL'}" for name, ok in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
