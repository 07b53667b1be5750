"""django-q2 entry points: ids in, one service call, nothing else."""

from tracking import services
from tracking.services.edd import estimates_refresh
from tracking.services.evidence import pod_evidence_fetch_many, pod_evidence_sweep
from tracking.services.exceptions import exceptions_detect
from tracking.services.payloads import raw_payloads_purge
from tracking.services.push import push_process


def dispatch_due_syncs() -> int:
    return len(services.sync_dispatch_due())


def sync_carrier_batch(carrier: str, shipment_ids: list[int]) -> dict[str, object]:
    outcome = services.carrier_batch_sync(carrier=carrier, shipment_ids=shipment_ids)
    return {
        "carrier": outcome.carrier,
        "synced": outcome.synced,
        "number_errors": outcome.number_errors,
        "fault": outcome.fault,
    }


def process_push(raw_payload_id: int) -> int:
    return push_process(raw_payload_id=raw_payload_id)


def purge_raw_payloads() -> int:
    return raw_payloads_purge()


def detect_exceptions() -> dict[str, object]:
    summary = exceptions_detect()
    return {"opened": summary.opened, "resolved": summary.resolved}


def refresh_estimates() -> int:
    return estimates_refresh()


def fetch_pod_evidence(evidence_ids: list[int]) -> dict[str, int]:
    return pod_evidence_fetch_many(evidence_ids=evidence_ids)


def sweep_pod_evidence() -> dict[str, int]:
    return pod_evidence_sweep()
