from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        from notifications import receivers
        from payouts.signals import payout_released
        from tracking.signals import exceptions_opened, status_changes_recorded

        status_changes_recorded.connect(
            receivers.on_status_changes_recorded, dispatch_uid="notifications-outbox"
        )
        exceptions_opened.connect(
            receivers.on_exceptions_opened, dispatch_uid="notifications-exceptions"
        )
        payout_released.connect(receivers.on_payout_released, dispatch_uid="notifications-payout")
