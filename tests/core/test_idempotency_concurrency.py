"""Two identical creating POSTs with one Idempotency-Key at the same instant, against a real
threaded server on the real database: one object is created, and the other request gets the
same answer or a 409 ``idempotency_key_in_progress`` (core/api/idempotency.py)."""

import threading

import pytest
import requests

from core.services import api_token_create
from sellers import services as seller_services
from sellers.models import Order
from tests.sellers.factories import SellerFactory
from tests.support.concurrency import ContendedSection
from tests.tracking.factories import ShipmentFactory
from tracking.models import ShipmentNote
from tracking.services import cs as cs_services


def _post_twice_at_once(url: str, key: str, body: dict, token: str) -> list[requests.Response]:
    barrier = threading.Barrier(2)
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def send() -> None:
        barrier.wait(timeout=10)
        answer = requests.post(url, json=body, timeout=30, headers={
            "Authorization": f"Token {token}", "Idempotency-Key": key})  # fmt: skip
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def _hold(monkeypatch, module, name: str) -> ContendedSection:
    """Keep the first request inside the create until the second one comes in (or 3 s
    pass): without the key's lock both requests would be inside at once."""
    section = ContendedSection(hold_seconds=3.0)
    real = getattr(module, name)

    def held(*args, **kwargs):
        section.enter()
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, held)
    return section


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("endpoint", ["orders", "notes"])
def test_idempotent_post_concurrent_duplicates_create_one_object(live_server, monkeypatch,
                                                                 endpoint):  # fmt: skip
    # given a caller and a create that holds the first request inside it
    if endpoint == "orders":
        seller = SellerFactory()
        _token, key = api_token_create(name="shop", seller=seller)
        url, body = (
            f"{live_server.url}/api/v1/orders/",
            {"reference": "CMD-RACE", "total_amount": 4500},
        )
        section = _hold(monkeypatch, seller_services, "order_create")
        created = Order.objects.filter(reference="CMD-RACE")
    else:
        shipment = ShipmentFactory()
        _token, key = api_token_create(name="crm", seller=None)
        url = f"{live_server.url}/api/v1/cs/shipments/{shipment.id}/notes/"
        body = {"body": "Ticket 881", "author": "Léa"}
        section = _hold(monkeypatch, cs_services, "shipment_note_add")
        created = ShipmentNote.objects.all()

    # when the client's two identical requests arrive together
    answers = _post_twice_at_once(url, "race-1", body, key)

    # then one object exists, one request got into the create, and the other one was told to
    # wait (409) or, had it come after the first had finished (the first is held 3 s, so only
    # on a machine stalled that long), got the first answer again
    assert len(answers) == 2
    assert created.count() == 1
    assert section.entries == 1
    first, other = sorted(answers, key=lambda a: a.status_code)
    assert first.status_code == 201, first.content
    if other.status_code == 409:
        assert other.json()["code"] == "idempotency_key_in_progress"
    else:
        assert (other.status_code, other.json()) == (201, first.json())
    # and once the first has finished, the retry gets its very answer
    retry = requests.post(url, json=body, timeout=30, headers={
        "Authorization": f"Token {key}", "Idempotency-Key": "race-1"})  # fmt: skip
    assert (retry.status_code, retry.json()) == (201, first.json())
    assert created.count() == 1
