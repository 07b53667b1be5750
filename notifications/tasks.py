"""django-q2 entry points: ids in, one service call, nothing else."""

from notifications import services


def send_notifications(shipment_ids: list[int]) -> int:
    return services.notifications_send(shipment_ids=shipment_ids)


def deliver_webhooks(delivery_ids: list[int]) -> int:
    return services.webhook_deliveries_send(ids=delivery_ids)


def sweep_outbox() -> dict[str, int]:
    return services.outbox_sweep()
