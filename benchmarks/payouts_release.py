"""Auto-release: the real job releasing every eligible payout, then the ledger check.

prepare (not timed)   truncate the payouts and tracking tables; bulk-create sellers, orders,
                      one delivered parcel with the courier's POD per order, and a payout per
                      order (held, proof complete, claim window passed) with its payment
                      entry, as payout_open_for_order would have left them
run (timed)           payouts.services.payouts_release_due(): claim AUTO_RELEASE_BATCH rows
                      with FOR UPDATE SKIP LOCKED, lock their parcels, re-check the POD gate,
                      post the release entries, audit, and send payouts_released in the transaction
                      (the notifications app records its webhook events there)
check (timed apart)   payouts.services.ledger_check(): every entry balances, every released
                      payout has its entries
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from benchmarks.common import (
    Timer,
    markdown_table,
    rate,
    record_section,
    settle_database,
    setup_django,
    text_table,
    timed,
    truncate,
)

NAME = "payouts_release"
# Just over one AUTO_RELEASE_BATCH (500): the job must claim a second batch to release them all.
SMOKE = {"payouts_count": 600}
SELLERS = 200
CHUNK = 5000  # rows per bulk INSERT while preparing: bounded memory and statement size
GOAL_PAYOUTS_PER_SECOND = 1000


def add_arguments(parser) -> None:
    parser.add_argument(
        "--payouts-count",
        type=int,
        default=50_000,
        help="eligible payouts to auto-release (default 50,000)",
    )
    parser.add_argument(
        "--payouts-goal",
        type=float,
        default=GOAL_PAYOUTS_PER_SECOND,
        help=f"payouts/s the release must reach (default {GOAL_PAYOUTS_PER_SECOND})",
    )


def prepare(count: int) -> None:
    """Eligible payouts, built in bulk in the state the services leave them in."""
    from django.utils import timezone

    from payouts.models import JournalEntry, JournalLine, Payout, PayoutEvent, ReleaseBatch
    from payouts.rules import commission_split
    from payouts.services.ledger import entries_post, entry_build, payment_lines
    from payouts.services.lifecycle import claim_window, marketplace_commission_rate
    from sellers.models import Order, Seller
    from tracking.models import ProofOfDelivery, Shipment, TrackingEvent

    truncate(
        JournalLine, JournalEntry, PayoutEvent, ReleaseBatch, Payout,
        ProofOfDelivery, TrackingEvent, Shipment, Order, Seller,
    )  # fmt: skip
    now = timezone.now()
    delivered_at = now - claim_window() - timedelta(days=1)
    sellers = Seller.objects.bulk_create(
        [Seller(name=f"Bench seller {i}", slug=f"bench-seller-{i}") for i in range(SELLERS)]
    )
    rate_ = marketplace_commission_rate()
    for start in range(0, count, CHUNK):
        numbers = range(start, min(start + CHUNK, count))
        orders = Order.objects.bulk_create(
            [
                Order(
                    seller=sellers[i % SELLERS],
                    reference=f"BENCH-{i:07d}",
                    total_amount=1000 + (i * 37) % 90_000,
                    currency="EUR",
                )
                for i in numbers
            ]
        )
        shipments = Shipment.objects.bulk_create(
            [
                Shipment(
                    order=order,
                    seller_id=order.seller_id,
                    carrier="laposte",
                    tracking_number=f"6B{order.pk:011d}",
                    status="delivered",
                    substatus="delivered.signed",
                    delivered_at=delivered_at,
                    last_event_at=delivered_at,
                    next_sync_at=None,
                )  # fmt: skip
                for order in orders
            ]
        )
        ProofOfDelivery.objects.bulk_create(
            [
                ProofOfDelivery(
                    shipment=shipment,
                    delivered_at=delivered_at,
                    signed_by="C. MARTIN",
                    location_type="front_door",
                    documents=["signature"],
                    source="carrier",
                )  # fmt: skip
                for shipment in shipments
            ]
        )
        payouts = []
        for order in orders:
            commission, net = commission_split(order.total_amount, rate_)
            payouts.append(
                Payout(
                    order=order,
                    seller_id=order.seller_id,
                    currency="EUR",
                    gross_amount=order.total_amount,
                    commission_rate=rate_,
                    commission_amount=commission,
                    net_amount=net,
                    status="held",
                    pod_complete=True,
                    last_delivered_at=delivered_at,
                    release_due_at=delivered_at + claim_window(),
                    paid_at=delivered_at,
                )  # fmt: skip
            )
        payouts = Payout.objects.bulk_create(payouts)
        PayoutEvent.objects.bulk_create(
            [
                PayoutEvent(
                    payout=p,
                    action="opened",
                    from_status="",
                    to_status="held",
                    actor_label="benchmark",
                    reason="Payment received",
                    created_at=delivered_at,
                )  # fmt: skip
                for p in payouts
            ]
        )
        entries_post(
            [
                entry_build(
                    payout=p,
                    kind="payment",
                    lines=payment_lines(p),
                    actor_user=None,
                    now=delivered_at,
                )  # fmt: skip
                for p in payouts
            ]
        )
    settle_database(
        Payout._meta.db_table, Shipment._meta.db_table, ProofOfDelivery._meta.db_table,
        JournalEntry._meta.db_table, JournalLine._meta.db_table,
    )  # fmt: skip


@contextmanager
def receivers_timed() -> Iterator[Timer]:
    """Time spent dispatching payouts_released (other apps' receivers), summed over the run."""
    from payouts.signals import payouts_released

    total = Timer()
    original = payouts_released.send

    def send(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            total.seconds += time.perf_counter() - start

    payouts_released.send = send
    try:
        yield total
    finally:
        payouts_released.send = original


def run(options: argparse.Namespace) -> bool:
    from payouts.models import JournalEntry, Payout
    from payouts.services import AUTO_RELEASE_BATCH, ledger_check, payouts_release_due

    count = options.payouts_count
    if count < 1:
        print("payouts_release: need --payouts-count >= 1")
        return False
    print(f"preparing {count:,} eligible payouts (not timed)…", flush=True)
    with timed() as prep:
        prepare(count)
    print(f"  ready in {prep.seconds:.1f} s")

    print(f"run: payouts_release_due(), batches of {AUTO_RELEASE_BATCH}…", flush=True)
    with timed() as release, receivers_timed() as receivers:
        released = payouts_release_due()
    own_seconds = release.seconds - receivers.seconds
    print(f"  {released:,} released in {release.seconds:.2f} s "
          f"({receivers.seconds:.2f} s in payouts_released receivers)")  # fmt: skip
    with timed() as check:
        report = ledger_check()
    assert released == count, f"{released} released, {count} expected"
    assert Payout.objects.exclude(status="released").count() == 0, "payouts left unreleased"
    assert JournalEntry.objects.filter(kind="release").count() == count
    assert report.released == count
    print(f"  ledger check: {report.entries:,} entries, {report.lines:,} lines, "
          f"balanced, {check.seconds:.2f} s")  # fmt: skip

    per_second = rate(released, release.seconds)
    own_rate = rate(released, own_seconds)
    # The goal is on the payouts app's own work; the receivers (other apps) are shown apart.
    passed = own_rate >= options.payouts_goal
    verdict = "PASS" if passed else "FAIL"
    headers = ["step", "payouts", "seconds", "payouts/s"]
    table = [
        [
            f"payouts_release_due (batches of {AUTO_RELEASE_BATCH})",
            f"{released:,}",
            f"{release.seconds:.2f}",
            f"{per_second:,.0f}",
        ],
        [
            "  of which payouts_released receivers (other apps)",
            f"{released:,}",
            f"{receivers.seconds:.2f}",
            f"{rate(released, receivers.seconds):,.0f}",
        ],
        [
            "  payouts' own work (release minus receivers)",
            f"{released:,}",
            f"{own_seconds:.2f}",
            f"{own_rate:,.0f}",
        ],
        [
            "ledger_check (after)",
            f"{count:,}",
            f"{check.seconds:.2f}",
            f"{rate(count, check.seconds):,.0f}",
        ],
    ]
    print()
    print(text_table(headers, table))
    print(f"\nrelease end to end: {per_second:,.0f} payouts/s; payouts' own: {own_rate:,.0f}/s  "
          f"goal >= {options.payouts_goal:,.0f}: {verdict}")  # fmt: skip
    record(count, headers, table, per_second, own_rate, options.payouts_goal, verdict, report)
    return passed


def record(count, headers, table, per_second, own_rate, goal, verdict, report) -> None:
    from benchmarks.common import machine_markdown

    body = f"""## Payout auto-release

`make bench` (benchmarks/payouts_release.py): {count:,} payouts, each for an order with one
parcel delivered with the courier's POD and a claim window that has passed, prepared in bulk
(not timed) in the state `payout_open_for_order` leaves them in (held, payment entry posted).

- **Release** — the job's service, `payouts.services.payouts_release_due()`, on one worker:
  batches claimed with `SELECT … FOR UPDATE SKIP LOCKED`, their parcels locked, the POD gate
  re-checked, the release entries (escrow → seller payable + commission revenue), audit rows
  and status written, `payouts_released` sent in each batch transaction (the notifications app
  records its webhook events there: included in the time).
- **Ledger check** — `payouts.services.ledger_check()` (what `manage.py payouts check_ledger`
  runs) afterwards: {report.entries:,} entries and {report.lines:,} lines, every entry
  balanced, every released payout with its entries.

{markdown_table(headers, table)}

**{per_second:,.0f} payouts/s end to end; {own_rate:,.0f} payouts/s for the payouts app's own
work** (the goal, ≥ {goal:,.0f}/s: **{verdict}**). The rest is the `payouts_released` receivers
of other apps, measured apart by timing the signal's dispatch.

Machine:

{machine_markdown()}
"""
    record_section(NAME, body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.payouts_release", description=__doc__
    )
    add_arguments(parser)
    options = parser.parse_args(argv)
    setup_django()
    return 0 if run(options) else 1


if __name__ == "__main__":
    sys.exit(main())
