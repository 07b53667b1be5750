"""Performance benchmarks, run against PostgreSQL with ``make bench`` (see benchmarks.run).

Each benchmark is a module listed in ``benchmarks.run.BENCHMARKS`` and records its figures in
its own section of docs/benchmarks.md (``benchmarks.common.record_section``).
"""
