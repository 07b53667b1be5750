"""The CRM API: the console's data for marketplace tokens; seller tokens are refused."""

from datetime import timedelta

import pytest

from tests.sellers.factories import OrderFactory
from tests.tracking.factories import ShipmentExceptionFactory, ShipmentFactory, TrackingEventFactory
from tracking.models import ShipmentNote

pytestmark = pytest.mark.django_db


@pytest.fixture
def parcel():
    order = OrderFactory(buyer_email="camille@example.fr", buyer_name="Camille Martin",
                         buyer_phone="06 12 34 56 78")  # fmt: skip
    shipment = ShipmentFactory(order=order, tracking_number="6A00000000101")
    TrackingEventFactory(shipment=shipment, message="Pris en charge")
    return shipment


def test_cs_search_api_finds_the_parcels_of_a_buyer_email(marketplace_api, parcel):
    ShipmentFactory()  # someone else's
    response = marketplace_api.get("/api/v1/cs/search", {"q": "CAMILLE@example.fr"})
    assert response.status_code == 200
    [result] = response.json()
    assert result["id"] == parcel.id
    assert result["exact_match"] is True
    assert result["buyer"] == {"name": "Camille Martin", "email": "camille@example.fr",
                               "phone": "06 12 34 56 78", "postcode": "69003",
                               "country": "FR"}  # fmt: skip
    assert result["open_exceptions"] == []


def test_cs_search_api_filters_by_exception_kind(marketplace_api, parcel):
    exception = ShipmentExceptionFactory(shipment=parcel, kind="customs")
    ShipmentFactory(order=OrderFactory(buyer_name="Camille Dupont"))
    response = marketplace_api.get("/api/v1/cs/search", {"q": "camille", "exception": "customs"})
    [result] = response.json()
    assert result["open_exceptions"] == [
        {
            "id": exception.id,
            "kind": "customs",
            "opened_at": result["open_exceptions"][0]["opened_at"],
        }
    ]


def test_cs_search_api_refuses_a_seller_token(seller_api, parcel):
    assert seller_api.get("/api/v1/cs/search", {"q": "camille"}).status_code == 403


def test_cs_shipment_api_gives_events_notes_exceptions_and_estimates(marketplace_api, parcel):
    ShipmentExceptionFactory(shipment=parcel, kind="address_issue")
    ShipmentNote.objects.create(shipment=parcel, body="Buyer called", author_label="lea")
    first = parcel.events.get().occurred_at - timedelta(days=1)
    TrackingEventFactory(shipment=parcel, occurred_at=first, message="Annoncé")  # stored last
    response = marketplace_api.get(f"/api/v1/cs/shipments/{parcel.id}/")
    assert response.status_code == 200
    body = response.json()
    assert body["shipment"]["tracking_number"] == "6A00000000101"
    assert [e["message"] for e in body["shipment"]["events"]] == ["Annoncé", "Pris en charge"]
    assert body["shipment"]["buyer"]["email"] == "camille@example.fr"
    assert [e["kind"] for e in body["exceptions"]] == ["address_issue"]
    assert [(n["author"], n["body"]) for n in body["notes"]] == [("lea", "Buyer called")]
    assert body["estimates"] == []


def test_cs_shipment_api_of_an_unknown_id_is_404(marketplace_api):
    assert marketplace_api.get("/api/v1/cs/shipments/999999/").status_code == 404


def test_cs_notes_api_adds_a_note_from_the_crm(marketplace_api, parcel):
    response = marketplace_api.post(
        f"/api/v1/cs/shipments/{parcel.id}/notes/", {"body": "Ticket 881", "author": "Léa"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    assert response.json()["author"] == "Léa"
    listed = marketplace_api.get(f"/api/v1/cs/shipments/{parcel.id}/notes/").json()
    assert [n["body"] for n in listed] == ["Ticket 881"]


def test_cs_notes_api_refuses_an_empty_note_and_stores_nothing(marketplace_api, parcel):
    response = marketplace_api.post(
        f"/api/v1/cs/shipments/{parcel.id}/notes/", {"body": "   "}, format="json"
    )
    assert response.status_code == 400
    assert not ShipmentNote.objects.exists()


def test_cs_exceptions_api_lists_open_exceptions_oldest_first(marketplace_api):
    newer = ShipmentExceptionFactory(kind="stuck")
    older = ShipmentExceptionFactory(kind="stuck", opened_at=newer.opened_at.replace(year=2025))
    ShipmentExceptionFactory(kind="customs")
    response = marketplace_api.get("/api/v1/cs/exceptions/", {"kind": "stuck"})
    assert [e["id"] for e in response.json()["results"]] == [older.id, newer.id]
