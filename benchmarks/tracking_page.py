"""The buyer tracking page served for real: gunicorn (DEBUG=0, PostgreSQL), loopback clients.

    prepare (not timed)   one seller with branding, one order with 3 parcels and their events
                          (one delivered with POD); collectstatic to a temporary directory;
                          gunicorn on a free 127.0.0.1 port with benchmarks.tracking_page_site
                          (the product's settings, rate limit raised) and
                          benchmarks.tracking_page_urls (its URLs + a minimal "ok" view)
    run A (timed)         GET /bench/ok/ — the floor: Django's cycle and middleware only
    run B (timed)         GET /t/<order token>/ — the order page (each worker renders it once,
                          then serves it from its cache until a parcel changes)

Each run: WARMUP requests, then REQUESTS requests from CLIENTS threads (requests library,
X-Forwarded-Proto: https as the load balancer sends), bounded by MAX_SECONDS. Goals: order page
p95 < GOAL_P95_MS and throughput >= GOAL_RATIO of the minimal view's.

Standalone: ``python -m benchmarks.run tracking_page`` (DATABASE_URL must be PostgreSQL).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from benchmarks.common import (
    ROOT,
    machine_markdown,
    markdown_table,
    record_section,
    text_table,
    verify,
)

NAME = "tracking_page"
SMOKE = {"page_requests": 60, "page_clients": 2, "page_workers": 1}
GOAL_P95_MS = 50.0
GOAL_RATIO = 0.5
DEFAULT_REQUESTS = 2000
DEFAULT_CLIENTS = 4
DEFAULT_WORKERS = 2
WARMUP = 50
MAX_SECONDS = 120  # per run: a stuck server ends the run, not the machine's afternoon
SELLER_SLUG = "bench-tracking-page"


def add_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--page-requests", type=int, default=DEFAULT_REQUESTS, help="(default: %(default)s)"
    )
    parser.add_argument(
        "--page-clients",
        type=int,
        default=DEFAULT_CLIENTS,
        help="concurrent client threads (default: %(default)s)",
    )
    parser.add_argument(
        "--page-workers",
        type=int,
        default=DEFAULT_WORKERS,
        help="gunicorn workers (default: %(default)s)",
    )


# --- Data ----------------------------------------------------------------------------------


def seed() -> str:
    """A branded seller's order with 3 parcels (in transit, out for delivery, delivered with
    POD), 6 to 8 events each. Replaces the previous run's. Returns the order's public token."""
    from django.db import transaction
    from django.utils import timezone

    from sellers.models import Order, Seller
    from sellers.services import order_create, seller_branding_update
    from tracking.models import ProofOfDelivery, Shipment, TrackingEvent

    with transaction.atomic():
        Shipment.objects.filter(seller__slug=SELLER_SLUG).delete()
        Order.objects.filter(seller__slug=SELLER_SLUG).delete()
        Seller.objects.filter(slug=SELLER_SLUG).delete()
        seller = Seller.objects.create(name="Atelier Bench", slug=SELLER_SLUG)
        seller_branding_update(
            seller=seller,
            primary_color="#0B3D2E",
            accent_color="#F5C542",
            message="Merci pour votre commande !",
            contact_url="https://atelier.example/contact",
            actor=None,
        )
        order = order_create(
            seller=seller,
            reference="BENCH-0001",
            total_amount=12900,
            buyer_name="Client Bench",
            buyer_email="client@example.com",
            destination_postcode="69003",
        )
        now = timezone.now()
        journeys = [
            ("in_transit", ["info_received", "in_transit", "in_transit", "in_transit"]),
            ("out_for_delivery", ["info_received", *["in_transit"] * 5, "out_for_delivery"]),
            (
                "delivered",
                ["info_received", *["in_transit"] * 5, "out_for_delivery", "delivered"],
            ),
        ]
        for n, (status, steps) in enumerate(journeys):
            shipment = Shipment.objects.create(
                order=order,
                seller=seller,
                carrier="laposte",
                tracking_number=f"6A9{n:010d}",
                status=status,
                substatus="delivered.mailbox" if status == "delivered" else "",
                estimated_delivery_at=now + timedelta(days=1),
                delivered_at=now if status == "delivered" else None,
            )
            events = [
                TrackingEvent(
                    shipment=shipment,
                    occurred_at=now - timedelta(hours=6 * (len(steps) - i)),
                    carrier_code=f"C{i}",
                    message="Votre colis est en cours d'acheminement",
                    city=["Wissous", "Corbas", "Lyon", "Marseille"][i % 4],
                    postcode="69960",
                    country="FR",
                    status=step,
                    substatus="delivered.mailbox" if step == "delivered" else "",
                    dedupe_key=f"bench-page-{n}-{i}",
                )
                for i, step in enumerate(steps)
            ]
            TrackingEvent.objects.bulk_create(events)
            if status == "delivered":
                ProofOfDelivery.objects.create(
                    shipment=shipment,
                    delivered_at=now,
                    signed_by="Client Bench",
                    location_type="mailbox",
                )
    return order.public_token


# --- Server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(static_root: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.tracking_page_site",
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "BENCH_STATIC_ROOT": static_root,
        "LOG_LEVEL": "WARNING",
    }


def start_server(env: dict[str, str], port: int, workers: int, log) -> subprocess.Popen:
    subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT, env=env, check=True, timeout=300,
    )  # fmt: skip
    # ./gunicorn.conf.py (production settings, access log included) is read as in production;
    # its output goes to a file beside the static files, not into the benchmark report.
    process = subprocess.Popen(  # noqa: S603 - gunicorn from this virtualenv
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    return process


def wait_until_up(base_url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}")
        try:
            if requests.get(f"{base_url}/healthz/", timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            # Not up yet: a worker still importing Django on a loaded machine times out the
            # first health checks rather than refusing them.
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz/ in time")


# --- Load ------------------------------------------------------------------------------------


@dataclass
class RunResult:
    name: str
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def load(name: str, url: str, *, requests_total: int, clients: int) -> RunResult:
    """``requests_total`` GETs from ``clients`` threads (each its own requests.Session), after a
    warm-up; stops early at MAX_SECONDS. Any non-200 answer counts as an error."""
    import requests

    headers = {"X-Forwarded-Proto": "https", "Accept-Language": "fr"}
    with requests.Session() as warm:
        for _ in range(WARMUP):
            warm.get(url, headers=headers, timeout=10)

    lock = threading.Lock()
    remaining = [requests_total]
    latencies: list[float] = []
    errors = [0]
    deadline = time.monotonic() + MAX_SECONDS

    def client() -> None:
        with requests.Session() as session:
            while time.monotonic() < deadline:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                start = time.perf_counter()
                response = session.get(url, headers=headers, timeout=10)
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200:
                        errors[0] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    return RunResult(name, len(latencies), seconds, latencies, errors[0])


# --- Run -------------------------------------------------------------------------------------


def run(options: argparse.Namespace) -> bool:
    from benchmarks.common import setup_django

    setup_django()
    token = seed()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="parcelle-bench-static-") as static_root:
        log = open(os.path.join(static_root, "gunicorn.log"), "wb")  # noqa: SIM115
        process = start_server(server_env(static_root), port, options.page_workers, log)
        try:
            wait_until_up(base_url, process)
            kwargs = {"requests_total": options.page_requests, "clients": options.page_clients}
            minimal = load("minimal Django view (/bench/ok/)", f"{base_url}/bench/ok/", **kwargs)
            page = load("order page, 3 parcels (/t/<token>/)", f"{base_url}/t/{token}/", **kwargs)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()

    for result in (minimal, page):
        verify(
            result.errors == 0 and result.requests == options.page_requests,
            f"{result.name}: {result.errors} errors, {result.requests} of "
            f"{options.page_requests} requests answered",
        )
    ratio = page.per_second / minimal.per_second if minimal.per_second else 0.0
    ok = (
        page.percentile(95) < GOAL_P95_MS
        and ratio >= GOAL_RATIO
        and page.errors == 0
        and minimal.errors == 0
        and page.requests == options.page_requests
    )
    headers = ["run", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms"]
    rows = [
        [
            r.name,
            f"{r.requests:,}",
            r.errors,
            f"{r.per_second:,.0f}",
            f"{r.percentile(50):.1f}",
            f"{r.percentile(95):.1f}",
            f"{r.percentile(99):.1f}",
        ]
        for r in (minimal, page)
    ]
    verdict = (
        f"order page p95 {page.percentile(95):.1f} ms (goal < {GOAL_P95_MS:.0f} ms), "
        f"throughput {ratio:.0%} of the minimal view's (goal >= {GOAL_RATIO:.0%}): "
        f"{'PASS' if ok else 'FAIL'}"
    )
    print(text_table(headers, rows))
    print(verdict)
    mean_page = statistics.fmean(page.latencies_ms) if page.latencies_ms else float("nan")
    record_section(
        NAME,
        f"""## Buyer tracking page

`make bench` (benchmarks/tracking_page.py): gunicorn ({options.page_workers} workers with the
repository's gunicorn.conf.py: 2 threads each, access log; DEBUG=0, PostgreSQL, static files
collected, the product's middleware) on 127.0.0.1;
{options.page_clients} client threads (requests), {options.page_requests:,} requests per run
after {WARMUP} warm-up requests. The order page shows 3 parcels (in transit, out for delivery,
delivered with POD) with 4–8 events each, branded; each worker renders it once and serves it
from its cache while no parcel changes (one query a request: the order's version).
The minimal view returns "ok" through the same middleware, no query.

{markdown_table(headers, rows)}

Mean order-page latency {mean_page:.1f} ms. **{verdict}**

Machine:

{machine_markdown()}
""",
    )
    return ok


if __name__ == "__main__":
    from benchmarks.common import setup_django

    setup_django()
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    sys.exit(0 if run(parser.parse_args()) else 1)
