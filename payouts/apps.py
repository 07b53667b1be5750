from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "payouts"

    def ready(self) -> None:
        from payouts import receivers
        from tracking.signals import status_changes_recorded

        status_changes_recorded.connect(
            receivers.on_status_changes_recorded, dispatch_uid="payouts-evaluate"
        )
