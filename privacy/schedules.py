"""Named django-q2 schedules of the privacy app (upserted by core.schedules after migrate)."""

from django_q.models import Schedule

SCHEDULES = [
    {
        "name": "privacy.apply_retention",
        "func": "privacy.tasks.apply_retention",
        "schedule_type": Schedule.DAILY,
    },
]
