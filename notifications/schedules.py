"""Named django-q2 schedules of the notifications app (upserted by core.schedules after migrate)."""

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
