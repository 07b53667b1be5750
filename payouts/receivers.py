"""What the payouts app hears from the others (connected in apps.py)."""

from django_q.tasks import async_task

from payouts import selectors
from payouts.services.lifecycle import EVALUATE_BATCH


def on_shipment_status_changed(sender, changes, **kwargs) -> None:
    """After a status change commits: re-evaluate the open payouts of the orders concerned, in
    a job (the courier sync that sent this must not wait for payouts)."""
    payout_ids = selectors.payout_ids_open_for_orders(order_ids={c.order_id for c in changes})
    for start in range(0, len(payout_ids), EVALUATE_BATCH):
        async_task(
            "payouts.tasks.evaluate_payouts",
            payout_ids[start : start + EVALUATE_BATCH],
            group="payouts",
        )
