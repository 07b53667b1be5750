"""What the notifications app hears from the others (connected in apps.py). Every signal comes
inside the transaction of the change (core/fanout.py): the receivers write outbox rows only,
and the outbox queues their sending on commit (its sweep sends whatever a lost job left)."""

from notifications import services
from notifications.triggers import Trigger

# A return's new status -> the trigger whose rules say who hears of it (other steps: nobody).
RETURN_STEP_TRIGGERS = {
    "requested": Trigger.RETURN_REQUESTED,
    "accepted": Trigger.RETURN_ACCEPTED,
    "refused": Trigger.RETURN_REFUSED,
    "received": Trigger.RETURN_RECEIVED,
}


def on_status_changes_recorded(sender, changes, **kwargs) -> None:
    services.notifications_record(changes=changes)


def on_exceptions_opened(sender, openings, **kwargs) -> None:
    services.exception_notifications_record(openings=openings)


def on_payouts_released(sender, releases, **kwargs) -> None:
    services.payouts_released_record(releases=releases)


def on_return_step_recorded(sender, step, **kwargs) -> None:
    from tracking.models import Shipment

    trigger = RETURN_STEP_TRIGGERS.get(step.status)
    if trigger is None:
        return
    shipment = Shipment.objects.select_related("order", "seller").get(pk=step.shipment_id)
    services.return_step_record(
        shipment=shipment,
        trigger=trigger,
        return_reference=step.reference,
        data=step.data,
        now=step.occurred_at,
    )


def on_anymail_tracking(sender, event, esp_name, **kwargs) -> None:
    """anymail's tracking signal (a provider's webhook, already authenticated by anymail)."""
    from notifications.services.feedback import anymail_event_record

    anymail_event_record(event=event, esp_name=esp_name)
