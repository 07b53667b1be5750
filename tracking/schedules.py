"""Named django-q2 schedules of the tracking app, upserted by ensure_schedules()."""

from django_q.models import Schedule

SCHEDULES = [
    {
        "name": "tracking.dispatch_due_syncs",
        "func": "tracking.tasks.dispatch_due_syncs",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
    },
    {
        "name": "tracking.detect_exceptions",
        "func": "tracking.tasks.detect_exceptions",
        "schedule_type": Schedule.MINUTES,
        "minutes": 15,
    },
    {
        "name": "tracking.refresh_estimates",
        "func": "tracking.tasks.refresh_estimates",
        "schedule_type": Schedule.MINUTES,
        "minutes": 15,
    },
    {
        "name": "tracking.purge_raw_payloads",
        "func": "tracking.tasks.purge_raw_payloads",
        "schedule_type": Schedule.DAILY,
    },
]


def ensure_schedules() -> None:
    """Create or update every schedule by name: safe to run on every migrate and deploy."""
    for spec in SCHEDULES:
        defaults = {key: value for key, value in spec.items() if key != "name"}
        defaults["repeats"] = -1
        Schedule.objects.update_or_create(name=spec["name"], defaults=defaults)
