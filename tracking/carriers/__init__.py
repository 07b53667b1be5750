"""Courier adapters and their registry.

``get_adapter("laposte")`` returns the adapter configured from ``settings.CARRIERS``.
Adding a courier: write ``tracking/carriers/<slug>.py`` with a ``CarrierAdapter`` subclass and
list it in ``ADAPTER_CLASSES`` below.
"""

from __future__ import annotations

from django.conf import settings

from tracking.carriers.aftership import AfterShipAdapter
from tracking.carriers.base import CarrierAdapter
from tracking.carriers.chronopost import ChronopostAdapter
from tracking.carriers.dhl import DhlAdapter
from tracking.carriers.dhlexpress import DhlExpressAdapter
from tracking.carriers.dpd import DpdAdapter
from tracking.carriers.fedex import FedexAdapter
from tracking.carriers.gls import GlsAdapter
from tracking.carriers.laposte import LaPosteAdapter
from tracking.carriers.mondialrelay import MondialRelayAdapter
from tracking.carriers.postnl import PostNLAdapter
from tracking.carriers.royalmail import RoyalMailAdapter
from tracking.carriers.ups import UpsAdapter
from tracking.carriers.usps import UspsAdapter

ADAPTER_CLASSES: dict[str, type[CarrierAdapter]] = {
    cls.slug: cls
    for cls in (
        LaPosteAdapter,
        ChronopostAdapter,
        DhlAdapter,
        DhlExpressAdapter,
        DpdAdapter,
        GlsAdapter,
        MondialRelayAdapter,
        PostNLAdapter,
        RoyalMailAdapter,
        UpsAdapter,
        FedexAdapter,
        UspsAdapter,
        # An aggregator is one more adapter: it maps its own tags to our vocabulary.
        AfterShipAdapter,
    )
}


class UnknownCarrier(LookupError):
    pass


# One adapter per courier and configuration in each process, so that what an adapter keeps
# (an OAuth token until it expires) outlives a batch; a changed configuration gets a new one.
_instances: dict[tuple[str, tuple[tuple[str, str], ...]], CarrierAdapter] = {}


def get_adapter(slug: str) -> CarrierAdapter:
    try:
        cls = ADAPTER_CLASSES[slug]
    except KeyError:
        raise UnknownCarrier(f"no courier adapter is called {slug!r}") from None
    config = settings.CARRIERS.get(slug, {})
    key = (slug, tuple(sorted((name, str(value)) for name, value in config.items())))
    adapter = _instances.get(key)
    if adapter is None:
        adapter = _instances.setdefault(key, cls(**config))
    return adapter


def all_adapters() -> list[CarrierAdapter]:
    return [get_adapter(slug) for slug in ADAPTER_CLASSES]


def make_client(adapter: CarrierAdapter):
    from tracking.carriers.http import CarrierHttpClient

    return CarrierHttpClient(
        timeout_seconds=settings.CARRIER_HTTP_TIMEOUT_SECONDS,
        requests_per_second=adapter.requests_per_second,
    )
