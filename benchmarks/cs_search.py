"""The CS search box at scale: 1,000,000 shipments through the real selector.

    prepare (not timed)   2,000 sellers, 1,000,000 orders (buyer names, emails, phones) and
                          1,000,000 shipments written with COPY, then ANALYZE
    run (timed)           per query kind, SAMPLES searches of values that exist, typed the way
                          agents type them (spaces and lower case in tracking numbers, another
                          case for emails, a national format for +33 phones):
                          cs.selectors.shipment_search(...) evaluated with its rows,
                          their orders, sellers and open exceptions, as the console renders
                          them; beside it, in the same run, a plain primary-key lookup
                          (Shipment.objects.get(pk=...)) as the floor

Goals: p95 < 50 ms for identifier searches (tracking number, order reference, email, phone),
< 150 ms for name searches (buyer, seller). Every search must find the parcel it was made from.

Standalone: ``python -m benchmarks.run cs_search`` (DATABASE_URL must be PostgreSQL).
"""

from __future__ import annotations

import argparse
import random
import re
import time
from datetime import UTC, datetime, timedelta

from benchmarks.common import (
    markdown_table,
    record_section,
    settle_database,
    text_table,
    timed,
    truncate,
    verify,
)
from benchmarks.rows import copy_rows, reset_sequence

NAME = "cs_search"
SMOKE = {"cs_shipments": 3000, "cs_samples": 10}
DEFAULT_SHIPMENTS = 1_000_000
DEFAULT_SAMPLES = 200
SELLERS = 2000
CHUNK = 50_000  # rows per COPY buffer: a few MB of text
GOALS_MS = {"tracking_number": 50.0, "order_reference": 50.0, "email": 50.0, "phone": 50.0,
            "buyer_name": 150.0, "seller_name": 150.0}  # fmt: skip
FIRST_NAMES = [
    "Camille", "Léa", "Manon", "Chloé", "Emma", "Inès", "Jade", "Louise", "Alice", "Lina", "Rose",
    "Anna", "Zoé", "Julia", "Eva", "Sarah", "Lucas", "Hugo", "Louis", "Gabriel", "Arthur",
    "Jules", "Adam", "Raphaël", "Léo", "Paul", "Nathan", "Tom", "Théo", "Noah", "Ethan", "Martin",
    "Sacha", "Victor", "Maël", "Nina", "Clara", "Margaux", "Lucie", "Mathilde", "Juliette",
    "Romane", "Pauline", "Marie", "Thomas", "Antoine", "Maxime", "Julien", "Nicolas", "Pierre",
    "Alexandre", "Baptiste", "Quentin", "Romain", "Clément", "Élise"
]  # fmt: skip
SYLLABLES = ["ber", "mar", "lan", "dou", "tel", "ran", "gui", "bou", "che", "val", "mon", "fer",
             "ros", "lec", "pel", "vin", "gar", "sal", "dur", "cor", "bla", "mer", "nal",
             "tan"]  # fmt: skip
ENDINGS = ["and", "ier", "ot", "eau", "in", "y", "et", "ard", "on", "eux"]
CARRIERS = [("laposte", "6A"), ("chronopost", "XY"), ("dpd", "25"), ("gls", "GL"),
            ("ups", "1Z"), ("dhl", "JD"), ("fedex", "77"), ("mondialrelay", "MR")]  # fmt: skip
STATUSES = ["in_transit"] * 6 + ["info_received", "out_for_delivery", "failed_attempt",
                                 "available_for_pickup"]  # fmt: skip


def add_arguments(parser) -> None:
    parser.add_argument("--cs-shipments", type=int, default=DEFAULT_SHIPMENTS,
                        help="shipments to generate (default: %(default)s)")  # fmt: skip
    parser.add_argument("--cs-samples", type=int, default=DEFAULT_SAMPLES,
                        help="searches per query kind (default: %(default)s)")  # fmt: skip


