"""The operators' admin pages render and the finance review action works."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission

from tests.sellers.factories import UserFactory
from tests.tracking.factories import ShipmentFactory, TrackingEventFactory
from tracking.models import CarrierSyncState, ProofOfDelivery
from tracking.services.payloads import raw_payload_build

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "rows"),
    [
        ("/admin/tracking/shipment/", 1),
        ("/admin/tracking/trackingevent/", 0),
        ("/admin/tracking/proofofdelivery/", 0),
        ("/admin/tracking/rawpayload/", 0),
        ("/admin/tracking/carriersyncstate/", 1),
        ("/admin/sellers/order/", 1),
        ("/admin/sellers/seller/", 1),
        ("/admin/core/apitoken/", 0),
    ],
)
def test_admin_lists_render(admin_client, url, rows):
    # given one parcel (with its order and seller) and one courier's sync state
    ShipmentFactory()
    CarrierSyncState.objects.create(carrier="laposte", consecutive_failures=2)
    # when
    response = admin_client.get(url)
    # then the list renders and shows what exists, no more, no less
    assert response.status_code == 200
    assert response.context["cl"].result_count == rows
    assert len(response.context["cl"].result_list) == rows


def test_admin_shipment_page_shows_events_and_raw_payload_body(admin_client):
    payload = raw_payload_build(carrier="laposte", kind="poll", body=b'{"idShip": "6A1"}')
    payload.save()
    event = TrackingEventFactory(raw_payload=payload)
    shipment_page = admin_client.get(f"/admin/tracking/shipment/{event.shipment_id}/change/")
    payload_page = admin_client.get(f"/admin/tracking/rawpayload/{payload.id}/change/")
    assert event.message.encode() in shipment_page.content
    assert b"idShip" in payload_page.content


def test_admin_approve_action_delivers_uploaded_proofs(client):
    # given a finance user (staff with the review permission) and a pending upload
    finance = UserFactory(is_staff=True)
    finance.user_permissions.add(
        *Permission.objects.filter(codename__in=["review_pod", "view_proofofdelivery",
                                                 "change_proofofdelivery"])
    )  # fmt: skip
    client.force_login(finance)
    shipment = ShipmentFactory(carrier="other", carrier_name="Colis Privé", next_sync_at=None)
    pod = ProofOfDelivery.objects.create(
        shipment=shipment, delivered_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
        source="seller_upload", review="pending",
    )  # fmt: skip
    pod.versions.create(number=1, uploaded_file="pod/receipt.pdf", delivered_at=pod.delivered_at)
    # when
    response = client.post(
        "/admin/tracking/proofofdelivery/",
        {"action": "approve_uploads", "_selected_action": [pod.id]},
    )
    # then
    assert response.status_code == 302
    shipment.refresh_from_db()
    pod.refresh_from_db()
    assert (pod.review, pod.reviewed_by) == ("approved", finance)
    assert shipment.status == "delivered"


def test_admin_shipment_and_order_pages_link_to_their_delivery_logs(admin_client):
    shipment = ShipmentFactory()
    shipment_page = admin_client.get(f"/admin/tracking/shipment/{shipment.id}/change/")
    order_page = admin_client.get(f"/admin/sellers/order/{shipment.order_id}/change/")
    assert b"What was sent about this parcel" in shipment_page.content
    assert b"What was sent about this order" in order_page.content
    # and the links lead to the logs
    for page, text in ((shipment_page, b"this parcel"), (order_page, b"this order")):
        html = page.content.decode()
        link = html[: html.index(text.decode())].rsplit('href="', 1)[1].split('"', 1)[0]
        assert admin_client.get(link).status_code == 200
