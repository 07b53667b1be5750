"""django-q2 entry points: ids in, one service call, nothing else."""

from sellers import protection, rollups, uploads


def rollups_refresh() -> dict[str, int]:
    return rollups.rollups_refresh()


def tracking_upload_run(upload_id: int) -> int:
    return uploads.tracking_upload_run(upload_id=upload_id).applied_rows


def tracking_uploads_resume() -> int:
    return uploads.tracking_uploads_resume()


def protections_refresh(order_ids: list[int]) -> int:
    return protection.order_protections_refresh(order_ids=order_ids)


def protections_sweep() -> int:
    return protection.order_protections_sweep()
