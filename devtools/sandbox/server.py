"""The sandbox courier's HTTP service: a plain WSGI app, standard library only.

Adapters are pointed at ``<sandbox url>/<slug>`` instead of the courier's base URL and then use
the courier's real paths, headers and bodies. Each emulated courier is one module of
``devtools/sandbox/couriers/`` (its docstring lists its routes); ``/<slug>/…`` goes to it.

Journey clock: the first time a number is asked about, the sandbox notes the time (its anchor);
step ``k`` of the journey becomes visible at ``anchor + k * step_seconds`` and carries that time.

Control API (JSON in and out):

- ``GET /_sandbox/health``: status, sandbox time, number of tracked parcels.
- ``GET /_sandbox/faults``: the fault configuration; ``POST`` replaces it (missing keys take
  their default): ``{"latency_ms", "error_500", "error_429", "retry_after_seconds",
  "malformed", "timeout", "timeout_seconds"}``. Rates are probabilities per courier request,
  drawn from ``random.Random(seed)`` so a run is reproducible.
- ``POST /_sandbox/advance`` ``{"seconds": n}``: move the sandbox clock forward.
- ``POST /_sandbox/reset``: forget anchors, clear faults, undo advances, re-seed the draws.
- ``GET /_sandbox/scenarios``: one example number per carrier and scenario.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from http import HTTPStatus
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from devtools.sandbox.couriers import sandbox_couriers
from devtools.sandbox.couriers.base import CourierRequest, Parcel, Reply
from devtools.sandbox.journeys import SCENARIOS, journey_for
from devtools.sandbox.numbers import number_for_scenario

StartResponse = Callable[..., Any]


# --- Faults -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Faults:
    """What goes wrong, and how often. Rates are probabilities per courier request; at most one
    of timeout, 500, 429 and malformed happens to a request, so their sum must not exceed 1.
    Latency is added to every courier request."""

    latency_ms: int = 0
    error_500: float = 0.0
    error_429: float = 0.0
    retry_after_seconds: int = 2
    malformed: float = 0.0
    timeout: float = 0.0
    timeout_seconds: float = 30.0

    RATE_FIELDS = ("timeout", "error_500", "error_429", "malformed")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Faults:
        """Build and validate from JSON-like data; raises ValueError with a readable reason."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}; known: {sorted(known)}")
        values: dict[str, Any] = {}
        for name, value in data.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0")
            if name in cls.RATE_FIELDS and value > 1:
                raise ValueError(f"{name} is a rate between 0 and 1")
            if name in {"latency_ms", "retry_after_seconds"}:
                if int(value) != value:
                    raise ValueError(f"{name} must be a whole number")
                values[name] = int(value)
            else:
                values[name] = float(value)
        faults = cls(**values)
        if sum(getattr(faults, name) for name in cls.RATE_FIELDS) > 1:
            raise ValueError("timeout + error_500 + error_429 + malformed must not exceed 1")
        return faults

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def draw(self, rng: random.Random) -> str | None:
        """The fault for one request, or None. One draw per request keeps runs reproducible
        whatever the rates are."""
        ticket = rng.random()
        for name in self.RATE_FIELDS:
            rate = getattr(self, name)
            if ticket < rate:
                return name
            ticket -= rate
        return None


class FaultControl:
    """The app's current fault settings, changed at run time (thread-safe)."""

    def __init__(self, faults: Faults | None = None) -> None:
        self._lock = threading.Lock()
        self._faults = faults or Faults()

    @property
    def current(self) -> Faults:
        with self._lock:
            return self._faults

    def set(self, faults: Faults | Mapping[str, Any]) -> Faults:
        """Replace the settings; a mapping is validated like the control API's POST body."""
        if not isinstance(faults, Faults):
            faults = Faults.from_mapping(faults)
        with self._lock:
            self._faults = faults
        return faults

    def update(self, **changes: Any) -> Faults:
        """Change some settings, keeping the others."""
        with self._lock:
            merged = Faults.from_mapping({**self._faults.as_dict(), **changes})
            self._faults = merged
        return merged

    def clear(self) -> None:
        with self._lock:
            self._faults = Faults()


# --- The WSGI app -----------------------------------------------------------------------------


