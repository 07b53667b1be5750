"""Ingestion: the real ingest service against a raw COPY of the same rows into the same table.

    prepare (not timed)   migrate; truncate the tracking tables; bulk-create sellers, orders and
                          shipments; generate every journey as CarrierEvent/TrackingResult
    run A (timed)         tracking.services.events_ingest() in calls of SHIPMENTS_PER_CALL
                          shipments, each call its own transaction, as the sync job commits
    verify (not timed)    every event stored once, every shipment's state = derive_state(events)
    run B (timed)         TRUNCATE tracking_trackingevent; psycopg 3 COPY ... FROM STDIN of the
                          same rows, dedupe keys included, in one transaction

COPY is the floor, not a like-for-like alternative: it receives pre-built tuples (dedupe keys
computed beforehand, no state derivation, no shipment update, no POD), so the ratio says how
much of the raw write speed of the table the service keeps. Goal: at least GOAL_RATIO.

Standalone: ``python -m benchmarks.ingest --shipments 2000`` (DATABASE_URL must be PostgreSQL).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from benchmarks.common import (
    markdown_table,
    rate,
    record_section,
    settle_database,
    setup_django,
    text_table,
    timed,
    truncate,
)

NAME = "ingest"
# Small enough for CI (tests/test_benchmarks_smoke.py), big enough for several ingest calls.
SMOKE = {"shipments": 300, "events_per_shipment": 10, "shipments_per_call": 100}
GOAL_RATIO = 0.25
DEFAULT_SHIPMENTS = 20_000
DEFAULT_EVENTS_PER_SHIPMENT = 10
# Shipments per events_ingest() call: the size of one sync job's claim, as the dispatcher hands
# it out (sync.py: a courier's batch_size x REQUESTS_PER_JOB numbers, 200 for La Poste) rounded
# up to a courier push or bulk re-sync payload. Big enough that per-call costs (transaction, row
# locks, read-back query) are amortised, small enough that one transaction stays short. Note
# that today carrier_batch_sync() calls events_ingest() once per courier request (10 shipments
# for La Poste, 1 for DHL): measure that with --shipments-per-call 10 (slower per event).
SHIPMENTS_PER_CALL = 500
SEED = 20_261_102  # fixed: the same journeys on every run
JOURNEYS_START = datetime(2026, 10, 1, 5, 0, tzinfo=UTC)  # fixed too; scans run ~45 days on
ORDERS_PLACED_AT = JOURNEYS_START - timedelta(days=1)

PARIS = ZoneInfo("Europe/Paris")
# (city, postcode): sorting hubs and delivery towns, so locations look like La Poste's.
HUBS = [
    ("Wissous", "91320"),
    ("Chilly-Mazarin", "91380"),
    ("Corbas", "69960"),
    ("Marseille", "13015"),
    ("Cestas", "33610"),
    ("Toulouse", "31100"),
    ("Lesquin", "59810"),
    ("Carquefou", "44470"),
    ("Rennes", "35000"),
    ("Strasbourg", "67100"),
    ("Nice", "06200"),
    ("Montpellier", "34070"),
    ("Clermont-Ferrand", "63100"),
    ("Dijon", "21000"),
    ("Orléans", "45000"),
    ("Tours", "37100"),
    ("Reims", "51100"),
    ("Rouen", "76100"),
    ("Grenoble", "38100"),
    ("Besançon", "25000"),
]
TOWNS = [
    ("Paris", "75011"),
    ("Lyon", "69003"),
    ("Villeurbanne", "69100"),
    ("Bordeaux", "33000"),
    ("Nantes", "44000"),
    ("Lille", "59000"),
    ("Saint-Étienne", "42000"),
    ("Le Havre", "76600"),
    ("Aix-en-Provence", "13100"),
    ("Angers", "49000"),
    ("Brest", "29200"),
    ("Limoges", "87000"),
    ("Amiens", "80000"),
    ("Perpignan", "66000"),
    ("Metz", "57000"),
    ("Caen", "14000"),
    ("Nancy", "54000"),
    ("Annecy", "74000"),
    ("Pau", "64000"),
    ("La Rochelle", "17000"),
]
DELIVERIES = [  # (substatus, POD location type, message)
    ("delivered.mailbox", "mailbox", "Votre colis a été déposé dans votre boîte aux lettres."),
    ("delivered.signed", "front_door", "Votre colis a été remis en main propre contre signature."),
    ("delivered.pickup_point", "pickup_point", "Votre colis a été retiré dans votre point relais."),
    ("delivered.front_door", "front_door", "Votre colis a été déposé devant votre porte."),
]
SIGNATORIES = ["M. DUPONT", "MME MARTIN", "B. LEROY", "GARDIEN", "C. MOREAU", "VOISIN 2E ETG"]


@dataclass(frozen=True)
class Dataset:
    updates: list  # ShipmentUpdate, in shipment id order
    events: int
    pods: int


def add_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--shipments", type=int, default=DEFAULT_SHIPMENTS, help="(default: %(default)s)"
    )
    parser.add_argument(
        "--events-per-shipment",
        type=int,
        default=DEFAULT_EVENTS_PER_SHIPMENT,
        help="(default: %(default)s, at least 3)",
    )
    parser.add_argument(
        "--shipments-per-call",
        type=int,
        default=SHIPMENTS_PER_CALL,
        help="shipments per events_ingest() call (default: %(default)s)",
    )
    parser.add_argument(
        "--ingest-profile",
        metavar="FILE",
        help="run the ingest under cProfile, save the stats to FILE and print the top entries "
        "(the figures are then not recorded in docs/benchmarks.md)",
    )


# --- Data ----------------------------------------------------------------------------------


def create_shipments(count: int) -> list[int]:
    """Sellers, one order per shipment, the shipments (pending, due now). Not timed."""
    from django.utils import timezone

    from sellers.models import Order, Seller
    from tracking.models import ProofOfDelivery, Shipment, TrackingEvent

    truncate(TrackingEvent, ProofOfDelivery, Shipment, Order, Seller)
    now = timezone.now()
    sellers = Seller.objects.bulk_create(
        Seller(name=f"Vendeur {i:02d}", slug=f"bench-seller-{i:02d}") for i in range(20)
    )
    orders = Order.objects.bulk_create(
        (
            Order(
                seller=sellers[i % len(sellers)],
                reference=f"CMD-{i:07d}",
                buyer_name="Client Bench",
                buyer_email=f"client{i}@example.com",
                destination_postcode=TOWNS[i % len(TOWNS)][1],
                total_amount=1000 + i % 9000,
            )
            for i in range(count)
        ),
        batch_size=2000,
    )
    # The journeys are dated from JOURNEYS_START; an order placed after its parcel's delivery
    # gets no POD from it (tracking.proof), so the orders predate them (auto_now_add set "now").
    Order.objects.update(created_at=ORDERS_PLACED_AT)
    shipments = Shipment.objects.bulk_create(
        (
            Shipment(
                order=order,
                seller_id=order.seller_id,
                carrier="laposte",
                tracking_number=f"6A{i:011d}",
                next_sync_at=now,
            )
            for i, order in enumerate(orders)
        ),
        batch_size=2000,
    )
    return [s.id for s in shipments]


def journey(rng: random.Random, number: str, size: int):
    """One parcel's life in ``size`` scans, oldest first: info received, taken in charge, hub
    scans, out for delivery (a failed attempt and a second round for one parcel in five),
    delivered; the courier's POD for about half of them."""
    from tracking.carriers.base import CarrierEvent, Location, PodData, TrackingResult
    from tracking.status import Status, Substatus

    origin = rng.choice(TOWNS)
    destination = rng.choice(TOWNS)
    # Elapsed time in UTC; each scan stamped in Paris time, as La Poste does (the window spans
    # the end of summer time: some scans fall in the repeated hour, with fold=1).
    at = JOURNEYS_START + timedelta(minutes=rng.randrange(60 * 24 * 40))
    events = []

    def scan(status, substatus, code, message, place, hours):
        nonlocal at
        at += timedelta(hours=hours)
        city, postcode = place
        events.append(
            CarrierEvent(
                occurred_at=at.astimezone(PARIS),
                status=status,
                substatus=substatus,
                code=code,
                message=message,
                location=Location(city=city, postcode=postcode, country="FR"),
            )
        )

    failed_attempt = size >= 6 and rng.random() < 0.2
    hub_scans = size - (5 if failed_attempt else 3)
    scan(
        Status.INFO_RECEIVED,
        None,
        "DR1",
        "Votre colis est prêt à être expédié, il va être remis à La Poste.",
        origin,
        0,
    )
    if hub_scans > 0:
        scan(
            Status.IN_TRANSIT,
            None,
            "PC1",
            "Votre colis est pris en charge par La Poste.",
            origin,
            rng.uniform(2, 20),
        )
    for hub in rng.sample(HUBS, max(0, hub_scans - 1)):
        scan(
            Status.IN_TRANSIT,
            None,
            "ET1",
            f"Votre colis est en cours d'acheminement. Plateforme de {hub[0]}.",
            hub,
            rng.uniform(1, 9),
        )
    scan(
        Status.OUT_FOR_DELIVERY,
        None,
        "MD2",
        "Votre colis est en cours de livraison.",
        destination,
        rng.uniform(4, 14),
    )
    if failed_attempt:
        scan(
            Status.FAILED_ATTEMPT,
            Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT,
            "ND1",
            "Votre colis n'a pas pu être livré : destinataire absent. Avis de passage déposé.",
            destination,
            rng.uniform(1, 5),
        )
        scan(
            Status.OUT_FOR_DELIVERY,
            None,
            "MD2",
            "Votre colis est en cours de livraison.",
            destination,
            rng.uniform(18, 22),
        )
    substatus, location_type, message = rng.choice(DELIVERIES)
    scan(Status.DELIVERED, substatus, "DI1", message, destination, rng.uniform(0.5, 5))
    pod = None
    if rng.random() < 0.5:
        pod = PodData(
            delivered_at=at.astimezone(PARIS),
            signed_by=rng.choice(SIGNATORIES) if substatus == "delivered.signed" else "",
            location_type=location_type,
            documents=("signature",) if substatus == "delivered.signed" else (),
        )
    return TrackingResult(
        tracking_number=number,
        events=tuple(events),
        estimated_delivery=date(2026, 10, 1) + timedelta(days=rng.randrange(45)),
        pod=pod,
    )


