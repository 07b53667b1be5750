from django.apps import AppConfig


def _record_exceptions(sender, changes, **kwargs) -> None:
    # Inside the ingest transaction: one UPDATE and one INSERT for the whole batch.
    from tracking.services.exceptions import exceptions_record_for_changes

    exceptions_record_for_changes(changes=changes)


def _plan_pod_evidence(sender, changes, **kwargs) -> None:
    # Inside the ingest transaction: pending rows for the courier documents, fetched on commit.
    from tracking.services.evidence import pod_evidence_on_status_changes

    pod_evidence_on_status_changes(sender, changes, **kwargs)


def _carrier_configuration(slug: str) -> dict[str, object]:
    # Read at each get_adapter call, so that a test overriding settings.CARRIERS is obeyed.
    from django.conf import settings

    return {
        "timeout_seconds": settings.CARRIER_HTTP_TIMEOUT_SECONDS,
        "push_tolerance_seconds": settings.CARRIER_PUSH_TOLERANCE_SECONDS,
        **settings.CARRIERS.get(slug, {}),
    }


class TrackingConfig(AppConfig):
    name = "tracking"

    def ready(self) -> None:
        from tracking import carriers, checks  # noqa: F401 - checks registers the system checks
        from tracking.signals import status_changes_recorded

        # The courier formats import no Django: the registry is told where settings live.
        carriers.configure(_carrier_configuration)

        status_changes_recorded.connect(_record_exceptions, dispatch_uid="tracking-exceptions")
        status_changes_recorded.connect(_plan_pod_evidence, dispatch_uid="tracking-pod-evidence")
