"""Safe retries: every creating POST honours ``Idempotency-Key`` (core/api/idempotency.py).

Each case below is one creating POST: how to send it, with which body, and what it creates.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import IdempotencyKey
from core.services import idempotency_keys_purge
from sellers.models import Order
from tests.sellers.factories import OrderFactory
from tests.tracking.factories import ShipmentFactory
from tracking.models import PodUploadVersion, Shipment, ShipmentNote

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
DELIVERED = "2026-11-20T15:30:00+01:00"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
UPS_OK = "1Z999AA10123456784"  # valid UPS numbers (check digit included)
UPS_OTHER = "1Z999AA10123456793"


@dataclass
class Case:
    """One creating POST: ``send(api, body)`` posts it, ``count()`` counts what it creates,
    ``bodies`` are two different requests."""

    url: str
    bodies: tuple[dict, dict]
    count: object
    multipart: bool = False

    def send(self, api, body: dict, key: str | None = "key-1"):
        headers = {} if key is None else {"Idempotency-Key": key}
        if self.multipart:  # a fresh file each send: its bytes are in the hash, not the object
            body = {**body, "file": SimpleUploadedFile("receipt.pdf", body["file"])}
            return api.post(self.url, body, format="multipart", headers=headers)
        return api.post(self.url, body, format="json", headers=headers)


def _orders(seller):
    return Case("/api/v1/orders/",
                ({"reference": "CMD-1", "total_amount": 4500}, {"reference": "CMD-2",
                                                                "total_amount": 4500}),
                lambda: Order.objects.count())  # fmt: skip


def _shipments(seller):
    order = OrderFactory(seller=seller)
    return Case("/api/v1/shipments/",
                ({"order": order.id, "carrier": "dhl", "tracking_number": "1234567890"},
                 {"order": order.id, "carrier": "dhl", "tracking_number": "1234567891"}),
                lambda: Shipment.objects.count())  # fmt: skip


def _pod(seller):
    shipment = ShipmentFactory(order__seller=seller, carrier="other", carrier_name="Colis Privé",
                               next_sync_at=None)  # fmt: skip
    Order.objects.filter(pk=shipment.order_id).update(
        created_at=datetime.fromisoformat(DELIVERED) - timedelta(days=2)
    )
    body = {"file": PDF, "delivered_at": DELIVERED, "signed_by": "C. Martin"}
    # same fields, other file bytes: the hash covers the file, not only the fields; each upload
    # is a new version of the proof
    other = {**body, "file": PDF.replace(b"1.7", b"1.6")}
    return Case(f"/api/v1/shipments/{shipment.id}/pod/", (body, other),
                lambda: PodUploadVersion.objects.count(), multipart=True)  # fmt: skip


def _confirm(seller):
    OrderFactory(seller=seller, reference="API-1")
    OrderFactory(seller=seller, reference="API-2")
    return Case("/api/v1/sellers/shipments/",
                ({"order_reference": "API-1", "carrier": "ups", "tracking_number": UPS_OK},
                 {"order_reference": "API-2", "carrier": "ups", "tracking_number": UPS_OTHER}),
                lambda: Shipment.objects.count())  # fmt: skip


def _notes(seller):
    shipment = ShipmentFactory(order__seller=seller)
    return Case(f"/api/v1/cs/shipments/{shipment.id}/notes/",
                ({"body": "Ticket 881", "author": "Léa"}, {"body": "Ticket 882", "author": "Léa"}),
                lambda: ShipmentNote.objects.count())  # fmt: skip


CASES = {"orders": _orders, "shipments": _shipments, "pod": _pod, "confirm": _confirm,
         "notes": _notes}  # fmt: skip
# The CRM API is the marketplace's (CS); the others are the seller's own system.
MARKETPLACE_ONLY = {"notes"}


@pytest.fixture(params=sorted(CASES))
def case(request, seller, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(NOW, tick=False):
        built = CASES[request.param](seller)
    built.name = request.param
    return built


@pytest.fixture
def api(case, seller_api, marketplace_api):
    return marketplace_api if case.name in MARKETPLACE_ONLY else seller_api


@pytest.fixture
def other_api(case, seller, _token_client):
    return _token_client(None if case.name in MARKETPLACE_ONLY else seller)


@pytest.fixture
def _token_client():
    from rest_framework.test import APIClient

    from core.services import api_token_create

    def make(seller):
        _token, key = api_token_create(name="other", seller=seller)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


@time_machine.travel(NOW, tick=False)
def test_idempotent_post_same_key_and_body_answers_the_first_response_and_creates_once(case, api):
    # given a creating POST sent with a key
    first = case.send(api, case.bodies[0])
    assert first.status_code == 201, first.content
    # when the client retries it, same key, same body
    retried = case.send(api, case.bodies[0])
    # then it gets the first answer again, and nothing more was created
    assert (retried.status_code, retried.json()) == (first.status_code, first.json())
    assert retried["Idempotent-Replayed"] == "true"
    assert case.count() == 1


@time_machine.travel(NOW, tick=False)
def test_idempotent_post_same_key_other_body_is_422_and_creates_nothing(case, api):
    # given a key already used
    case.send(api, case.bodies[0])
    # when another request comes with it
    response = case.send(api, case.bodies[1])
    # then it is refused with a clear error and nothing more exists
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "idempotency_key_reused"
    assert "different request" in body["message"]
    assert case.count() == 1


@time_machine.travel(NOW, tick=False)
def test_idempotent_post_other_caller_same_key_is_independent(case, api, other_api):
    # given one caller's key
    first = case.send(api, case.bodies[0])
    # when another caller (another token) uses the same key for its own request
    theirs = case.send(other_api, case.bodies[1])
    # then that request runs on its own
    assert (first.status_code, theirs.status_code) == (201, 201), theirs.content
    assert case.count() == 2
    assert IdempotencyKey.objects.filter(key="key-1").count() == 2


def test_idempotent_post_expired_key_creates_again(case, api, settings):
    # given a key used once, kept 24 hours
    settings.API_IDEMPOTENCY_KEY_TTL_HOURS = 24
    with time_machine.travel(NOW, tick=False):
        first = case.send(api, case.bodies[0])
    assert first.status_code == 201
    # when the same key comes back a day and a minute later with another request
    with time_machine.travel(NOW + timedelta(hours=24, minutes=1), tick=False):
        again = case.send(api, case.bodies[1])
    # then it is a new key: the request runs and creates
    assert again.status_code == 201, again.content
    assert "Idempotent-Replayed" not in again
    assert case.count() == 2


@time_machine.travel(NOW, tick=False)
def test_idempotent_post_without_a_key_is_not_remembered(case, api):
    response = case.send(api, case.bodies[0], key=None)
    assert response.status_code == 201
    assert not IdempotencyKey.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_idempotent_post_failed_request_keeps_nothing_and_the_key_can_be_reused(case, api):
    # given a request refused for its body (an empty one)
    refused = case.send(api, {} if not case.multipart else {**case.bodies[0], "file": b""})
    assert refused.status_code == 400
    # when the client corrects it and sends it again with the same key
    corrected = case.send(api, case.bodies[0])
    # then the corrected request runs: a failure is not a stored answer
    assert corrected.status_code == 201, corrected.content
    assert case.count() == 1


@pytest.mark.parametrize(("key", "status"), [("k" * 255, 201), ("k" * 256, 400), ('""', 400)])
@time_machine.travel(NOW, tick=False)
def test_idempotent_post_key_length_is_bounded(case, api, key, status):
    response = case.send(api, case.bodies[0], key=key)
    assert response.status_code == status, response.content
    if status == 400:
        assert response.json()["code"] == "idempotency_key_invalid"
        assert case.count() == 0


def test_orders_create_retried_without_duplicate_reference_error(seller_api):
    # given an order created, whose answer the client lost
    body = {"reference": "CMD-LOST", "total_amount": 4500}
    first = seller_api.post("/api/v1/orders/", body, format="json",
                            headers={"Idempotency-Key": '"9f1c2d"'})  # fmt: skip
    # when it retries with the same key (the draft's quoted form or a bare one: the same key)
    retried = seller_api.post("/api/v1/orders/", body, format="json",
                              headers={"Idempotency-Key": "9f1c2d"})  # fmt: skip
    # then it gets the order, not a duplicate-reference error
    assert retried.status_code == 201
    assert retried.json()["id"] == first.json()["id"]


def test_idempotency_keys_purge_deletes_only_expired_keys(seller_api, settings):
    settings.API_IDEMPOTENCY_KEY_TTL_HOURS = 24
    with time_machine.travel(NOW, tick=False):
        seller_api.post("/api/v1/orders/", {"reference": "OLD", "total_amount": 1},
                        format="json", headers={"Idempotency-Key": "old"})  # fmt: skip
    with time_machine.travel(NOW + timedelta(hours=20), tick=False):
        seller_api.post("/api/v1/orders/", {"reference": "NEW", "total_amount": 1},
                        format="json", headers={"Idempotency-Key": "new"})  # fmt: skip
    deleted = idempotency_keys_purge(now=NOW + timedelta(hours=25))
    assert deleted == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_idempotency_schema_documents_the_header_and_the_conflicts(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    creating = {
        ("/api/v1/orders/", "post"), ("/api/v1/shipments/", "post"),
        ("/api/v1/shipments/{shipment_id}/pod/", "post"), ("/api/v1/sellers/shipments/", "post"),
        ("/api/v1/cs/shipments/{shipment_id}/notes/", "post"),
    }  # fmt: skip
    for path, method in creating:
        operation = schema["paths"][path][method]
        headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert "Idempotency-Key" in headers, path
        assert {"201", "409", "422"} <= set(operation["responses"]), path
    resync = schema["paths"]["/api/v1/shipments/{shipment_id}/resync/"]["post"]
    assert "Idempotency-Key" not in [p["name"] for p in resync.get("parameters", [])]


@time_machine.travel(NOW, tick=False)
def test_idempotent_post_takes_over_a_key_left_in_progress_by_a_dead_request(seller_api, seller):
    # given a key whose request died after claiming it (its create rolled back, nobody holds
    # the row): in progress, no answer
    token = seller.api_tokens.get()
    IdempotencyKey.objects.create(caller=f"token:{token.pk}", key="k", method="POST",
                                  path="/api/v1/orders/", request_hash="0" * 64,
                                  created_at=NOW, expires_at=NOW + timedelta(hours=24))  # fmt: skip
    # when the client retries with that key
    body = {"reference": "CMD-RETRY", "total_amount": 100}
    first = seller_api.post(
        "/api/v1/orders/", body, format="json", headers={"Idempotency-Key": "k"}
    )
    again = seller_api.post(
        "/api/v1/orders/", body, format="json", headers={"Idempotency-Key": "k"}
    )
    # then the retry runs (no 409 or 422 for ever), and is kept for the next one
    assert first.status_code == 201, first.content
    assert (again.status_code, again.json()) == (201, first.json())
    assert Order.objects.filter(reference="CMD-RETRY").count() == 1
