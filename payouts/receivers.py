"""What the payouts app hears from the others (connected in apps.py; mechanism: core/fanout.py)."""

from core.fanout import job_on_commit


def on_status_changes_recorded(sender, changes, **kwargs) -> None:
    """Inside the transaction of the status change: once it commits, a job re-evaluates the
    open payouts of the orders concerned. A job, not inline: the courier sync that sent this
    must not wait for payouts, and payouts lock their rows only after the shipments' locks are
    released. A job lost in a crash: the daily payouts.reevaluate_open catches up."""
    order_ids = sorted({change.order_id for change in changes})
    if order_ids:
        job_on_commit("payouts.tasks.evaluate_orders", order_ids, group="payouts")