def last_name(i: int) -> str:
    a, b, c = SYLLABLES[i % 24], SYLLABLES[(i // 24) % 24], ENDINGS[(i // 576) % 10]
    return (a + b + c).capitalize()


def buyer(i: int) -> tuple[str, str, str]:
    """(name, email, phone) of order i: ~5,760 surnames × 56 first names."""
    rng = random.Random(i)  # noqa: S311 - benchmark data
    first, last = rng.choice(FIRST_NAMES), last_name(rng.randrange(5760))
    email = f"{first}.{last}{i}@example.fr".lower()
    digits = f"6{i:08d}"
    phone = f"+33 {digits[0]} {digits[1:3]} {digits[3:5]} {digits[5:7]} {digits[7:9]}"
    return f"{first} {last}", email, phone


def seller_name(i: int) -> str:
    kind = ["Atelier", "Maison", "Boutique", "Comptoir", "Les Jardins de"][i % 5]
    return f"{kind} {last_name(i * 7 + 3)} {i}"


def tracking_number(i: int) -> tuple[str, str]:
    carrier, prefix = CARRIERS[i % len(CARRIERS)]
    return carrier, f"{prefix}{i:011d}"


def prepare(count: int) -> None:
    from django.db import transaction

    from sellers.models import Order, Seller
    from tracking.models import Shipment, ShipmentException, TrackingEvent

    truncate(ShipmentException, TrackingEvent, Shipment, Order, Seller)
    now = datetime.now(UTC)
    start = now - timedelta(days=120)

    def created(i: int) -> datetime:
        return start + timedelta(seconds=i * 120 * 86400 // count)

    with transaction.atomic():
        copy_rows(Seller, ["id", "name", "slug", "created_at"],
                  ((i, seller_name(i), f"bench-cs-{i}", start) for i in range(1, SELLERS + 1)),
                  now=now)  # fmt: skip
        copy_rows(
            Order,
            ["id", "seller_id", "reference", "buyer_name", "buyer_email", "buyer_phone",
             "buyer_locale", "destination_postcode", "destination_country", "total_amount",
             "currency", "public_token", "created_at"],
            ((i, 1 + i % SELLERS, f"CMD-{i:08d}", *buyer(i), "fr",
              f"{1 + i % 95:02d}{i % 1000:03d}", "FR", 1990 + i % 9000, "EUR", f"bo{i:x}",
              created(i)) for i in range(1, count + 1)),
            now=now,
        )  # fmt: skip
        # Every other column (direction, sync cadence, void fields…) as the model defaults it.
        copy_rows(
            Shipment,
            ["id", "order_id", "seller_id", "carrier", "tracking_number", "status",
             "public_token", "created_at", "updated_at"],
            ((i, i, 1 + i % SELLERS, *tracking_number(i), STATUSES[i % len(STATUSES)],
              f"bs{i:x}", created(i), created(i)) for i in range(1, count + 1)),
            now=now,
        )  # fmt: skip
        for model in (Seller, Order, Shipment):
            reset_sequence(model)
        # Some open exceptions, as the console prefetches them with every row.
        ShipmentException.objects.bulk_create(
            [ShipmentException(shipment_id=i, kind="stuck", opened_at=now)
             for i in range(7, count + 1, 97)],
            batch_size=5000,
        )  # fmt: skip
    settle_database("sellers_seller", "sellers_order", "tracking_shipment",
                    "tracking_shipmentexception")  # fmt: skip


def samples(kind: str, count: int, n: int, rng: random.Random) -> list[tuple[str, int]]:
    """(query as an agent types it, the shipment id it must find)."""
    out = []
    for _ in range(n):
        i = rng.randrange(1, count + 1)
        name, email, phone = buyer(i)
        if kind == "tracking_number":
            number = tracking_number(i)[1].lower()
            out.append((" ".join(number[k : k + 4] for k in range(0, len(number), 4)), i))
        elif kind == "order_reference":
            out.append((f"cmd-{i:08d}", i))
        elif kind == "email":
            out.append((email.upper() if i % 2 else email.capitalize(), i))
        elif kind == "phone":
            digits = phone.replace(" ", "")[3:]
            out.append(("0" + " ".join([digits[0], digits[1:3], digits[3:5], digits[5:7],
                                         digits[7:9]]), i))  # fmt: skip
        elif kind == "buyer_name":
            out.append((name.lower(), i))
        elif kind == "seller_name":
            out.append((seller_name(1 + i % SELLERS), i))
    return out


def _p(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def _indexes_used(kind: str, query: str) -> str:
    """The indexes PostgreSQL picks for this kind's candidate query (EXPLAIN)."""
    from core.access import Scope
    from cs import selectors

    base = selectors._cs_filtered(Scope.marketplace(), selectors.SearchFilters())
    plan = selectors._match(base, kind, query).order_by("-created_at", "-id")[:200].explain()
    names = sorted(set(re.findall(r"(?:Index|Bitmap Index) (?:Only )?Scan (?:Backward )?"
                                  r"(?:using|on) (\w+)", plan)))  # fmt: skip
    return ", ".join(names) or "none (sequential scan)"


def run(options: argparse.Namespace) -> bool:
    from core.access import Scope
    from cs.selectors import shipment_search
    from tracking.models import Shipment

    count, n = options.cs_shipments, options.cs_samples
    print(f"preparing {count:,} shipments, orders and {SELLERS:,} sellers with COPY "
          "(not timed)…", flush=True)  # fmt: skip
    with timed() as prep:
        prepare(count)
    print(f"  ready in {prep.seconds:.1f} s")
    rng = random.Random(42)  # noqa: S311 - benchmark sampling
    scope = Scope.marketplace()

    floor = []
    for _ in range(n):
        pk = rng.randrange(1, count + 1)
        began = time.perf_counter()
        Shipment.objects.get(pk=pk)
        floor.append((time.perf_counter() - began) * 1000)

    rows, passed = [], True
    for kind, goal in GOALS_MS.items():
        queries = samples(kind, count, n, rng)
        for query, _ in queries[:5]:  # warm the plan cache and the index pages a little
            list(shipment_search(scope=scope, query=query))
        times, missed = [], 0
        for query, expected in queries:
            began = time.perf_counter()
            found = shipment_search(scope=scope, query=query)
            for shipment in found:
                _ = (shipment.order.reference, shipment.seller.name, shipment.open_exceptions)
            times.append((time.perf_counter() - began) * 1000)
            ids = [s.id for s in found]
            if kind == "seller_name":
                missed += not ids or any(s.seller.name != query for s in found[:1])
            elif expected not in ids:
                missed += 1
        p95 = _p(times, 0.95)
        ok = p95 < goal and missed == 0
        passed &= ok
        rows.append([kind, f"{_p(times, 0.5):.1f}", f"{p95:.1f}", f"{max(times):.1f}",
                     f"< {goal:.0f}", "PASS" if ok else "FAIL", f"{n - missed}/{n}",
                     _indexes_used(kind, queries[0][0])])  # fmt: skip
        print(f"  {kind}: p95 {p95:.1f} ms", flush=True)
    rows.append(["primary-key lookup (floor)", f"{_p(floor, 0.5):.1f}", f"{_p(floor, 0.95):.1f}",
                 f"{max(floor):.1f}", "—", "", "", "shipment pkey"])  # fmt: skip
    headers = ["query kind", "p50 ms", "p95 ms", "max ms", "goal (p95)", "verdict", "found",
               "indexes used"]  # fmt: skip
    print()
    print(text_table(headers, rows))
    verdict = "PASS" if passed else "FAIL"
    print(f"\ncs_search: {verdict}")
    record(count, n, headers, rows, verdict)
    missing = [f"{row[0]} {row[6]}" for row in rows if row[6] and row[6] != f"{n}/{n}"]
    verify(not missing, f"searches that missed their parcel: {', '.join(missing)}")
    return passed


def record(count, n, headers, rows, verdict) -> None:
    from benchmarks.common import machine_markdown

    body = f"""## CS search

`make bench` (benchmarks/cs_search.py): {count:,} shipments, as many orders (buyer names
from {len(FIRST_NAMES)} first names × 5,760 surnames, unique emails and phones) and
{SELLERS:,} sellers, written with COPY and ANALYZEd before the timing. Per query kind, {n}
searches of values that exist, typed the way agents type them (tracking numbers in lower case
with spaces, emails in another case, `+33` phones in the national format), each through the
real selector, `cs.selectors.shipment_search()`, with its rows, their orders, sellers and
open exceptions (what the console renders). The floor, in the same run:
`Shipment.objects.get(pk=…)`. "found": searches whose results hold the parcel they were made
from (for seller names: that seller's parcels first). "indexes used": from `EXPLAIN` of the
kind's candidate query.

{markdown_table(headers, rows)}

**Goals: p95 < 50 ms for identifiers, < 150 ms for names: {verdict}**

Machine:

{machine_markdown()}
"""
    record_section(NAME, body)