def generate(shipment_ids: list[int], events_per_shipment: int) -> Dataset:
    from tracking.services import ShipmentUpdate

    rng = random.Random(SEED)
    updates = [
        ShipmentUpdate(sid, journey(rng, f"6A{i:011d}", events_per_shipment))
        for i, sid in enumerate(shipment_ids)
    ]
    return Dataset(
        updates=updates,
        events=sum(len(u.result.events) for u in updates),
        pods=sum(u.result.pod is not None for u in updates),
    )


def copy_rows(dataset: Dataset, table) -> list[tuple]:
    """The rows events_ingest stores, as full COPY tuples (dedupe keys computed here, not
    timed); the columns not listed in COPY_COLUMNS get the model's defaults and are
    schema-checked first (benchmarks/rows.py)."""
    from tracking.models import TrackingEvent
    from tracking.services.ingest import event_dedupe_key

    received_at = table.now
    return [
        table.row(
            (
                update.shipment_id,
                event.occurred_at,
                event.code[:40],
                event.message[:500],
                event.location.city[:120],
                event.location.postcode[:20],
                event.location.country[:2],
                event.status,
                event.substatus or "",
                TrackingEvent.Source.POLL.value,
                event_dedupe_key(update.shipment_id, event),
                received_at,
            )
        )
        for update in dataset.updates
        for event in update.result.events
    ]


