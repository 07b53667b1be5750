from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"

    def ready(self) -> None:
        from returns import receivers
        from tracking.signals import shipment_status_changed

        shipment_status_changed.connect(
            receivers.on_shipment_status_changed, dispatch_uid="returns-receive"
        )
