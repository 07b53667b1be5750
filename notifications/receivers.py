"""What the notifications app hears from the others (connected in apps.py)."""

from notifications import services


def on_status_changes_recorded(sender, changes, **kwargs) -> None:
    # Inside the ingest transaction: rows only, sending is enqueued on commit.
    services.notifications_record(changes=changes)


def on_exceptions_opened(sender, openings, **kwargs) -> None:
    # Inside the detection job's transaction, like the status changes: rows only.
    services.exception_notifications_record(openings=openings)


def on_payout_released(
    sender, payout_id, order_id, seller_id, net_amount, currency, released_at, **kwargs
) -> None:
    services.payout_released_record(
        payout_id=payout_id,
        order_id=order_id,
        seller_id=seller_id,
        net_amount=net_amount,
        currency=currency,
        released_at=released_at,
    )
