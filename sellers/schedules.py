"""Named django-q2 schedules of the sellers app (upserted by core.schedules after migrate)."""

from django_q.models import Schedule

SCHEDULES = [
    {
        # Dashboards lag the raw shipments by at most this period plus one run.
        "name": "sellers.rollups_refresh",
        "func": "sellers.tasks.rollups_refresh",
        "schedule_type": Schedule.MINUTES,
        "minutes": 5,
    },
    {
        # A running upload whose worker died (lease expired) or a queued one whose job was lost.
        "name": "sellers.tracking_uploads_resume",
        "func": "sellers.tasks.tracking_uploads_resume",
        "schedule_type": Schedule.MINUTES,
        "minutes": 5,
    },
]
