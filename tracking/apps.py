from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_schedules(sender, **kwargs) -> None:
    from tracking.schedules import ensure_schedules

    ensure_schedules()


class TrackingConfig(AppConfig):
    name = "tracking"

    def ready(self) -> None:
        # After every migrate (fresh install, deploy): the schedules exist, exactly once each.
        post_migrate.connect(_ensure_schedules, sender=self, dispatch_uid="tracking-schedules")
