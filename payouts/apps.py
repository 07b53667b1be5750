from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_schedules(sender, **kwargs) -> None:
    from payouts.schedules import ensure_schedules

    ensure_schedules()


class PayoutsConfig(AppConfig):
    name = "payouts"

    def ready(self) -> None:
        from payouts import receivers
        from tracking.signals import shipment_status_changed

        # On commit: evaluation reads the committed shipments and never slows the ingest down.
        shipment_status_changed.connect(
            receivers.on_shipment_status_changed, dispatch_uid="payouts-evaluate"
        )
        # After every migrate (fresh install, deploy): the schedules exist, exactly once each.
        post_migrate.connect(_ensure_schedules, sender=self, dispatch_uid="payouts-schedules")
