from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        from anymail.signals import tracking

        from notifications import receivers
        from payouts.signals import payouts_released
        from returns.signals import return_step_recorded
        from tracking.signals import exceptions_opened, status_changes_recorded

        status_changes_recorded.connect(
            receivers.on_status_changes_recorded, dispatch_uid="notifications-outbox"
        )
        exceptions_opened.connect(
            receivers.on_exceptions_opened, dispatch_uid="notifications-exceptions"
        )
        payouts_released.connect(receivers.on_payouts_released, dispatch_uid="notifications-payout")
        return_step_recorded.connect(
            receivers.on_return_step_recorded, dispatch_uid="notifications-returns"
        )
        # Bounces and complaints from any email provider anymail supports (its webhooks).
        tracking.connect(receivers.on_anymail_tracking, dispatch_uid="notifications-feedback")
