"""Named django-q2 schedules of the tracking app (upserted by core.schedules after migrate)."""

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
        # Behind tracking.tasks.fetch_pod_evidence (queued on delivery): lost jobs and retries.
        "name": "tracking.sweep_pod_evidence",
        "func": "tracking.tasks.sweep_pod_evidence",
        "schedule_type": Schedule.MINUTES,
        "minutes": 10,
    },
    {
        "name": "tracking.purge_raw_payloads",
        "func": "tracking.tasks.purge_raw_payloads",
        "schedule_type": Schedule.DAILY,
    },
]
