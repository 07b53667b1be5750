"""Named django-q2 schedules of the returns app (upserted by core.schedules after migrate)."""

from django_q.models import Schedule

SCHEDULES = [
    {
        # Behind the job queued when a return parcel's delivery commits: a job lost in a crash
        # (or a return parcel whose delivery came in some other way) is received within this.
        "name": "returns.receive_delivered",
        "func": "returns.tasks.receive_delivered",
        "schedule_type": Schedule.MINUTES,
        "minutes": 5,
    },
]
