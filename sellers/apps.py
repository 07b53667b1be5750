from django.apps import AppConfig


class SellersConfig(AppConfig):
    name = "sellers"

    def ready(self) -> None:
        from sellers import receivers
        from tracking import signals

        signals.status_changes_recorded.connect(
            receivers.on_status_changes_recorded, dispatch_uid="sellers.protection"
        )
