"""System checks of the tracking app: what production lacks to talk to every courier."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

from tracking import carriers


@checks.register(checks.Tags.security, deploy=True)
def carrier_credentials_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """One warning per courier whose credentials are unset (``check --deploy`` shows them).

    A warning, not an error: the other couriers keep working. Until it is set, a courier
    without API credentials is not polled (its parcels wait, due) and one without its push
    secret refuses pushes (503).
    """
    if settings.DEBUG:
        return []  # the sandbox placeholders stand in for them
    messages = []
    for adapter in carriers.all_adapters():
        prefix = carriers.env_prefix(adapter.slug)
        for names, effect, check_id in (
            (adapter.missing_credentials, "is not polled", "tracking.W001"),
            (adapter.missing_push_credentials, "refuses pushes", "tracking.W002"),
        ):
            if names:
                variables = ", ".join(f"{prefix}_{name.upper()}" for name in names)
                messages.append(
                    checks.Warning(
                        f"{adapter.name}: {variables} not set, so the courier {effect}.",
                        hint=f"Set {variables} in the environment.",
                        id=check_id,
                    )
                )
    return messages


@checks.register(deploy=True)
def courier_budget_store_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Several workers without a shared store each keep their own courier budgets, so together
    they can send a courier more than its limit (tracking/budgets.py)."""
    if settings.DEBUG or settings.COURIER_BUDGET_REDIS_URL or settings.Q_CLUSTER["workers"] < 2:
        return []
    return [
        checks.Warning(
            f"{settings.Q_CLUSTER['workers']} workers keep their own courier request budgets: "
            "together they can exceed a courier's per-second limit and daily quota.",
            hint="Set REDIS_URL (or COURIER_BUDGET_REDIS_URL) so that every worker shares them.",
            id="tracking.W003",
        )
    ]
