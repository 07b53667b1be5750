import factory

from sellers.models import Order, Seller, SellerMember


class SellerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Seller

    name = factory.Sequence(lambda n: f"Boutique {n}")
    slug = factory.Sequence(lambda n: f"boutique-{n}")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    seller = factory.SubFactory(SellerFactory)
    reference = factory.Sequence(lambda n: f"CMD-{n:06d}")
    buyer_name = "Camille Martin"
    buyer_email = factory.Sequence(lambda n: f"buyer{n}@example.fr")
    buyer_locale = "fr"
    destination_postcode = "69003"
    destination_country = "FR"
    total_amount = 4990
    currency = "EUR"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "auth.User"

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct-horse-battery")


class SellerMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SellerMember

    user = factory.SubFactory(UserFactory)
    seller = factory.SubFactory(SellerFactory)


def shipped_parcel(
    *,
    seller,
    shipped_at,
    carrier="laposte",
    postcode="69003",
    country="FR",
    service_level="standard",
    promised=None,
    expected_ship=None,
    events=(),
    tracking_number=None,
):
    """A parcel confirmed at ``shipped_at`` whose journey is ``events``: (hours after shipping,
    status, substatus). Its state is the last event's (as the ingest would derive it)."""
    from datetime import timedelta

    from tests.tracking.factories import ShipmentFactory, TrackingEventFactory
    from tracking.models import Shipment

    order = OrderFactory(
        seller=seller, destination_postcode=postcode, destination_country=country,
        service_level=service_level, promised_delivery_date=promised,
        expected_ship_date=expected_ship,
    )  # fmt: skip
    extra = {"tracking_number": tracking_number} if tracking_number else {}
    shipment = ShipmentFactory(order=order, carrier=carrier, **extra)
    state = {"status": "info_received", "substatus": "", "delivered_at": None}
    for hours, status, substatus in events:
        at = shipped_at + timedelta(hours=hours)
        TrackingEventFactory(shipment=shipment, occurred_at=at, status=status,
                             substatus=substatus or "")  # fmt: skip
        delivered_at = at if status == "delivered" else state["delivered_at"]
        state = {"status": status, "substatus": substatus or "", "delivered_at": delivered_at}
    Shipment.objects.filter(pk=shipment.pk).update(created_at=shipped_at, **state)
    shipment.refresh_from_db()
    return shipment
