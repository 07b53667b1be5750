from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


def _ensure_schedules(sender, **kwargs) -> None:
    from core.schedules import schedules_ensure

    schedules_ensure()


class CoreConfig(AppConfig):
    name = "core"

    def ready(self) -> None:
        from core import checks  # noqa: F401 - registers the system checks

        # After every migrate (fresh install, deploy), once: every app's declared schedules
        # exist, exactly once each (core/schedules.py).
        post_migrate.connect(_ensure_schedules, sender=self, dispatch_uid="core-schedules")
        # SQLite has no unaccent: the search's parcelle_fold() is a Python function there.
        from core.textsearch import register_sqlite_fold

        connection_created.connect(register_sqlite_fold, dispatch_uid="core-sqlite-fold")
