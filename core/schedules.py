"""The django-q2 schedules of every app, upserted by one function after every migrate.

Each app that has recurring jobs declares them as data in its own ``<app>/schedules.py``
(``SCHEDULES = [{"name": ..., "func": ..., "schedule_type": ..., ...}]``); nothing else. The
names are the schedules' identity: ``schedules_ensure`` creates a missing one and brings an
existing one back to its declaration, so it is safe on every migrate and deploy.

    migrate -> post_migrate (core, connected once in CoreConfig.ready) -> schedules_ensure()
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.db import transaction

# core's own recurring jobs (it is an app like the others). "H" is django-q2's Schedule.HOURLY,
# spelt out: this module imports django_q only inside schedules_ensure.
SCHEDULES = [
    {
        # Idempotency-Keys past API_IDEMPOTENCY_KEY_TTL_HOURS (core/api/idempotency.py).
        "name": "core.purge_idempotency_keys",
        "func": "core.tasks.purge_idempotency_keys",
        "schedule_type": "H",
    },
]


def declared_schedules(*, app_labels: Iterable[str] | None = None) -> list[dict]:
    """The SCHEDULES of the installed apps (or of ``app_labels`` only), in app order.
    Raises ValueError when two apps declare the same name: the second would overwrite the
    first."""
    wanted = None if app_labels is None else set(app_labels)
    specs: list[dict] = []
    for config in apps.get_app_configs():
        if wanted is not None and config.label not in wanted:
            continue
        module_name = f"{config.name}.schedules"
        if find_spec(module_name) is None:
            continue
        specs.extend(getattr(import_module(module_name), "SCHEDULES", []))
    names = [spec["name"] for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"schedules declared twice: {', '.join(duplicates)}")
    return specs


@transaction.atomic
def schedules_ensure(*, app_labels: Iterable[str] | None = None) -> list[str]:
    """Create or update, by name, every declared schedule (repeating forever); returns their
    names. Idempotent: run twice, it leaves one row per name."""
    from django_q.models import Schedule

    specs = declared_schedules(app_labels=app_labels)
    for spec in specs:
        defaults = {key: value for key, value in spec.items() if key != "name"}
        defaults["repeats"] = -1
        Schedule.objects.update_or_create(name=spec["name"], defaults=defaults)
    return [spec["name"] for spec in specs]