class SandboxApp:
    """Emulates the couriers' tracking APIs. Build it with ``make_app``."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        step_seconds: float,
        faults: Faults | None,
        seed: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if step_seconds <= 0:
            raise ValueError("step_seconds must be positive")
        self.step_seconds = step_seconds
        self.faults = FaultControl(faults)
        self._clock = clock
        self._sleep = sleep
        self._seed = seed
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._anchors: dict[tuple[str, str], float] = {}
        self._registered: set[tuple[str, str]] = set()
        self._advanced = 0.0
        # Faults answered so far, by kind: a soak shows it met them.
        self.faults_served: Counter[str] = Counter()

    # State -------------------------------------------------------------------------------

    def now(self) -> float:
        """The sandbox's time: the clock plus every advance asked for."""
        with self._lock:
            return self._clock() + self._advanced

    def advance(self, seconds: float) -> float:
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("seconds must be a finite number >= 0")
        with self._lock:
            self._advanced += seconds
            return self._advanced

    def reset(self) -> None:
        with self._lock:
            self._anchors.clear()
            self._registered.clear()
            self._advanced = 0.0
            self._rng = random.Random(self._seed)
            self.faults_served.clear()
        self.faults.clear()

    def anchor(self, carrier: str, number: str) -> float:
        """When the sandbox was first asked about this number (whole seconds, so that event
        times are too)."""
        now = math.floor(self.now())
        with self._lock:
            return self._anchors.setdefault((carrier, number), now)

    def register(self, carrier: str, number: str) -> bool:
        """Record that ``number`` was registered with ``carrier`` (AfterShip's POST /trackings);
        True when it is new. Registering anchors the journey, as a first sight does."""
        self.anchor(carrier, number)
        with self._lock:
            if (carrier, number) in self._registered:
                return False
            self._registered.add((carrier, number))
            return True

    def is_registered(self, carrier: str, number: str) -> bool:
        with self._lock:
            return (carrier, number) in self._registered

    def _draw_fault(self, faults: Faults) -> str | None:
        with self._lock:
            fault = faults.draw(self._rng)
            if fault:
                self.faults_served[fault] += 1
            return fault

    # WSGI --------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        # PEP 3333 hands the path over as latin-1 text; couriers' numbers are ASCII anyway.
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        method = environ.get("REQUEST_METHOD", "GET").upper()
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if path.startswith("/_sandbox/"):
            response = self._control(method, path, environ)
            body = response.encoded()
        elif path.split("/")[1] in sandbox_couriers():
            response, body = self._courier(method, path, query, environ)
        else:
            response = Reply(404, {"error": f"no sandbox route for {path}"})
            body = response.encoded()
        headers = [("Content-Type", response.content_type), ("Content-Length", str(len(body)))]
        start_response(
            f"{response.status} {HTTPStatus(response.status).phrase}", headers + response.headers
        )
        return [body]

    def _courier(
        self, method: str, path: str, query: dict[str, list[str]], environ: Mapping[str, Any]
    ) -> tuple[Reply, bytes]:
        """A courier request, with the configured faults applied around the real answer."""
        slug = path.split("/")[1]
        courier = sandbox_couriers()[slug]
        faults = self.faults.current
        if faults.latency_ms:
            self._sleep(faults.latency_ms / 1000)
        fault = self._draw_fault(faults)
        if fault == "timeout":
            # Answer eventually, like a courier that is only very slow: the client's timeout
            # decides whether it waits.
            self._sleep(faults.timeout_seconds)
        elif fault in {"error_500", "error_429"}:
            response = courier.fault_reply(fault, faults.retry_after_seconds)
            return response, response.encoded()

        request = CourierRequest(
            method=method,
            path=path[len(slug) + 1 :],
            query=query,
            headers=_request_headers(environ),
            body=_read_body(environ),
        )
        response = courier.handle(request, self)
        if fault == "malformed":
            # A body cut in half is never valid (brackets and tags stay open), sent as a success.
            response.status = 200
            body = response.encoded()
            return response, body[: max(1, len(body) // 2)]
        return response, response.encoded()

    def parcel(self, carrier: str, number: str) -> Parcel:
        """What the courier knows of ``number`` now (the ParcelSource the couriers read)."""
        journey = journey_for(carrier, number)
        anchor = self.anchor(carrier, number)
        seen = journey.seen_steps(anchor=anchor, now=self.now(), step_seconds=self.step_seconds)
        planned = journey.planned_delivery_at(anchor=anchor, step_seconds=self.step_seconds)
        return Parcel(journey=journey, seen=seen, planned_delivery=planned)

    # Control API -------------------------------------------------------------------------

    def _control(self, method: str, path: str, environ: Mapping[str, Any]) -> Reply:
        try:
            payload = _read_json(environ) if method == "POST" else {}
            if path == "/_sandbox/health" and method == "GET":
                return Reply(200, self._health())
            if path == "/_sandbox/faults" and method == "GET":
                return Reply(200, self.faults.current.as_dict())
            if path == "/_sandbox/faults" and method == "POST":
                return Reply(200, self.faults.set(payload).as_dict())
            if path == "/_sandbox/advance" and method == "POST":
                seconds = payload.get("seconds")
                if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                    raise ValueError('send {"seconds": <number>}')
                total = self.advance(float(seconds))
                return Reply(200, {"advanced_seconds": total, "now": self._now_iso()})
            if path == "/_sandbox/reset" and method == "POST":
                self.reset()
                return Reply(200, {"reset": True, "now": self._now_iso()})
            if path == "/_sandbox/scenarios" and method == "GET":
                return Reply(200, scenario_examples())
        except ValueError as exc:
            return Reply(400, {"error": str(exc)})
        known = {"/_sandbox/health", "/_sandbox/faults", "/_sandbox/advance", "/_sandbox/reset"}
        if path in known | {"/_sandbox/scenarios"}:
            return Reply(405, {"error": f"{method} is not supported on {path}"})
        return Reply(404, {"error": f"no sandbox route for {path}"})

    def _now_iso(self) -> str:
        return datetime.fromtimestamp(self.now(), UTC).isoformat()

    def _health(self) -> dict[str, Any]:
        with self._lock:
            tracked = len(self._anchors)
            advanced = self._advanced
        return {
            "status": "ok",
            "carriers": list(sandbox_couriers()),
            "now": self._now_iso(),
            "advanced_seconds": advanced,
            "step_seconds": self.step_seconds,
            "tracked_numbers": tracked,
            "faults": self.faults.current.as_dict(),
        }


def _request_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    return headers


def _read_body(environ: Mapping[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _read_json(environ: Mapping[str, Any]) -> dict[str, Any]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    if not raw.strip():
        return {}
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise ValueError("the body must be a JSON object")
    return payload


def scenario_examples() -> dict[str, Any]:
    """One number per carrier and scenario, plus the final state each scenario reaches."""
    return {
        "scenarios": {
            name: {
                "final_status": s.final_status,
                "final_substatus": s.final_substatus,
                "weight": s.weight,
            }
            for name, s in SCENARIOS.items()
        },
        "numbers": {
            carrier: {name: number_for_scenario(carrier, name) for name in SCENARIOS}
            for carrier in sandbox_couriers()
        },
        "unknown_prefixes": {slug: c.unknown_prefix for slug, c in sandbox_couriers().items()},
    }


def make_app(
    *,
    clock: Callable[[], float] = time.time,
    step_seconds: float = 3600.0,
    faults: Faults | Mapping[str, Any] | None = None,
    seed: int = 0,
) -> SandboxApp:
    """A sandbox WSGI app. ``clock`` returns epoch seconds (inject one to freeze time in tests);
    ``faults`` may be a ``Faults`` or its JSON-like mapping."""
    if faults is not None and not isinstance(faults, Faults):
        faults = Faults.from_mapping(faults)
    return SandboxApp(clock=clock, step_seconds=step_seconds, faults=faults, seed=seed)


# --- Serving ----------------------------------------------------------------------------------


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """One thread per request, so a simulated timeout does not hold up other clients."""

    daemon_threads = True  # a request still sleeping must not keep the process alive


class QuietRequestHandler(WSGIRequestHandler):
    """No access log: tests and embedded use want a clean output."""

    def log_message(self, format: str, *args: Any) -> None:
        return


def serve(
    host: str,
    port: int,
    app: SandboxApp,
    *,
    on_ready: Callable[[str], None] | None = None,
    quiet: bool = False,
) -> None:
    """Serve ``app`` until interrupted (KeyboardInterrupt propagates to the caller)."""
    handler = QuietRequestHandler if quiet else WSGIRequestHandler
    server = make_server(host, port, app, server_class=ThreadingWSGIServer, handler_class=handler)
    try:
        if on_ready is not None:
            on_ready(f"http://{host}:{server.server_port}")
        server.serve_forever()
    finally:
        server.server_close()


class SandboxHandle:
    """A sandbox serving from a background thread; use as a context manager in tests."""

    def __init__(self, app: SandboxApp, server: ThreadingWSGIServer) -> None:
        self.app = app
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_port}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def faults(self) -> FaultControl:
        return self.app.faults

    def advance(self, seconds: float) -> None:
        self.app.advance(seconds)

    def reset(self) -> None:
        self.app.reset()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def run_in_thread(app: SandboxApp | None = None) -> SandboxHandle:
    """Start ``app`` (a fresh default one if None) on 127.0.0.1, on a free port."""
    app = app or make_app()
    server = make_server(
        "127.0.0.1",
        0,
        app,
        server_class=ThreadingWSGIServer,
        handler_class=QuietRequestHandler,
    )
    return SandboxHandle(app, server)


__all__ = [
    "Faults",
    "FaultControl",
    "SandboxApp",
    "SandboxHandle",
    "make_app",
    "run_in_thread",
    "serve",
]
