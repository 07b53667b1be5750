"""Detection at registration, couriers without an adapter, seller-uploaded proof of delivery."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import ApplicationError, PermissionDenied
from sellers.models import Order
from tests.sellers.factories import OrderFactory, UserFactory
from tests.tracking.factories import ShipmentFactory
from tracking.models import ProofOfDelivery, Shipment
from tracking.services.pod import pod_review

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
DELIVERED = "2026-11-20T15:30:00+01:00"


def register(api, order, **payload):
    return api.post("/api/v1/shipments/", {"order": order.id, **payload}, format="json")


@pytest.mark.parametrize(
    ("number", "carrier"),
    [
        ("1Z 999 AA1 01 2345 6784", "ups"),  # UPS, mod-10 check digit
        ("EW112720413FR", "laposte"),  # UPU S10 issued by La Poste
        ("6A 1560 2676 300", "laposte"),  # Colissimo domestic
        ("RB123456785GB", "royalmail"),  # UPU S10 issued by Royal Mail
    ],
)
def test_shipments_register_without_carrier_detects_it(seller, seller_api, number, carrier):
    response = register(seller_api, OrderFactory(seller=seller), tracking_number=number)
    assert response.status_code == 201, response.json()
    assert response.json()["carrier"] == carrier


def test_shipments_register_without_carrier_refuses_a_bad_check_digit(seller, seller_api):
    response = register(seller_api, OrderFactory(seller=seller), tracking_number="EW112720414FR")
    assert response.status_code == 400
    assert response.json()["code"] == "carrier_not_detected"
    assert Shipment.objects.count() == 0


def test_shipments_register_without_carrier_unknown_format_says_so(seller, seller_api):
    response = register(seller_api, OrderFactory(seller=seller), tracking_number="HELLO")
    assert response.status_code == 400
    assert "carrier" in response.json()["errors"]


def test_carriers_detect_endpoint_ranks_candidates(seller_api):
    body = seller_api.get("/api/v1/carriers/detect", {"tracking_number": "1z999aa10123456784"})
    assert body.status_code == 200
    assert body.json()["tracking_number"] == "1Z999AA10123456784"
    assert body.json()["candidates"] == [
        {"carrier": "ups", "confidence": 0.95, "checksum_valid": True}
    ]
    assert seller_api.get("/api/v1/carriers/detect").status_code == 400


def test_shipments_register_other_courier_is_kept_but_never_polled(seller, seller_api):
    # given a courier Parcelle has no adapter for
    order = OrderFactory(seller=seller)
    # when
    response = register(
        seller_api, order, carrier="other", tracking_number="CP123456789",
        carrier_name="Colis Privé", carrier_tracking_url="https://www.colisprive.com/moncolis/",
    )  # fmt: skip
    nameless = register(seller_api, order, carrier="other", tracking_number="CP1234")
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["carrier"], body["carrier_name"]) == ("other", "Colis Privé")
    assert body["carrier_tracking_url"] == "https://www.colisprive.com/moncolis/"
    assert Shipment.objects.get(id=body["id"]).next_sync_at is None
    assert nameless.status_code == 400
    assert nameless.json()["code"] == "carrier_name_required"


def upload(api, shipment, content=PDF, name="receipt.pdf", delivered_at=DELIVERED):
    file = SimpleUploadedFile(name, content, content_type="application/pdf")
    return api.post(f"/api/v1/shipments/{shipment.id}/pod/",
                    {"file": file, "delivered_at": delivered_at, "signed_by": "C. Martin"},
                    format="multipart")  # fmt: skip


def test_pod_upload_waits_for_finance_then_approval_delivers(seller, seller_api, settings,
                                                              tmp_path):  # fmt: skip
    # given an "other" courier's parcel and a finance user
    settings.MEDIA_ROOT = tmp_path
    shipment = ShipmentFactory(order__seller=seller, carrier="other", carrier_name="Colis Privé",
                               next_sync_at=None)  # fmt: skip
    ordered_at = datetime.fromisoformat(DELIVERED) - timedelta(days=2)
    Order.objects.filter(pk=shipment.order_id).update(created_at=ordered_at)
    finance = UserFactory()
    finance.user_permissions.add(Permission.objects.get(codename="review_pod"))
    # when the seller uploads a proof
    response = upload(seller_api, shipment)
    # then it waits for finance and the parcel is not delivered yet
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "pending"
    assert response.json()["pod"]["review"] == "pending"
    pod = ProofOfDelivery.objects.get(shipment=shipment)
    assert pod.uploaded_file.read() == PDF
    # and when finance approves it
    pod_review(pod=pod, approve=True, actor=finance)
    # then the parcel is delivered at the proven time, through the usual status rule
    shipment.refresh_from_db()
    assert shipment.status == "delivered"
    assert shipment.delivered_at == datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
    assert shipment.events.get().source == "manual"


@pytest.mark.parametrize(
    ("content", "name", "delivered_at", "field"),
    [
        (b"MZ\x90\x00 not a pdf", "receipt.pdf", DELIVERED, "file"),
        (PDF, "receipt.pdf", "2999-01-01T10:00:00+01:00", "delivered_at"),
        (PDF, "receipt.pdf", "yesterday", "delivered_at"),
    ],
)
def test_pod_upload_refuses_bad_input(seller, seller_api, settings, tmp_path, content, name,
                                      delivered_at, field):  # fmt: skip
    settings.MEDIA_ROOT = tmp_path
    shipment = ShipmentFactory(order__seller=seller, carrier="other", carrier_name="X")
    response = upload(seller_api, shipment, content, name, delivered_at)
    assert response.status_code == 400
    assert field in response.json().get("errors", response.json())
    assert not ProofOfDelivery.objects.exists()


def test_pod_upload_on_another_sellers_parcel_is_not_found(other_seller, seller_api):
    shipment = ShipmentFactory(order__seller=other_seller, carrier="other", carrier_name="X")
    assert upload(seller_api, shipment).status_code == 404


def test_pod_review_needs_the_permission_and_a_reason_to_reject(seller, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    shipment = ShipmentFactory(order__seller=seller, carrier="other", carrier_name="X")
    pod = ProofOfDelivery.objects.create(
        shipment=shipment, delivered_at=datetime(2026, 11, 20, tzinfo=UTC),
        source="seller_upload", review="pending",
    )  # fmt: skip
    pod.versions.create(number=1, uploaded_file="pod/receipt.pdf", delivered_at=pod.delivered_at)
    finance = UserFactory()
    finance.user_permissions.add(Permission.objects.get(codename="review_pod"))
    with pytest.raises(PermissionDenied):
        pod_review(pod=pod, approve=True, actor=UserFactory())
    with pytest.raises(ApplicationError):
        pod_review(pod=pod, approve=False, actor=finance, note=" ")
    pod_review(pod=pod, approve=False, actor=finance, note="Unreadable photo")
    pod.refresh_from_db()
    shipment.refresh_from_db()
    assert (pod.review, pod.review_note, pod.reviewed_by) == ("rejected", "Unreadable photo",
                                                              finance)  # fmt: skip
    assert shipment.status == "pending"
