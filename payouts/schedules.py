"""Named django-q2 schedules of the payouts app (upserted by core.schedules after migrate)."""

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
