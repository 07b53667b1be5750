"""The emulated couriers, one module each, found automatically: a module here that defines
``COURIER`` is served under ``/<COURIER.slug>/``. Adding a courier touches no other file."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from devtools.sandbox.couriers.base import SandboxCourier


@cache
def sandbox_couriers() -> dict[str, SandboxCourier]:
    couriers: dict[str, SandboxCourier] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        courier = getattr(module, "COURIER", None)
        if isinstance(courier, SandboxCourier):
            couriers[courier.slug] = courier
    return couriers


def get_courier(slug: str) -> SandboxCourier:
    try:
        return sandbox_couriers()[slug]
    except KeyError:
        raise ValueError(f"the sandbox does not emulate {slug!r}") from None
