from datetime import timedelta

import factory
from django.utils import timezone

from tests.sellers.factories import OrderFactory
from tracking.models import Shipment, TrackingEvent


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    order = factory.SubFactory(OrderFactory)
    seller = factory.SelfAttribute("order.seller")
    carrier = "laposte"
    tracking_number = factory.Sequence(lambda n: f"6A{n:011d}")
    next_sync_at = factory.LazyFunction(timezone.now)


class TrackingEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrackingEvent

    shipment = factory.SubFactory(ShipmentFactory)
    occurred_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    carrier_code = "ET1"
    message = "En cours de traitement"
    status = "in_transit"
    dedupe_key = factory.Sequence(lambda n: f"key-{n}")
