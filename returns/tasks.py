"""django-q2 entry points: ids in, one service call, nothing else."""

from returns import services


def receive_delivered(shipment_ids: list[int] | None = None) -> int:
    # With ids: queued when those return parcels' delivery committed; without: the sweep.
    return services.returns_receive_delivered(shipment_ids=shipment_ids)
