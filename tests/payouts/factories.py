import importlib
from datetime import timedelta

import factory
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from tests.sellers.factories import OrderFactory, UserFactory
from tests.tracking.factories import ShipmentFactory
from tracking.models import ProofOfDelivery


class DeliveredShipmentFactory(ShipmentFactory):
    """A parcel the courier delivered (``days_ago`` days back), nothing left to sync."""

    class Params:
        days_ago = 20

    status = "delivered"
    substatus = "delivered.signed"
    delivered_at = factory.LazyAttribute(lambda o: timezone.now() - timedelta(days=o.days_ago))
    last_event_at = factory.SelfAttribute("delivered_at")
    next_sync_at = None


class CourierPodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProofOfDelivery

    shipment = factory.SubFactory(DeliveredShipmentFactory)
    delivered_at = factory.SelfAttribute("shipment.delivered_at")
    signed_by = "C. MARTIN"
    location_type = "front_door"
    documents = factory.LazyFunction(lambda: ["https://courier.example/pod/123.png"])
    source = ProofOfDelivery.Source.CARRIER
    review = ProofOfDelivery.Review.NOT_REQUIRED


def proven_parcel(order, *, days_ago: int = 20, **kwargs):
    """A parcel of ``order`` delivered ``days_ago`` days back with the courier's proof."""
    shipment = DeliveredShipmentFactory(order=order, days_ago=days_ago, **kwargs)
    CourierPodFactory(shipment=shipment)
    return shipment


def finance_group(name: str) -> Group:
    """The group migration 0002 creates, re-created with the same permissions when a
    transactional test's flush has emptied the table since."""
    migration = importlib.import_module("payouts.migrations.0002_append_only_and_finance_groups")
    group, created = Group.objects.get_or_create(name=name)
    if created:
        for app_label, codename in migration.GROUPS[name]:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
    return group


def finance_user(*, lead: bool = False, **kwargs):
    """A staff user in the "finance" group (or "finance lead": with the override)."""
    user = UserFactory(is_staff=True, **kwargs)
    user.groups.add(finance_group("finance lead" if lead else "finance"))
    return user


__all__ = [
    "CourierPodFactory",
    "DeliveredShipmentFactory",
    "OrderFactory",
    "UserFactory",
    "finance_user",
    "proven_parcel",
]
