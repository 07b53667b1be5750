"""Courier adapters and their registry (pure Python: no Django here).

Adding a courier is one module ``tracking/carriers/<slug>.py`` with a ``CarrierAdapter`` subclass
(found automatically, nothing to list) that declares its ``production_url`` and the names of its
``credentials``. Its configuration follows a naming rule, read from the environment:

    <SLUG>_BASE_URL          the courier's base URL (default: production_url, or the sandbox's)
    <SLUG>_<CREDENTIAL>      each credential, e.g. LAPOSTE_API_KEY, DHL_PUSH_TOKEN
    <SLUG>_<OPTION>          each of the adapter's ``option_defaults``, e.g. DHL_PUSH_HEADER
    <SLUG>_REQUESTS_PER_SECOND, <SLUG>_REQUESTS_PER_DAY
                             the courier's limits when a contract raises the documented ones
                             (e.g. GLS_REQUESTS_PER_DAY=20000)

``carrier_settings_from_environ`` applies that rule (``config/settings.py`` stores its result in
``settings.CARRIERS``). ``get_adapter(slug)`` returns the adapter configured by the configuration
source: the Django app installs one reading ``settings.CARRIERS`` (``tracking/apps.py``); without
Django it reads the environment by the same rule.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracking.carriers.base import CarrierAdapter
    from tracking.carriers.budget import RequestBudget


class UnknownCarrier(LookupError):
    pass


@cache
def _discover() -> dict[str, type[CarrierAdapter]]:
    """Every ``CarrierAdapter`` subclass with a slug defined in a module of this package (shared
    helpers such as http.py or oauth.py define none), by slug."""
    from tracking.carriers.base import CarrierAdapter

    classes: dict[str, type[CarrierAdapter]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, CarrierAdapter)
                and value.__module__ == module.__name__
                and getattr(value, "slug", "")
            ):
                if value.slug in classes:
                    raise RuntimeError(f"two courier adapters are called {value.slug!r}")
                classes[value.slug] = value
    return classes


def __getattr__(name: str) -> object:
    # ADAPTER_CLASSES is computed on first use: importing the package (for its vocabulary, say)
    # does not import every adapter.
    if name == "ADAPTER_CLASSES":
        return _discover()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def env_prefix(slug: str) -> str:
    return slug.upper().replace("-", "_")


# A courier's limits, from its documentation by default (the adapter's class attributes).
LIMIT_OVERRIDES = ("requests_per_second", "requests_per_day")


def carrier_settings_from_environ(
    environ: Mapping[str, str], *, sandbox_url: str = "", placeholders: bool = False
) -> dict[str, dict[str, str]]:
    """Every courier's configuration by the naming rule above.

    ``sandbox_url`` points every courier without its own ``<SLUG>_BASE_URL`` at the sandbox.
    ``placeholders`` fills an unset credential with ``sandbox-<name>`` (what the sandbox accepts):
    for DEBUG, tests and the sandbox only. Without it an unset credential stays "", and the
    courier is not polled (API credentials) or refuses pushes (push secrets).
    """
    sandbox_url = sandbox_url.rstrip("/")
    configs: dict[str, dict[str, str]] = {}
    for slug, cls in _discover().items():
        prefix = env_prefix(slug)
        default_url = f"{sandbox_url}/{slug}" if sandbox_url else cls.production_url
        config = {"base_url": environ.get(f"{prefix}_BASE_URL") or default_url}
        for name, default in cls.option_defaults.items():
            config[name] = environ.get(f"{prefix}_{name.upper()}", default)
        for name in cls.credentials:
            value = environ.get(f"{prefix}_{name.upper()}", "")
            config[name] = value or (f"sandbox-{name}" if placeholders else "")
        for limit in LIMIT_OVERRIDES:
            if value := environ.get(f"{prefix}_{limit.upper()}", "").strip():
                config[limit] = value
        configs[slug] = config
    return configs


def _configuration_from_environ(slug: str) -> Mapping[str, object]:
    return carrier_settings_from_environ(os.environ).get(slug, {})


_configuration: Callable[[str], Mapping[str, object]] = _configuration_from_environ


def configure(source: Callable[[str], Mapping[str, object]]) -> None:
    """Install where adapters get their configuration: ``source(slug)`` -> keyword arguments of
    the adapter's constructor (base URL, credentials, options, timeouts). Read on every
    ``get_adapter`` call, so a changed configuration gives a new adapter."""
    global _configuration
    _configuration = source


# One adapter per courier and configuration in each process, so that what an adapter keeps
# (an OAuth token until it expires) outlives a batch; a changed configuration gets a new one.
_instances: dict[tuple[str, tuple[tuple[str, str], ...]], CarrierAdapter] = {}


def get_adapter(slug: str) -> CarrierAdapter:
    try:
        cls = _discover()[slug]
    except KeyError:
        raise UnknownCarrier(f"no courier adapter is called {slug!r}") from None
    config = dict(_configuration(slug))
    key = (slug, tuple(sorted((name, str(value)) for name, value in config.items())))
    adapter = _instances.get(key)
    if adapter is None:
        adapter = _instances.setdefault(key, cls(**config))
    return adapter


def all_adapters() -> list[CarrierAdapter]:
    return [get_adapter(slug) for slug in _discover()]


def make_client(adapter: CarrierAdapter, *, budget: RequestBudget | None = None):
    """The HTTP client for ``adapter``: paced by ``budget`` (the courier's budget shared by every
    worker, tracking/budgets.py) or, without one, on its own at the courier's pace."""
    from tracking.carriers.http import CarrierHttpClient

    return CarrierHttpClient(
        timeout_seconds=adapter.timeout_seconds,
        requests_per_second=adapter.requests_per_second,
        budget=budget,
    )
