"""Issue 14, item 3: an ``is_staff`` login gets no marketplace API rights by itself.

Replayed through the session-authenticated API, as the attack was: a staff account without
permissions and a CS agent listed every payout, created orders for any seller, registered
shipments on another seller's order and uploaded proofs of delivery. Every operation now checks
an explicit permission or token scope; CS agents keep what the CS console needs.
"""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from payouts.services import payout_open_for_order
from sellers.models import Order
from tests.sellers.factories import OrderFactory, SellerFactory, UserFactory
from tests.support.images import photo
from tests.support.roles import role_group
from tests.tracking.factories import ShipmentFactory, cs_agent
from tracking.models import ProofOfDelivery, Shipment

pytestmark = pytest.mark.django_db

PNG = photo("PNG")  # a real image: uploads are decoded


def session(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def victim():
    """Another seller's order with a parcel and a payout."""
    order = OrderFactory(seller=SellerFactory())
    shipment = ShipmentFactory(order=order, carrier="other", carrier_name="Coursier")
    payout_open_for_order(order=order, actor=None)
    return shipment


def attacks(shipment):
    """The requests that used to succeed for any staff login (method, url, body)."""
    return {
        "list payouts": ("get", "/api/v1/payouts/", None),
        "read a payout": ("get", f"/api/v1/payouts/orders/{shipment.order_id}/", None),
        "create an order for a seller": (
            "post",
            "/api/v1/orders/",
            {
                "seller": shipment.seller_id,
                "reference": "FAKE-1",
                "total_amount": 100000,
            },
        ),  # fmt: skip
        "register a shipment on another seller's order": (
            "post",
            "/api/v1/shipments/",
            {
                "order": shipment.order_id,
                "carrier": "dhl",
                "tracking_number": "3318810025",
            },
        ),  # fmt: skip
        "upload a POD": (
            "post",
            f"/api/v1/shipments/{shipment.id}/pod/",
            {
                "file": SimpleUploadedFile("pod.png", PNG),
                "delivered_at": "2026-12-01T10:00:00Z",
            },
        ),  # fmt: skip
    }


def call(client, method, url, body):
    if method == "get":
        return client.get(url)
    return client.post(url, body, format="multipart" if "file" in body else "json")


def nothing_changed(shipment):
    assert not Order.objects.filter(reference="FAKE-1").exists()
    assert Shipment.objects.filter(order=shipment.order).count() == 1
    assert not ProofOfDelivery.objects.filter(shipment=shipment).exists()


@pytest.mark.parametrize("attack", ["list payouts", "read a payout",
                                    "create an order for a seller",
                                    "register a shipment on another seller's order",
                                    "upload a POD"])  # fmt: skip
def test_staff_login_without_permissions_gets_no_api_rights(victim, settings, tmp_path, attack):
    settings.MEDIA_ROOT = tmp_path
    client = session(UserFactory(is_staff=True))
    response = call(client, *attacks(victim)[attack])
    assert response.status_code == 403, response.content
    nothing_changed(victim)


@pytest.mark.parametrize("attack", ["list payouts", "read a payout",
                                    "create an order for a seller",
                                    "register a shipment on another seller's order",
                                    "upload a POD"])  # fmt: skip
def test_cs_agent_gets_no_money_or_seller_rights_through_the_api(
    victim, settings, tmp_path, attack
):
    settings.MEDIA_ROOT = tmp_path
    client = session(cs_agent())
    response = call(client, *attacks(victim)[attack])
    assert response.status_code == 403, response.content
    nothing_changed(victim)


def test_cs_agent_keeps_what_the_cs_console_needs(victim):
    client = session(cs_agent())
    reads = [
        f"/api/v1/shipments/{victim.id}/",
        f"/api/v1/orders/{victim.order_id}/tracking/",
        f"/api/v1/cs/search?q={victim.tracking_number}",
        f"/api/v1/cs/shipments/{victim.id}/",
        "/api/v1/cs/exceptions/",
    ]
    assert [client.get(url).status_code for url in reads] == [200] * len(reads)
    note = client.post(f"/api/v1/cs/shipments/{victim.id}/notes/", {"body": "called"},
                       format="json")  # fmt: skip
    assert note.status_code == 201


def test_staff_session_is_allowed_what_its_permissions_name(victim):
    # given a staff user granted exactly the order-creation permission
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_order"))
    client = session(user)
    # when / then: it may create orders, and still may not list payouts
    created = client.post("/api/v1/orders/", {
        "seller": victim.seller_id, "reference": "REAL-1", "total_amount": 1000,
    }, format="json")  # fmt: skip
    assert created.status_code == 201
    assert client.get("/api/v1/payouts/").status_code == 403


def test_finance_reads_payouts_but_cannot_create_orders(victim):
    user = UserFactory(is_staff=True)
    user.groups.add(role_group("finance"))
    client = session(user)
    assert client.get("/api/v1/payouts/").status_code == 200
    assert client.post("/api/v1/orders/", {
        "seller": victim.seller_id, "reference": "FAKE-1", "total_amount": 1,
    }, format="json").status_code == 403  # fmt: skip


def test_every_api_view_names_who_may_call_each_of_its_methods():
    # a view without an ``operations`` entry for a method it serves is refused by default;
    # this guards against a new endpoint that forgot to say who may call it
    from django.urls import get_resolver
    from rest_framework.views import APIView

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern.url_patterns)
            else:
                yield pattern

    missing = []
    for pattern in walk(get_resolver().url_patterns):
        view = getattr(pattern.callback, "view_class", None)
        if (
            view is None
            or not issubclass(view, APIView)
            or view.__module__.startswith("drf_spectacular")
        ):
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            if hasattr(view, method) and method.upper() not in getattr(view, "operations", {}):
                missing.append(f"{view.__name__}.{method}")
    assert missing == []
