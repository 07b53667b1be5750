"""What the returns app hears from the others (connected in apps.py; mechanism: core/fanout.py)."""

from core.fanout import job_on_commit


def on_status_changes_recorded(sender, changes, **kwargs) -> None:
    """Inside the transaction of the status change: a return parcel delivered back to the
    seller means its return is received (refund through the ledger). Done by a job once the
    change commits: never in the courier sync's worker and transaction, whose shipment locks
    must be released before payouts are locked. A job lost in a crash: the
    returns.receive_delivered schedule receives it."""
    delivered = sorted(
        c.shipment_id for c in changes if c.status == "delivered" and c.direction == "return"
    )
    if delivered:
        job_on_commit("returns.tasks.receive_delivered", delivered, group="returns")
