"""Named django-q2 schedules of the payouts app, upserted by ensure_schedules()."""

from django_q.models import Schedule

SCHEDULES = [
    {
        # Claim windows end at any minute of the day; sellers are paid within minutes of it.
        "name": "payouts.release_due",
        "func": "payouts.tasks.release_due",
        "schedule_type": Schedule.MINUTES,
        "minutes": 5,
    },
    {
        # Safety net behind the shipment signal: a lost evaluation job costs a day at most.
        "name": "payouts.reevaluate_open",
        "func": "payouts.tasks.reevaluate_open",
        "schedule_type": Schedule.DAILY,
    },
]


def ensure_schedules() -> None:
    """Create or update every schedule by name: safe to run on every migrate and deploy."""
    for spec in SCHEDULES:
        defaults = {key: value for key, value in spec.items() if key != "name"}
        defaults["repeats"] = -1
        Schedule.objects.update_or_create(name=spec["name"], defaults=defaults)
