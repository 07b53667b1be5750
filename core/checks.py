"""System checks of production settings (``manage.py check``; ``migrate`` and ``runserver``
refuse to run on an Error)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

# Caches every web node and worker share. LocMemCache (the embedded default) and DummyCache
# are per process: with four gunicorn workers a limit of 10 let 26 look-ups through.
SHARED_CACHE_BACKENDS = {
    "django.core.cache.backends.redis.RedisCache",
    "django.core.cache.backends.memcached.PyMemcacheCache",
    "django.core.cache.backends.memcached.PyLibMCCache",
    "django.core.cache.backends.db.DatabaseCache",
}


@register()
def rate_limits_need_a_shared_cache(app_configs=None, **kwargs) -> list[Error]:
    """The buyer pages' rate limits (tracking/public_http.py) count in the default cache: in
    production it must be one that every process shares."""
    if settings.DEBUG:
        return []
    backend = settings.CACHES["default"]["BACKEND"]
    if backend in SHARED_CACHE_BACKENDS:
        return []
    return [
        Error(
            f"The default cache ({backend}) is per process, so the rate limits of the tracking "
            "pages and the order look-up would count separately in every worker.",
            hint="Set REDIS_URL (the cache then lives in Redis, shared by every node).",
            id="parcelle.E101",
        )
    ]


@register()
def webhooks_stay_off_loopback(app_configs=None, **kwargs) -> list[Error]:
    """WEBHOOK_ALLOW_LOOPBACK lets sellers' webhooks reach this machine: development only."""
    if settings.DEBUG or not settings.WEBHOOK_ALLOW_LOOPBACK:
        return []
    return [
        Error(
            "WEBHOOK_ALLOW_LOOPBACK is on with DEBUG off: webhook endpoints could reach "
            "services on this machine over plain http.",
            hint="Unset WEBHOOK_ALLOW_LOOPBACK in production.",
            id="parcelle.E102",
        )
    ]
