"""What the sellers app hears from the tracking record (connected in apps.py; mechanism:
core/fanout.py)."""

from core.fanout import job_on_commit


def on_status_changes_recorded(sender, changes, **kwargs) -> None:
    """Inside the transaction of the status change (a first scan, a delivery): once it
    commits, a job re-judges the delivery performance protection of the orders concerned. A
    job lost in a crash: the sellers.protections_sweep schedule catches up within minutes."""
    order_ids = sorted({c.order_id for c in changes if c.direction == "outbound"})
    if order_ids:
        job_on_commit("sellers.tasks.protections_refresh", order_ids, group="sellers")