def event_table(received_at: datetime):
    from benchmarks.rows import TableRows
    from tracking.models import TrackingEvent

    return TableRows(TrackingEvent, COPY_COLUMNS, now=received_at)


COPY_COLUMNS = (
    "shipment_id",
    "occurred_at",
    "carrier_code",
    "message",
    "city",
    "postcode",
    "country",
    "status",
    "substatus",
    "source",
    "dedupe_key",
    "received_at",
)


# --- Runs ----------------------------------------------------------------------------------


def run_ingest(dataset: Dataset, per_call: int) -> None:
    from tracking.models import TrackingEvent
    from tracking.services import events_ingest

    updates = dataset.updates
    for start in range(0, len(updates), per_call):
        events_ingest(updates=updates[start : start + per_call], source=TrackingEvent.Source.POLL)


def verify_ingest(dataset: Dataset, expected_keys: set[str]) -> None:
    """Every event stored once, and every shipment's derived state is what its journey says."""
    from tracking.models import ProofOfDelivery, Shipment, TrackingEvent
    from tracking.status import StatusPoint, derive_state

    stored = TrackingEvent.objects.count()
    assert stored == dataset.events, f"{stored} events stored, {dataset.events} expected"
    keys = set(TrackingEvent.objects.values_list("dedupe_key", flat=True).iterator(10_000))
    assert keys == expected_keys, "stored dedupe keys differ from the COPY rows'"
    states = {
        sid: rest
        for sid, *rest in Shipment.objects.values_list(
            "id", "status", "substatus", "delivered_at", "last_event_at", "next_sync_at"
        ).iterator(10_000)
    }
    for update in dataset.updates:
        # What the service promises: the state is derive_state() of the stored events, which come
        # back in UTC. (Not TrackingResult.state: sorting Europe/Paris datetimes compares wall
        # times and ignores ``fold``, so it misorders scans across the end of summer time.)
        want = derive_state(
            StatusPoint(e.occurred_at.astimezone(UTC), e.status, e.substatus)
            for e in update.result.events
        )
        got = states[update.shipment_id]
        expected = [want.status, want.substatus or "", want.delivered_at, want.last_event_at]
        assert got[:4] == expected, f"shipment {update.shipment_id}: stored {got}, want {want}"
        assert got[4] is None, f"shipment {update.shipment_id} delivered but still scheduled"
    pods = ProofOfDelivery.objects.count()
    assert pods == dataset.pods, f"{pods} PODs stored, {dataset.pods} expected"


