"""The demo's past: four months of finished parcels, the one history behind the seller
dashboards (courier performance, SLA, recommendations), the CS console's parcel pages and the
EDD prediction with its back-test (`manage.py tracking edd_accuracy`).

Deterministic and idempotent (orders "HIST-…" are created once); never polled. Written with
bulk_create, not through events_ingest: 1,300 parcels through the ingest service would make
`make run` slow to start, and the past needs none of what ingest adds (no notification about
it, no payout, no exception). The present (the parcels moving on the sandbox, the exception
queues, the return) goes through the real services: devtools.demo.marketplace, .cs, .returns.

Each courier has its own character (transit days, first-scan lag, failed attempts), so the
comparison, the recommendation and the delivery estimates have something true to show;
Atelier Lumière forgets to hand over a few parcels (no courier scan), so its valid tracking
rate sits under the 95% target.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from core.business_days import add_business_days
from devtools.sandbox.numbers import number_for_scenario
from sellers.metrics import local_tz
from sellers.models import Order, Seller
from tracking.models import Shipment, TrackingEvent

HISTORY_DAYS = 120
PARCELS = {"atelier-lumiere": 1000, "maison-verte": 300}
# Where each seller's history numbers start in the sandbox's number space (live parcels, the
# return story and the protection demo use lower or other indexes).
HISTORY_INDEX = {"atelier-lumiere": 10_000, "maison-verte": 12_000}
ORIGINS = {"atelier-lumiere": "69001", "maison-verte": "33000"}
# courier -> (transit business days to choose from, failed-attempt share, first-scan hours)
COURIERS = {
    "laposte": ([1, 2, 2, 2, 3, 3, 4], 0.04, (2, 20)),
    "chronopost": ([1, 1, 1, 2], 0.02, (1, 6)),
    "dhl": ([1, 2, 2, 3], 0.05, (3, 12)),
    "gls": ([2, 3, 3, 4, 5], 0.10, (6, 30)),
    "mondialrelay": ([3, 4, 4, 5, 6], 0.03, (12, 48)),
    "dpd": ([1, 2, 2, 3, 3], 0.05, (3, 16)),
    "ups": ([1, 2, 2, 3], 0.03, (2, 10)),
}
LANES = [("75011", "FR"), ("69003", "FR"), ("13001", "FR"), ("33000", "FR"), ("59000", "FR"),
         ("20090", "FR"), ("97110", "FR"), ("10115", "DE"), ("1000", "BE")]  # fmt: skip
CITIES = {"75011": "Paris", "69003": "Lyon", "13001": "Marseille", "33000": "Bordeaux",
          "59000": "Lille", "20090": "Ajaccio", "97110": "Pointe-à-Pitre", "10115": "Berlin",
          "1000": "Bruxelles", "69001": "Lyon"}  # fmt: skip
HUBS = ["Wissous", "Chilly-Mazarin", "Corbas", "Saint-Priest", "Lesquin"]
# What the courier said at each step, as the CS console's timeline shows it: (code, message).
WORDS = {
    "info_received": ("PC1", "Colis pris en charge"),
    "in_transit": ("ET1", "En cours d'acheminement"),
    "failed_attempt": ("AA1", "Destinataire absent, avis de passage"),
    "exception": ("RE1", "Retour à l'expéditeur en cours"),
    "out_for_delivery": ("MD2", "En cours de livraison"),
    "delivered": ("DI1", "Votre colis est livré"),
}


def _at(day, hour: int) -> datetime:
    return datetime.combine(day, time(hour=hour), tzinfo=local_tz())


@transaction.atomic
def seed_history(sellers: list[Seller]) -> int:
    """Create the historical parcels once; returns how many were created."""
    created = 0
    tz_today = timezone.localdate()
    for seller in sellers:
        if seller.slug not in PARCELS:
            continue
        if not seller.origin_postcode:
            Seller.objects.filter(pk=seller.pk).update(origin_postcode=ORIGINS[seller.slug])
        if Order.objects.filter(seller=seller, reference__startswith="HIST-").exists():
            continue
        rng = random.Random(seller.slug)  # noqa: S311 - demo data, not secrets
        orders, plans = [], []
        for n in range(PARCELS[seller.slug]):
            ship_day = tz_today - timedelta(days=rng.randint(6, HISTORY_DAYS))
            postcode, country = rng.choices(LANES, weights=[40, 15, 10, 8, 7, 3, 2, 6, 4])[0]
            express = rng.random() < 0.2
            carrier = rng.choice(["chronopost", "dhl"] if express else list(COURIERS))
            days, failed_share, (lag_low, lag_high) = COURIERS[carrier]
            transit = rng.choice(days) + (1 if country != "FR" else 0)
            promised = add_business_days(ship_day, 1 if express else 3, country=country)
            late_ship = rng.random() < 0.03
            orders.append(
                Order(
                    seller=seller,
                    reference=f"HIST-{seller.slug[:3].upper()}-{n:04d}",
                    total_amount=rng.randint(990, 19900),
                    destination_postcode=postcode,
                    destination_country=country,
                    promised_delivery_date=promised,
                    expected_ship_date=ship_day - timedelta(days=1) if late_ship else ship_day,
                    service_level="express" if express else "standard",
                    buyer_name=f"Client historique {n}",
                )  # fmt: skip
            )
            unscanned = seller.slug == "atelier-lumiere" and rng.random() < 0.07
            plans.append((carrier, ship_day, transit, failed_share, lag_low, lag_high, unscanned))
        Order.objects.bulk_create(orders)
        shipments, journeys = [], []
        for n, (order, plan) in enumerate(zip(orders, plans, strict=True)):
            carrier, ship_day, transit, failed_share, lag_low, lag_high, unscanned = plan
            shipped_at = _at(ship_day, 17)
            events = [(shipped_at + timedelta(hours=1), "info_received", "")]
            if not unscanned:
                first_scan = shipped_at + timedelta(hours=rng.randint(lag_low, lag_high))
                events.append((first_scan, "in_transit", ""))
                arrival = add_business_days(ship_day, transit, country=order.destination_country)
                if rng.random() < failed_share:
                    events.append((_at(arrival, 11), "failed_attempt",
                                   "failed_attempt.recipient_absent"))  # fmt: skip
                    arrival = add_business_days(arrival, 1, country=order.destination_country)
                if rng.random() < 0.015:
                    events.append((_at(arrival, 9), "exception", "exception.returning_to_sender"))
                else:
                    events.append((_at(arrival, 8), "out_for_delivery", ""))
                    events.append((_at(arrival, 12), "delivered", "delivered.signed"))
            status, substatus = events[-1][1], events[-1][2]
            shipments.append(
                Shipment(
                    order=order,
                    seller=seller,
                    carrier=carrier,
                    # a well-formed number of its courier (detection agrees: the delivery
                    # performance protection checks it); never polled, so its sandbox
                    # journey does not matter. Indexes apart from the live parcels'.
                    tracking_number=number_for_scenario(
                        carrier, "delivered_signed", index=HISTORY_INDEX[seller.slug] + n
                    ),
                    status=status,
                    substatus=substatus,
                    last_event_at=events[-1][0],
                    delivered_at=events[-1][0] if status == "delivered" else None,
                    next_sync_at=None,
                )  # fmt: skip
            )
            journeys.append((shipped_at, events))
        Shipment.objects.bulk_create(shipments)
        rows = []
        origin = seller.origin_postcode or ORIGINS[seller.slug]
        for shipment, (_shipped_at, events) in zip(shipments, journeys, strict=True):
            destination = shipment.order.destination_postcode
            for i, (at, status, substatus) in enumerate(events):
                code, message = WORDS[status]
                postcode = {"info_received": origin, "in_transit": ""}.get(status, destination)
                city = CITIES.get(postcode, "") if postcode else HUBS[shipment.pk % len(HUBS)]
                country = shipment.order.destination_country if postcode == destination else "FR"
                rows.append(TrackingEvent(
                    shipment=shipment, occurred_at=at, status=status, substatus=substatus,
                    carrier_code=code, message=message, city=city, postcode=postcode,
                    country=country, source=TrackingEvent.Source.MANUAL,
                    dedupe_key=f"demo-history-{shipment.pk}-{i}",
                ))  # fmt: skip
        TrackingEvent.objects.bulk_create(rows, batch_size=1000)
        by_time: dict[datetime, list[int]] = {}
        for shipment, (shipped_at, _events) in zip(shipments, journeys, strict=True):
            by_time.setdefault(shipped_at, []).append(shipment.pk)
        for shipped_at, ids in by_time.items():  # one UPDATE per day, not per parcel
            Shipment.objects.filter(pk__in=ids).update(created_at=shipped_at)
        created += len(shipments)
    return created
