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
    {
        # Behind the protection job (first scan, delivery) and for confirmations and courier
        # corrections: a seller's protection lags its parcels by one run at most.
        "name": "sellers.protections_sweep",
        "func": "sellers.tasks.protections_sweep",
        "schedule_type": Schedule.MINUTES,
        "minutes": 5,
    },
]
