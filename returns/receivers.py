"""What the returns app hears from the others (connected in apps.py)."""

from returns.services import returns_receive_delivered


def on_shipment_status_changed(sender, changes, **kwargs) -> None:
    """After a status change commits: a return parcel delivered back to the seller means the
    return is received (refund through the ledger). Runs after commit, in its own
    transactions, so the courier sync's locks are released before payouts are locked."""
    delivered = [c.shipment_id for c in changes if c.status == "delivered"]
    if delivered:
        returns_receive_delivered(shipment_ids=delivered)
