"""Run the sandbox courier as its own process.

    python -m devtools.sandbox --port 8050 --step-seconds 60

Point the adapters at ``http://127.0.0.1:8050/<slug>`` (``/laposte``, ``/dhl``). Faults can be
set here at start-up or changed later through ``POST /_sandbox/faults``.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from devtools.sandbox.journeys import SCENARIOS
from devtools.sandbox.numbers import number_for_scenario
from devtools.sandbox.server import Faults, make_app, serve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.sandbox",
        description="Local courier emulator speaking La Poste Suivi v2 and DHL Unified.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8050, help="port to listen on (8050)")
    parser.add_argument(
        "--step-seconds",
        type=float,
        default=3600.0,
        help="seconds between two steps of a journey (3600)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault draws (0)")
    parser.add_argument("--quiet", action="store_true", help="no access log")
    defaults = Faults()
    parser.add_argument("--fault-latency-ms", type=int, default=defaults.latency_ms)
    parser.add_argument("--fault-error-500", type=float, default=defaults.error_500, help="rate")
    parser.add_argument("--fault-error-429", type=float, default=defaults.error_429, help="rate")
    parser.add_argument(
        "--fault-retry-after-seconds", type=int, default=defaults.retry_after_seconds
    )
    parser.add_argument("--fault-malformed", type=float, default=defaults.malformed, help="rate")
    parser.add_argument("--fault-timeout", type=float, default=defaults.timeout, help="rate")
    parser.add_argument("--fault-timeout-seconds", type=float, default=defaults.timeout_seconds)
    return parser


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        faults = Faults.from_mapping(
            {
                "latency_ms": args.fault_latency_ms,
                "error_500": args.fault_error_500,
                "error_429": args.fault_error_429,
                "retry_after_seconds": args.fault_retry_after_seconds,
                "malformed": args.fault_malformed,
                "timeout": args.fault_timeout,
                "timeout_seconds": args.fault_timeout_seconds,
            }
        )
        app = make_app(step_seconds=args.step_seconds, faults=faults, seed=args.seed)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def announce(url: str) -> None:
        print(f"Sandbox courier listening on {url}", flush=True)
        print(f"  La Poste base URL: {url}/laposte   DHL base URL: {url}/dhl")
        print(f"  control: {url}/_sandbox/health, /_sandbox/faults, /_sandbox/advance")
        example = number_for_scenario("laposte", "delivered_signed")
        print(f"  {len(SCENARIOS)} scenarios; e.g. La Poste {example}, see /_sandbox/scenarios")
        print("  Ctrl-C to stop", flush=True)

    # Ctrl-C and a process manager's SIGTERM both end the serve loop the same way. Installing the
    # handlers explicitly also covers shells that start background jobs with SIGINT ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve(args.host, args.port, app, on_ready=announce, quiet=args.quiet)
    except KeyboardInterrupt:
        print("\nSandbox courier stopped.")
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
