from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_schedules(sender, **kwargs) -> None:
    from sellers.schedules import ensure_schedules

    ensure_schedules()


class SellersConfig(AppConfig):
    name = "sellers"

    def ready(self) -> None:
        # After every migrate (fresh install, deploy): the rollup schedule exists, exactly once.
        post_migrate.connect(_ensure_schedules, sender=self, dispatch_uid="sellers-schedules")
