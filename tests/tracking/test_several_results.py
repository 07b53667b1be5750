"""One number, several results (issue #16 item 3): the sync keeps our parcel, never a stale
one, and writes its choice on the courier's answer kept for CS and operators."""

import json
from datetime import UTC, datetime

import pytest
import responses
import time_machine

from tests.support.http import carrier_http_client
from tests.tracking.factories import ShipmentFactory
from tracking.models import RawPayload
from tracking.services import carrier_batch_sync

pytestmark = pytest.mark.django_db

BASE_URL = "https://apis.fedex.test"
NUMBER = "794612345678"


def _track_result(*, shipped: str, scan: str, event_type: str, derived: str) -> dict:
    return {
        "trackingNumberInfo": {"trackingNumber": NUMBER},
        "dateAndTimes": [{"type": "SHIP", "dateTime": shipped}],
        "scanEvents": [
            {
                "date": scan,
                "eventType": event_type,
                "derivedStatusCode": derived,
                "eventDescription": "Delivered" if event_type == "DL" else "In transit",
                "scanLocation": {"city": "PARIS", "postalCode": "75015", "countryCode": "FR"},
            }
        ],
    }


@pytest.fixture
def fedex(settings):
    settings.CARRIERS = {
        **settings.CARRIERS,
        "fedex": {
            **settings.CARRIERS["fedex"],
            "base_url": BASE_URL,
            "client_id": "id",
            "client_secret": "secret",
        },
    }
    with responses.RequestsMock() as mocked:
        mocked.post(
            f"{BASE_URL}/oauth/token",
            json={"access_token": "t", "token_type": "bearer", "expires_in": 3600},
        )
        yield mocked


def test_carrier_batch_sync_keeps_our_parcel_of_two_fedex_shipments_and_notes_why(fedex):
    # given our parcel, ordered and registered on 14 August 2024, under a number FedEx used
    # in 2019 for a parcel it delivered; FedEx lists the stale shipment first
    with time_machine.travel(datetime(2024, 8, 14, 9, 0, tzinfo=UTC), tick=False):
        shipment = ShipmentFactory(carrier="fedex", tracking_number=NUMBER)
    stale = _track_result(
        shipped="2019-03-01T10:00:00+01:00",
        scan="2019-03-04T11:00:00+01:00",
        event_type="DL",
        derived="DL",
    )
    ours = _track_result(
        shipped="2024-08-15T10:00:00+02:00",
        scan="2024-08-16T08:00:00+02:00",
        event_type="AR",
        derived="IT",
    )
    body = {
        "output": {
            "completeTrackResults": [{"trackingNumber": NUMBER, "trackResults": [stale, ours]}]
        }
    }
    fedex.post(f"{BASE_URL}/track/v1/trackingnumbers", json=body)

    # when
    with time_machine.travel(datetime(2024, 8, 16, 12, 0, tzinfo=UTC), tick=False):
        outcome = carrier_batch_sync(
            carrier="fedex", shipment_ids=[shipment.id], client=carrier_http_client()
        )

    # then our parcel is in transit (not delivered by the 2019 parcel), and the answer says why
    shipment.refresh_from_db()
    assert (outcome.synced, outcome.fault) == (1, "")
    assert shipment.status == "in_transit"
    assert list(shipment.events.values_list("carrier_code", flat=True)) == ["AR"]
    payload = RawPayload.objects.get()
    assert payload.note == (
        f"{NUMBER}: FedEx answered 2 shipments (shipped 2019-03-01, 2024-08-15); kept the one "
        "shipped 2024-08-15, the first shipped since our parcel's 2024-08-14"
    )
    assert json.loads(payload.body_text) == body