def run_copy(rows: list[tuple], table) -> None:
    from django.db import connection, transaction

    sql = table.copy_sql()
    # cursor.cursor: the psycopg 3 cursor under Django's wrapper, in the atomic block's transaction.
    with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def profiled(func, path: str) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(func)
    profiler.dump_stats(path)
    stats = pstats.Stats(profiler)
    stats.strip_dirs()
    print(f"\ncProfile of the ingest run (saved to {path}), by cumulative time:")
    stats.sort_stats("cumulative").print_stats(35)
    print("by own time:")
    stats.sort_stats("tottime").print_stats(25)


# --- Entry point ---------------------------------------------------------------------------


def run(options: argparse.Namespace) -> bool:
    from django.utils import timezone

    from tracking.models import ProofOfDelivery, Shipment, TrackingEvent

    if options.events_per_shipment < 3 or options.shipments < 1 or options.shipments_per_call < 1:
        print(
            "ingest: need --shipments >= 1, --events-per-shipment >= 3, --shipments-per-call >= 1"
        )
        return False
    per_call = options.shipments_per_call
    print(
        f"preparing {options.shipments:,} shipments x {options.events_per_shipment} events "
        f"(not timed)…",
        flush=True,
    )
    with timed() as prep:
        ids = create_shipments(options.shipments)
        dataset = generate(ids, options.events_per_shipment)
        table = event_table(timezone.now())
        rows = copy_rows(dataset, table)
        expected_keys = {row[10] for row in rows}
        assert len(expected_keys) == dataset.events, "generated events are not all distinct"
        settle_database(Shipment._meta.db_table, TrackingEvent._meta.db_table)
    print(f"  {dataset.events:,} events, {dataset.pods:,} PODs ready in {prep.seconds:.1f} s")

    calls = -(-len(dataset.updates) // per_call)
    print(f"run A: events_ingest(), {calls:,} calls of {per_call} shipments…", flush=True)
    with timed() as ingest:
        if options.ingest_profile:
            profiled(lambda: run_ingest(dataset, per_call), options.ingest_profile)
        else:
            run_ingest(dataset, per_call)
    verify_ingest(dataset, expected_keys)
    print(f"  {ingest.seconds:.2f} s, verified: events stored once, states derived, PODs stored")

    truncate(TrackingEvent, ProofOfDelivery)
    settle_database(TrackingEvent._meta.db_table)
    print("run B: COPY tracking_trackingevent FROM STDIN, same rows…", flush=True)
    with timed() as copy:
        run_copy(rows, table)
    copied = TrackingEvent.objects.count()
    assert copied == len(rows), f"COPY stored {copied} rows, {len(rows)} expected"
    print(f"  {copy.seconds:.2f} s")

    ingest_rate, copy_rate = rate(dataset.events, ingest.seconds), rate(len(rows), copy.seconds)
    ratio = ingest_rate / copy_rate
    passed = ratio >= GOAL_RATIO
    verdict = "PASS" if passed else "FAIL"
    table = [
        [
            f"events_ingest ({per_call} shipments/call)",
            f"{dataset.events:,}",
            f"{ingest.seconds:.2f}",
            f"{ingest_rate:,.0f}",
        ],
        ["COPY (pre-built rows)", f"{len(rows):,}", f"{copy.seconds:.2f}", f"{copy_rate:,.0f}"],
    ]
    headers = ["run", "rows", "seconds", "rows/s"]
    print()
    print(text_table(headers, table))
    print(f"\nratio ingest/COPY: {ratio:.1%}  goal >= {GOAL_RATIO:.0%}: {verdict}")

    if options.ingest_profile:
        print("(profiled run: figures not recorded in docs/benchmarks.md)")
    else:
        record(options, dataset, per_call, headers, table, ratio, verdict)
    return passed


def record(options, dataset, per_call, headers, table, ratio, verdict) -> None:
    from benchmarks.common import machine_markdown

    body = f"""## Ingestion

`make bench` (benchmarks/ingest.py), {dataset.events:,} events: {options.shipments:,} shipments
× {options.events_per_shipment} scans (info received, hub scans across French sorting centres,
out for delivery, one parcel in five with a failed attempt and a second round, delivered; the
courier's POD on {dataset.pods:,} of them), generated before the timing.

- **Run A** — the real service, `tracking.services.events_ingest()`, {per_call} shipments per
  call (each call one transaction: row locks, `INSERT … ON CONFLICT DO NOTHING` with dedupe keys,
  read-back, state derivation, shipment `UPDATE`, POD upsert), then verified: every event stored
  once, every shipment's state equal to `derive_state` of its journey.
- **Run B** — the floor: `TRUNCATE`, then one psycopg 3 `COPY tracking_trackingevent FROM STDIN`
  of the same rows, as pre-built tuples (dedupe keys computed beforehand, nothing derived), in
  one transaction. Same table, same indexes, same database, same process.

{markdown_table(headers, table)}

**Ingest / COPY: {ratio:.1%}** — goal ≥ {GOAL_RATIO:.0%}: **{verdict}**

Machine:

{machine_markdown()}
"""
    record_section(NAME, body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest", description=__doc__)
    add_arguments(parser)
    options = parser.parse_args(argv)
    setup_django()
    return 0 if run(options) else 1


if __name__ == "__main__":
    sys.exit(main())
