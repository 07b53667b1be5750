from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "payouts"

    def ready(self) -> None:
        from payouts import receivers
        from tracking.signals import shipment_status_changed

        # On commit: evaluation reads the committed shipments and never slows the ingest down.
        shipment_status_changed.connect(
            receivers.on_shipment_status_changed, dispatch_uid="payouts-evaluate"
        )
