"""Named django-q2 schedules of the sellers app, upserted by ensure_schedules()."""

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


def ensure_schedules() -> None:
    """Create or update every schedule by name: safe to run on every migrate and deploy."""
    for spec in SCHEDULES:
        defaults = {key: value for key, value in spec.items() if key != "name"}
        defaults["repeats"] = -1
        Schedule.objects.update_or_create(name=spec["name"], defaults=defaults)
