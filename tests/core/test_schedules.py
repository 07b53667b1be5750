import pytest
from django.core.management.sql import emit_post_migrate_signal
from django_q.models import Schedule

from core.schedules import declared_schedules, schedules_ensure

pytestmark = pytest.mark.django_db

# Every recurring job of the product, by app: a schedule dropped from an app's SCHEDULES (or
# one added without thinking about it) shows up here.
EXPECTED = {
    "tracking.dispatch_due_syncs": ("tracking.tasks.dispatch_due_syncs", Schedule.MINUTES, 1),
    "tracking.detect_exceptions": ("tracking.tasks.detect_exceptions", Schedule.MINUTES, 15),
    "tracking.refresh_estimates": ("tracking.tasks.refresh_estimates", Schedule.MINUTES, 15),
    "tracking.purge_raw_payloads": ("tracking.tasks.purge_raw_payloads", Schedule.DAILY, None),
    "tracking.sweep_pod_evidence": ("tracking.tasks.sweep_pod_evidence", Schedule.MINUTES, 10),
    "payouts.release_due": ("payouts.tasks.release_due", Schedule.MINUTES, 5),
    "payouts.reevaluate_open": ("payouts.tasks.reevaluate_open", Schedule.DAILY, None),
    "notifications.sweep_outbox": ("notifications.tasks.sweep_outbox", Schedule.MINUTES, 1),
    "returns.receive_delivered": ("returns.tasks.receive_delivered", Schedule.MINUTES, 5),
    "sellers.rollups_refresh": ("sellers.tasks.rollups_refresh", Schedule.MINUTES, 5),
    "sellers.protections_sweep": ("sellers.tasks.protections_sweep", Schedule.MINUTES, 5),
    "sellers.tracking_uploads_resume": (
        "sellers.tasks.tracking_uploads_resume", Schedule.MINUTES, 5,
    ),
    "privacy.apply_retention": ("privacy.tasks.apply_retention", Schedule.DAILY, None),
    "core.purge_idempotency_keys": ("core.tasks.purge_idempotency_keys", Schedule.HOURLY, None),
}  # fmt: skip


def _rows() -> dict[str, tuple]:
    return {s.name: (s.func, s.schedule_type, s.minutes, s.repeats) for s in Schedule.objects.all()}


def test_schedules_ensure_upserts_every_apps_schedules_once():
    # given no schedule at all
    Schedule.objects.all().delete()
    # when it runs twice
    schedules_ensure()
    names = schedules_ensure()
    # then each declared schedule exists once, repeating forever
    assert sorted(names) == sorted(EXPECTED)
    assert _rows() == {
        name: (func, kind, minutes, -1) for name, (func, kind, minutes) in EXPECTED.items()
    }


def test_schedules_ensure_restores_a_changed_schedule_and_keeps_others():
    # given a declared schedule edited by hand and an operator's own schedule
    schedules_ensure()
    Schedule.objects.filter(name="tracking.dispatch_due_syncs").update(minutes=30, repeats=0)
    Schedule.objects.create(name="ops.report", func="ops.report", schedule_type=Schedule.DAILY)
    # when it runs again
    schedules_ensure()
    # then the declaration wins for ours and the operator's is left alone
    rows = _rows()
    assert rows["tracking.dispatch_due_syncs"] == (
        "tracking.tasks.dispatch_due_syncs", Schedule.MINUTES, 1, -1,
    )  # fmt: skip
    assert rows["ops.report"][0] == "ops.report"


def test_schedules_ensure_can_be_limited_to_some_apps():
    Schedule.objects.all().delete()
    schedules_ensure(app_labels=["payouts"])
    assert sorted(_rows()) == ["payouts.reevaluate_open", "payouts.release_due"]


def test_migrate_upserts_the_schedules_through_one_hook():
    # given no schedule at all
    Schedule.objects.all().delete()
    # when migrate ends (post_migrate is sent once per app)
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    # then every schedule exists, once
    assert sorted(_rows()) == sorted(EXPECTED)


def test_declared_schedules_refuses_one_name_in_two_apps(monkeypatch):
    from payouts import schedules as payouts_schedules

    monkeypatch.setattr(
        payouts_schedules,
        "SCHEDULES",
        [*payouts_schedules.SCHEDULES, {"name": "tracking.dispatch_due_syncs", "func": "x"}],
    )
    with pytest.raises(ValueError, match=r"tracking\.dispatch_due_syncs"):
        declared_schedules()
