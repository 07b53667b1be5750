from datetime import timedelta

import factory
from django.utils import timezone

from tests.sellers.factories import OrderFactory
from tests.support.roles import role_group
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


class ShipmentExceptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tracking.ShipmentException"

    shipment = factory.SubFactory(ShipmentFactory)
    kind = "failed_attempt"
    detail = "Courier status failed_attempt"
    opened_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=5))


def cs_agent(**kwargs):
    """A staff user in the "cs agent" group (created by migration tracking 0005)."""

    from tests.sellers.factories import UserFactory

    user = UserFactory(is_staff=True, **kwargs)
    user.groups.add(role_group("cs agent"))
    return user
