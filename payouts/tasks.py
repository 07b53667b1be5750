"""django-q2 entry points: ids in, one service call, nothing else."""

from payouts import services


def evaluate_orders(order_ids: list[int]) -> int:
    return services.payouts_evaluate_for_orders(order_ids=order_ids)


def evaluate_payouts(payout_ids: list[int]) -> int:
    # Queued by earlier releases (jobs still in the broker at deploy time); nothing new queues it.
    return services.payouts_evaluate(payout_ids=payout_ids)


def release_due() -> int:
    return services.payouts_release_due()


def reevaluate_open() -> int:
    return services.payouts_reevaluate_open()


def run_release_batch(batch_id: int) -> int:
    return services.release_batch_run(batch_id=batch_id).released
