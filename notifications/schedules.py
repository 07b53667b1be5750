"""Named django-q2 schedules of the notifications app, upserted by ensure_schedules()."""

from django_q.models import Schedule

SCHEDULES = [
    {
        # Consolidated emails at the end of their window, retries, and anything whose
        # on-commit job was lost: every minute.
        "name": "notifications.sweep_outbox",
        "func": "notifications.tasks.sweep_outbox",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
    },
]


def ensure_schedules() -> None:
    """Create or update every schedule by name: safe to run on every migrate and deploy."""
    for spec in SCHEDULES:
        defaults = {key: value for key, value in spec.items() if key != "name"}
        defaults["repeats"] = -1
        Schedule.objects.update_or_create(name=spec["name"], defaults=defaults)
