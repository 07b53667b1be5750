from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_schedules(sender, **kwargs) -> None:
    from notifications.schedules import ensure_schedules

    ensure_schedules()


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
        # After every migrate (fresh install, deploy): the schedules exist, exactly once each.
        post_migrate.connect(_ensure_schedules, sender=self, dispatch_uid="notifications-schedules")
