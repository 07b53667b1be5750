import base64
import copy
import hashlib
import hmac
import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import responses
from django.core.management import call_command
from responses import matchers

from tests.support.shared_data import external_payload, published_reading
from tracking.carriers import get_adapter
from tracking.carriers.aftership import STATUS_MAP, AfterShipAdapter
from tracking.carriers.base import (
    CarrierEvent,
    CarrierPayloadError,
    Location,
    PodData,
    PushRejected,
    TrackingError,
)
from tracking.status import Status, Substatus, pod_standing, result_state

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "carriers" / "aftership"
BASE_URL = "https://api.aftership.test"
LIST_URL = f"{BASE_URL}/tracking/2025-04/trackings"
SECRET = "whsec-test-secret"
CEST = timezone(timedelta(hours=2))
PARIS = ZoneInfo("Europe/Paris")
BERLIN = ZoneInfo("Europe/Berlin")
WEBHOOK_TS = 1716029229  # the sample's ts: 2024-05-18T10:47:09Z
WEBHOOK_NOW = datetime.fromtimestamp(WEBHOOK_TS, UTC)


def _sample(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _json(name: str) -> dict:
    return copy.deepcopy(json.loads(_sample(name)))


def _adapter(**options) -> AfterShipAdapter:
    options.setdefault("webhook_secret", SECRET)
    return AfterShipAdapter(base_url=BASE_URL, api_key="as-test-key", **options)


def _sign(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {"aftership-hmac-sha256": base64.b64encode(digest).decode()}


def _tracking(*checkpoints: dict, **fields) -> dict:
    tracking = {
        "tracking_number": "6A11111111111",
        "slug": "la-poste-colissimo",
        "destination_country_region": "FRA",
        "checkpoints": list(checkpoints),
    }
    tracking.update(fields)
    return tracking


def _checkpoint(subtag: str, checkpoint_time: str = "2024-05-18T12:41:00+02:00", **fields) -> dict:
    checkpoint = {
        "checkpoint_time": checkpoint_time,
        "city": "Nantes",
        "zip": "44000",
        "country_region": "FRA",
        "message": "Votre colis est livré",
        "tag": subtag.split("_")[0],
        "subtag": subtag,
        "subtag_message": "",
    }
    checkpoint.update(fields)
    return checkpoint


def _list_body(*trackings: dict) -> bytes:
    return json.dumps(
        {"meta": {"code": 200, "message": "OK", "type": "OK"}, "data": {"trackings": trackings}}
    ).encode()


def _parse_one(tracking: dict):
    result = _adapter().parse(_list_body(tracking))
    assert result.errors == []
    [shipment] = result.shipments
    return shipment


# --- parse: the samples ---------------------------------------------------------------------


def test_aftership_parse_delivered_sample_gives_the_full_normalised_shipment():
    # given a list answer with one Colissimo parcel delivered and signed
    body = _sample("tracking_delivered.json")

    # when
    result = _adapter().parse(body)

    # then every checkpoint, oldest first, in the courier's own words and AfterShip's subtags
    assert result.errors == []
    [shipment] = result.shipments
    assert shipment.tracking_number == "6A23456789012"
    assert shipment.events == (
        CarrierEvent(
            datetime(2024, 5, 16, 16, 1, tzinfo=CEST),
            "info_received",
            None,
            "InfoReceived_001",
            "Votre colis est en cours de préparation chez l'expéditeur",
            Location(city="", postcode="", country="FR"),
        ),
        CarrierEvent(
            datetime(2024, 5, 16, 18, 40, tzinfo=CEST),
            "in_transit",
            None,
            "InTransit_002",
            "Votre colis a été déposé après l'heure limite de dépôt",
            Location(city="Lyon", postcode="69007", country="FR"),
        ),
        CarrierEvent(
            # "2024-05-17T02:55:00" without offset: Paris time, as the checkpoint is in France
            datetime(2024, 5, 17, 2, 55, tzinfo=PARIS),
            "in_transit",
            None,
            "InTransit_007",
            "Votre colis est en transit sur nos plateformes logistiques",
            Location(city="Saint-Priest", postcode="69800", country="FR"),
        ),
        CarrierEvent(
            datetime(2024, 5, 18, 6, 58, tzinfo=CEST),
            "in_transit",
            None,
            "InTransit_003",
            "Votre colis est arrivé sur son site de distribution",
            # no city: the courier's raw location stands in for it
            Location(city="NANTES PPDC", postcode="44000", country="FR"),
        ),
        CarrierEvent(
            datetime(2024, 5, 18, 8, 25, tzinfo=CEST),
            "out_for_delivery",
            None,
            "OutForDelivery_001",
            "Votre colis est en cours de livraison",
            Location(city="Nantes", postcode="44000", country="FR"),
        ),
        CarrierEvent(
            datetime(2024, 5, 18, 12, 41, tzinfo=CEST),
            "delivered",
            "delivered.signed",
            "Delivered_003",
            "Votre colis est livré",
            Location(city="Nantes", postcode="44000", country="FR"),
        ),
    )
    assert shipment.events[2].occurred_at.isoformat() == "2024-05-17T02:55:00+02:00"
    # the latest estimate (carrier EDD, a bare day) wins over AfterShip's AI window
    assert shipment.estimated_delivery == date(2024, 5, 18)
    assert shipment.estimated_delivery_end is None
    assert shipment.pod == PodData(
        delivered_at=datetime(2024, 5, 18, 12, 41, tzinfo=CEST),
        signed_by="M. MARTIN",
        location_type="front_door",  # delivery_location_type "Front door"
        documents=(),
    )
    assert (result_state(shipment).status, result_state(shipment).substatus) == (
        "delivered",
        "delivered.signed",
    )


def test_aftership_parse_exception_sample_gives_the_return_with_german_local_times():
    # given a DPD parcel from Germany: failed attempt, then returning to sender
    body = _sample("tracking_exception.json")

    # when
    result = _adapter().parse(body)

    # then
    assert result.errors == []
    [shipment] = result.shipments
    assert shipment.tracking_number == "05212345678901"
    assert [(e.occurred_at, e.status, e.substatus, e.code) for e in shipment.events] == [
        # naive German scans are read in Berlin time (CEST in May)
        (datetime(2024, 5, 6, 10, 2, tzinfo=BERLIN), "info_received", None, "InfoReceived_001"),
        (datetime(2024, 5, 6, 17, 12, tzinfo=BERLIN), "in_transit", None, "InTransit_002"),
        (datetime(2024, 5, 8, 8, 47, tzinfo=CEST), "in_transit", None, "InTransit_003"),
        (
            datetime(2024, 5, 10, 11, 2, tzinfo=CEST),
            "failed_attempt",
            "failed_attempt.recipient_absent",
            "AttemptFail_002",
        ),
        (
            datetime(2024, 5, 14, 10, 55, tzinfo=CEST),
            "exception",
            "exception.returning_to_sender",
            "Exception_010",
        ),
    ]
    assert shipment.events[0].occurred_at.utcoffset() == timedelta(hours=2)
    assert [e.location for e in shipment.events] == [
        Location(city="", postcode="", country="DE"),
        Location(city="Aschaffenburg", postcode="63741", country="DE"),
        Location(city="Lille Lezennes Depot", postcode="59260", country="FR"),
        Location(city="Lille", postcode="59000", country="FR"),
        Location(city="Lezennes", postcode="59260", country="FR"),
    ]
    assert shipment.events[3].message == (
        "Unfortunately we have not been able to deliver your parcel. The recipient was not at home."
    )
    # the courier's window of bare dates: first day, and the end of the last day at destination
    assert shipment.estimated_delivery == date(2024, 5, 10)
    assert shipment.estimated_delivery_end == datetime(2024, 5, 13, 23, 59, 59, tzinfo=PARIS)
    assert shipment.pod is None
    assert result_state(shipment).substatus == "exception.returning_to_sender"


def test_aftership_parse_not_found_sample_gives_an_error_naming_no_number():
    # given AfterShip's 4004 envelope
    # when
    result = _adapter().parse(_sample("tracking_not_found_error.json"))

    # then
    assert result.shipments == []
    assert result.errors == [TrackingError("", "not_found", "Tracking does not exist.")]


def test_aftership_parse_push_webhook_sample_gives_the_mailbox_delivery():
    # given the tracking_update webhook of a parcel left in the mailbox
    body = _sample("webhook_tracking_update.json")

    # when
    result = _adapter().parse_push(body)

    # then msg is read exactly like an API tracking
    assert result.errors == []
    [shipment] = result.shipments
    assert shipment.tracking_number == "6A98765432109"
    assert len(shipment.events) == 6
    assert shipment.events[-1] == CarrierEvent(
        datetime(2024, 5, 18, 12, 41, tzinfo=CEST),
        "delivered",
        "delivered.mailbox",  # Delivered_001 + delivery_location_type "Mailbox"
        "Delivered_001",
        "Votre colis a été déposé dans votre boîte aux lettres",
        Location(city="Nantes", postcode="44000", country="FR"),
    )
    assert shipment.pod == PodData(
        delivered_at=datetime(2024, 5, 18, 12, 41, tzinfo=CEST),
        signed_by="",
        location_type="mailbox",
    )
    assert shipment.estimated_delivery == date(2024, 5, 18)


def test_aftership_push_event_id_is_the_webhook_event_id():
    # given the sample webhook
    body = _sample("webhook_tracking_update.json")

    # when / then
    assert _adapter().push_event_id(headers={}, body=body) == (
        "7f3c2a9e-5b1d-4e8f-9a6c-2d4b8e1f0a37"
    )


@pytest.mark.parametrize("body", [b'{"msg": {}, "ts": 1}', b"not json", b'{"event_id": ""}'])
def test_aftership_push_event_id_without_event_id_is_the_body_hash(body):
    assert _adapter().push_event_id(headers={}, body=body) == hashlib.sha256(body).hexdigest()


def test_aftership_courier_slugs_of_names_the_underlying_courier():
    # given an API answer, a webhook, and an error envelope
    adapter = _adapter()

    # when / then: the ingest can record which courier AfterShip followed
    assert adapter.courier_slugs_of(_sample("tracking_exception.json")) == {
        "05212345678901": "dpd-de"
    }
    assert adapter.courier_slugs_of(_sample("webhook_tracking_update.json")) == {
        "6A98765432109": "la-poste-colissimo"
    }
    assert adapter.courier_slugs_of(_sample("tracking_not_found_error.json")) == {}


# --- the tag / subtag table -----------------------------------------------------------------

# AfterShip's documented subtags (delivery-sub-statuses, 2025-04 and 2026-07; SDK enums for
# Pending_002..006; support article for Exception_016..018).
DOCUMENTED_SUBTAGS = (
    ["Pending_001", "Pending_002", "Pending_003", "Pending_004", "Pending_005", "Pending_006"]
    + ["InfoReceived_001"]
    + [f"InTransit_00{i}" for i in range(1, 10)]
    + ["OutForDelivery_001", "OutForDelivery_002", "OutForDelivery_003", "OutForDelivery_004"]
    + ["AttemptFail_001", "AttemptFail_002", "AttemptFail_003"]
    + ["AvailableForPickup_001"]
    + [f"Delivered_00{i}" for i in range(1, 6)]
    + [f"Exception_{i:03d}" for i in (*range(1, 14), 16, 17, 18)]
    + ["Expired_001"]
)
TAG_STATUS = {
    "Pending": "pending",
    "InfoReceived": "info_received",
    "InTransit": "in_transit",
    "OutForDelivery": "out_for_delivery",
    "AttemptFail": "failed_attempt",
    "AvailableForPickup": "available_for_pickup",
    "Delivered": "delivered",
    "Exception": "exception",
    "Expired": "expired",
}


def test_aftership_status_map_covers_every_documented_tag_and_subtag():
    # given AfterShip's full lists / when / then
    assert set(DOCUMENTED_SUBTAGS) | set(TAG_STATUS) == set(STATUS_MAP)
    for tag, status in TAG_STATUS.items():
        assert STATUS_MAP[tag][0] == status
    for subtag in DOCUMENTED_SUBTAGS:
        tag = subtag.split("_")[0]
        expected = "available_for_pickup" if subtag == "OutForDelivery_002" else TAG_STATUS[tag]
        assert STATUS_MAP[subtag][0] == expected, subtag


@pytest.mark.parametrize(
    ("subtag", "substatus"),
    [
        ("Delivered_002", Substatus.DELIVERED_PICKUP_POINT),
        ("Delivered_003", Substatus.DELIVERED_SIGNED),
        ("Delivered_005", Substatus.DELIVERED_NEIGHBOUR),
        ("AttemptFail_002", Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT),
        ("AttemptFail_003", Substatus.FAILED_ATTEMPT_ACCESS_ISSUE),
        ("Exception_002", Substatus.EXCEPTION_ADDRESS_ISSUE),
        ("Exception_003", Substatus.EXCEPTION_REFUSED),
        ("Exception_004", Substatus.EXCEPTION_CUSTOMS),
        ("Exception_005", Substatus.EXCEPTION_DELAYED),
        ("Exception_007", Substatus.EXCEPTION_ADDRESS_ISSUE),
        ("Exception_010", Substatus.EXCEPTION_RETURNING_TO_SENDER),
        ("Exception_011", Substatus.EXCEPTION_RETURNED_TO_SENDER),
        ("Exception_012", Substatus.EXCEPTION_DAMAGED),
        ("Exception_013", Substatus.EXCEPTION_LOST),
        ("Exception_017", Substatus.EXCEPTION_DELAYED),
        ("Exception_018", Substatus.EXCEPTION_CUSTOMS),
    ],
)
def test_aftership_parse_subtag_gives_its_substatus(subtag, substatus):
    shipment = _parse_one(_tracking(_checkpoint(subtag)))
    assert shipment.events[0].substatus == substatus


@pytest.mark.parametrize(
    ("subtag", "tag", "status", "substatus"),
    [
        ("Exception_014", "Exception", Status.EXCEPTION, Substatus.EXCEPTION_OTHER),
        ("InTransit_010", "InTransit", Status.IN_TRANSIT, None),
        ("", "OutForDelivery", Status.OUT_FOR_DELIVERY, None),
        ("Mystery_001", "Mystery", Status.IN_TRANSIT, None),  # the base default
    ],
)
def test_aftership_parse_unlisted_subtag_falls_back_to_its_tag(subtag, tag, status, substatus):
    # given a checkpoint whose subtag the table does not list
    checkpoint = _checkpoint("Delivered_001")
    checkpoint.update(subtag=subtag, tag=tag)

    # when
    shipment = _parse_one(_tracking(checkpoint))

    # then its tag decides
    [event] = shipment.events
    assert (event.status, event.substatus, event.code) == (status, substatus, subtag or tag)


@pytest.mark.parametrize(
    ("location_type", "signed_by", "substatus", "pod_location"),
    [
        ("Locker", None, Substatus.DELIVERED_LOCKER, "locker"),
        ("Mail box", None, Substatus.DELIVERED_MAILBOX, "mailbox"),
        ("Left with neighbour", None, Substatus.DELIVERED_NEIGHBOUR, "neighbour"),
        ("Front porch", None, Substatus.DELIVERED_FRONT_DOOR, "front_door"),
        ("Reception", "J. DOE", Substatus.DELIVERED_SIGNED, "reception"),
        (None, "J. DOE", Substatus.DELIVERED_SIGNED, ""),
        (None, None, None, ""),
    ],
)
def test_aftership_parse_plain_delivery_takes_its_substatus_from_the_pod_fields(
    location_type, signed_by, substatus, pod_location
):
    # given Delivered_001 (no detail) with the tracking-level POD fields
    tracking = _tracking(
        _checkpoint("Delivered_001"), delivery_location_type=location_type, signed_by=signed_by
    )

    # when
    shipment = _parse_one(tracking)

    # then
    assert shipment.events[0].substatus == substatus
    assert shipment.pod == PodData(
        delivered_at=datetime(2024, 5, 18, 12, 41, tzinfo=CEST),
        signed_by=signed_by or "",
        location_type=pod_location,
    )


def test_aftership_parse_pod_only_for_a_delivery_that_stands():
    # given a signatory on a parcel that was returned after the delivery scan
    tracking = _tracking(
        _checkpoint("Delivered_003"),
        _checkpoint("Exception_011", "2024-05-20T09:00:00+02:00"),
        signed_by="M. MARTIN",
    )

    # when / then
    # the courier's proof is reported, the tracking record does not keep it
    parsed = _parse_one(tracking)
    assert pod_standing(parsed.pod, result_state(parsed)) is None


def test_aftership_parse_unknown_country_reads_naive_times_in_utc():
    tracking = _tracking(_checkpoint("InTransit_001", "2024-05-18T08:00:00", country_region="ATA"))
    [event] = _parse_one(tracking).events
    assert event.occurred_at == datetime(2024, 5, 18, 8, 0, tzinfo=UTC)
    assert event.location.country == ""


def test_aftership_parse_legacy_country_iso3_field_is_read():
    checkpoint = _checkpoint("InTransit_001", "2024-05-18T08:00:00", country_region=None)
    checkpoint["country_iso3"] = "ESP"
    [event] = _parse_one(_tracking(checkpoint)).events
    assert event.location.country == "ES"
    assert event.occurred_at.tzinfo == ZoneInfo("Europe/Madrid")


def test_aftership_parse_latest_estimate_window_of_datetimes():
    tracking = _tracking(
        _checkpoint("InTransit_001"),
        latest_estimated_delivery={
            "type": "range",
            "datetime_min": "2024-05-21T09:00:00+02:00",
            "datetime_max": "2024-05-21T13:00:00+02:00",
        },
    )
    shipment = _parse_one(tracking)
    assert shipment.estimated_delivery == datetime(2024, 5, 21, 9, tzinfo=CEST)
    assert shipment.estimated_delivery_end == datetime(2024, 5, 21, 13, tzinfo=CEST)


def test_aftership_parse_several_trackings_and_the_single_tracking_shape():
    # given a list of two, and the single-tracking endpoints' data.tracking
    listed = _adapter().parse(
        _list_body(_tracking(tracking_number="A1"), _tracking(tracking_number="A2"))
    )
    single = _adapter().parse(
        json.dumps({"meta": {"code": 200}, "data": {"tracking": _tracking()}}).encode()
    )

    # then
    assert [s.tracking_number for s in listed.shipments] == ["A1", "A2"]
    assert [s.tracking_number for s in single.shipments] == ["6A11111111111"]
    assert single.shipments[0].events == ()


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (4005, "The value of tracking_number is invalid.", "invalid_number"),
        (
            4012,
            "Unable to import shipment as we don't recognize the carrier",
            "not_found",
        ),  # no courier has it: unknown
        (401, "Invalid API key.", "auth_failed"),
        (429, "You have exceeded the API call rate limit.", "rate_limited"),
        (4008, "The value of `tracking_numbers` is invalid.", "courier_error"),
    ],
)
def test_aftership_parse_error_envelope_gives_a_per_number_error(code, message, expected):
    body = json.dumps({"meta": {"code": code, "message": message, "type": "X"}, "data": {}})
    assert _adapter().parse(body.encode()).errors == [TrackingError("", expected, message)]


def _delivered_mutated(mutate) -> bytes:
    payload = _json("tracking_delivered.json")
    mutate(payload)
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"<html>502 Bad Gateway</html>", id="html"),
        pytest.param(_sample("tracking_delivered.json")[:700], id="truncated"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'{"data": {"trackings": []}}', id="no-meta"),
        pytest.param(b'{"meta": {"code": "200"}, "data": {}}', id="code-string"),
        pytest.param(b'{"meta": {"code": 200}, "data": []}', id="data-list"),
        pytest.param(b'{"meta": {"code": 200}, "data": {}}', id="no-trackings"),
        pytest.param(b'{"meta": {"code": 200}, "data": {"trackings": {}}}', id="trackings-dict"),
        pytest.param(
            _delivered_mutated(lambda p: p["data"]["trackings"].append("x")), id="tracking-str"
        ),
        pytest.param(
            _delivered_mutated(lambda p: p["data"]["trackings"][0].pop("tracking_number")),
            id="no-number",
        ),
        pytest.param(
            _delivered_mutated(lambda p: p["data"]["trackings"][0].update(checkpoints={})),
            id="checkpoints-dict",
        ),
        pytest.param(
            _delivered_mutated(lambda p: p["data"]["trackings"][0]["checkpoints"].append(7)),
            id="checkpoint-int",
        ),
        pytest.param(
            _delivered_mutated(
                lambda p: p["data"]["trackings"][0]["checkpoints"][0].update(checkpoint_time="")
            ),
            id="no-time",
        ),
        pytest.param(
            _delivered_mutated(
                lambda p: p["data"]["trackings"][0]["checkpoints"][0].update(
                    checkpoint_time="yesterday"
                )
            ),
            id="bad-time",
        ),
        pytest.param(
            _delivered_mutated(
                lambda p: p["data"]["trackings"][0].update(latest_estimated_delivery="soon")
            ),
            id="edd-string",
        ),
        pytest.param(
            _delivered_mutated(
                lambda p: p["data"]["trackings"][0]["latest_estimated_delivery"].update(
                    datetime="2024-13-45"
                )
            ),
            id="edd-bad-date",
        ),
    ],
)
def test_aftership_parse_malformed_body_raises_payload_error(body):
    # given a body that is not AfterShip's envelope / when / then
    with pytest.raises(CarrierPayloadError):
        _adapter().parse(body)


# --- fetch and track ------------------------------------------------------------------------


@responses.activate
def test_aftership_fetch_sends_the_numbers_with_the_api_key_and_reports_the_missing(carrier_client):
    # given AfterShip tracks one of the two numbers asked
    call = responses.get(
        LIST_URL,
        match=[
            matchers.header_matcher({"as-api-key": "as-test-key", "Accept": "application/json"}),
            matchers.query_param_matcher(
                {"tracking_numbers": "6A23456789012,6A00000000000"}, strict_match=False
            ),
        ],
        body=_sample("tracking_delivered.json"),
    )
    # and AfterShip finds no courier for the other one when asked to register it
    register = responses.post(
        LIST_URL,
        match=[matchers.json_params_matcher({"tracking_number": "6A00000000000"})],
        json={"meta": {"code": 4012, "message": "Cannot detect courier.", "type": "BadRequest"}},
        status=400,
    )

    # when
    before = datetime.now(UTC)
    result, answers = _adapter().track(["6A23456789012", "6A00000000000"], client=carrier_client)

    # then one GET, reaching back over AfterShip's 120-day retention rather than its 30-day default
    assert (call.call_count, register.call_count) == (1, 1)
    query = parse_qs(urlsplit(answers[0].url).query)
    created_at_min = datetime.fromisoformat(query["created_at_min"][0])
    assert timedelta(days=119) < before - created_at_min < timedelta(days=121)
    assert [s.tracking_number for s in result.shipments] == ["6A23456789012"]
    assert result.errors == [TrackingError("6A00000000000", "not_found", "Cannot detect courier.")]


@responses.activate
def test_aftership_fetch_batches_fifty_numbers_per_request(carrier_client):
    # given 51 numbers, none tracked, none AfterShip can register
    responses.get(LIST_URL, body=_list_body())
    responses.post(
        LIST_URL,
        json={"meta": {"code": 4012, "message": "Cannot detect courier.", "type": "BadRequest"}},
        status=400,
    )
    numbers = [f"AS{i:010d}" for i in range(51)]

    # when
    result, answers = _adapter().track(numbers, client=carrier_client)

    # then
    assert len(answers) == 2
    asked = [parse_qs(urlsplit(a.url).query)["tracking_numbers"][0] for a in answers]
    assert asked == [",".join(numbers[:50]), numbers[50]]
    assert [e.tracking_number for e in result.errors] == numbers
    assert {e.code for e in result.errors} == {"not_found"}


@responses.activate
def test_aftership_fetch_error_envelope_reports_the_batch_as_not_returned(carrier_client):
    # given AfterShip answers a 400 envelope for the whole request
    responses.get(
        LIST_URL,
        json={"meta": {"code": 4008, "message": "The value of `x` is invalid.", "type": "X"}},
        status=400,
    )

    # when
    result, _answers = _adapter().track(["AS0000000001"], client=carrier_client)

    # then the envelope's error, and the number flagged for an agent
    assert result.errors == [
        TrackingError("", "courier_error", "The value of `x` is invalid."),
        TrackingError("AS0000000001", "not_returned", "The courier's answer did not mention it"),
    ]


# --- push: signature, replay window, body -----------------------------------------------------


def test_aftership_verify_push_accepts_a_good_signature():
    body = _sample("webhook_tracking_update.json")
    _adapter().verify_push(headers=_sign(body), body=body, now=WEBHOOK_NOW)


def test_aftership_verify_push_rejects_a_wrong_signature():
    body = _sample("webhook_tracking_update.json")
    with pytest.raises(PushRejected):
        _adapter().verify_push(headers=_sign(body, "other-secret"), body=body, now=WEBHOOK_NOW)


@pytest.mark.parametrize("headers", [{}, {"aftership-hmac-sha256": ""}, {"x-other": "abc"}])
def test_aftership_verify_push_rejects_a_missing_signature(headers):
    body = _sample("webhook_tracking_update.json")
    with pytest.raises(PushRejected):
        _adapter().verify_push(headers=headers, body=body, now=WEBHOOK_NOW)


def test_aftership_verify_push_rejects_a_tampered_body():
    # given a signature for the original body, sent with a changed one
    body = _sample("webhook_tracking_update.json")
    tampered = body.replace(b"Delivered_001", b"Delivered_003")
    with pytest.raises(PushRejected):
        _adapter().verify_push(headers=_sign(body), body=tampered, now=WEBHOOK_NOW)


def test_aftership_verify_push_rejects_non_ascii_garbage_in_the_header():
    body = _sample("webhook_tracking_update.json")
    with pytest.raises(PushRejected):
        _adapter().verify_push(
            headers={"aftership-hmac-sha256": "é" * 44}, body=body, now=WEBHOOK_NOW
        )


def test_aftership_verify_push_without_a_configured_secret_rejects_everything():
    body = _sample("webhook_tracking_update.json")
    with pytest.raises(PushRejected):
        _adapter(webhook_secret="").verify_push(headers=_sign(body, ""), body=body, now=WEBHOOK_NOW)


@pytest.mark.parametrize(
    ("seconds", "accepted"),
    [(0, True), (300, True), (-300, True), (301, False), (3600, False), (-301, False)],
)
def test_aftership_verify_push_checks_ts_against_the_tolerance(seconds, accepted):
    # given the sample signed correctly, received ``seconds`` after its ts (negative: before)
    body = _sample("webhook_tracking_update.json")
    now = WEBHOOK_NOW + timedelta(seconds=seconds)

    # when / then: within settings.CARRIER_PUSH_TOLERANCE_SECONDS (300) either way
    if accepted:
        _adapter().verify_push(headers=_sign(body), body=body, now=now)
    else:
        with pytest.raises(PushRejected, match="stale"):
            _adapter().verify_push(headers=_sign(body), body=body, now=now)


def test_aftership_verify_push_reads_the_tolerance_from_settings(settings):
    # given operators narrowed the window to 60 seconds (the registry passes it to the adapter)
    settings.CARRIER_PUSH_TOLERANCE_SECONDS = 60
    aftership = {**settings.CARRIERS["aftership"], "webhook_secret": SECRET}
    settings.CARRIERS = {**settings.CARRIERS, "aftership": aftership}
    adapter = get_adapter("aftership")
    body = _sample("webhook_tracking_update.json")

    # when / then
    adapter.verify_push(headers=_sign(body), body=body, now=WEBHOOK_NOW + timedelta(seconds=60))
    with pytest.raises(PushRejected):
        adapter.verify_push(headers=_sign(body), body=body, now=WEBHOOK_NOW + timedelta(seconds=61))


@pytest.mark.parametrize("ts", [None, "1716029229", True, [1716029229]])
def test_aftership_verify_push_rejects_a_signed_body_without_a_numeric_ts(ts):
    payload = _json("webhook_tracking_update.json")
    payload["ts"] = ts
    body = json.dumps(payload).encode()
    with pytest.raises(PushRejected):
        _adapter().verify_push(headers=_sign(body), body=body, now=WEBHOOK_NOW)


def test_aftership_verify_push_checks_the_signature_before_reading_the_body():
    # given garbage without a valid signature: rejected, never parsed
    with pytest.raises(PushRejected):
        _adapter().verify_push(headers=_sign(b"other"), body=b"not json", now=WEBHOOK_NOW)


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"'])
def test_aftership_signed_body_that_is_not_a_json_object_is_a_payload_error(body):
    # given AfterShip signed a body that is not its JSON object
    adapter = _adapter()

    # when / then: authentic but malformed, in verify_push as in parse_push
    with pytest.raises(CarrierPayloadError):
        adapter.verify_push(headers=_sign(body), body=body, now=WEBHOOK_NOW)
    with pytest.raises(CarrierPayloadError):
        adapter.parse_push(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"event": "tracking_update", "ts": 1}',
        b'{"event": "tracking_update", "msg": "delivered", "ts": 1}',
        b'{"event": "tracking_update", "msg": {"checkpoints": []}, "ts": 1}',
        b'{"event": "tracking_update", "msg": {"tracking_number": "A", "checkpoints": 3}}',
    ],
)
def test_aftership_parse_push_malformed_msg_raises_payload_error(body):
    with pytest.raises(CarrierPayloadError):
        _adapter().parse_push(body)


def test_aftership_parse_push_reads_other_events_carrying_a_tracking():
    # given an edd_revise webhook: its msg is a tracking object too
    payload = _json("webhook_tracking_update.json")
    payload["event"] = "edd_revise"
    result = _adapter().parse_push(json.dumps(payload).encode())
    assert [s.tracking_number for s in result.shipments] == ["6A98765432109"]


# --- identity -------------------------------------------------------------------------------


def test_aftership_claims_no_number_format():
    # an aggregator follows every format: detection must never route a parcel to it by number
    adapter = _adapter()
    assert adapter.number_patterns == ()
    assert not adapter.matches("6A23456789012")
    assert adapter.supports_push is True


def test_aftership_tracking_url_points_to_the_public_page():
    assert _adapter().tracking_url("6A23456789012") == (
        "https://track.aftership.com/trackings?tracking-numbers=6A23456789012"
    )


# --- Answers other projects published (../shared), read as a person reading them would -------
# Through the operators' command, which shows what ingest would conclude (status derived from
# the events, the POD as it stands): per parcel (number, status, substatus, events, last event
# code, signatory; None without a POD), and per error (number, kind).


@pytest.mark.parametrize(
    ("name", "shipments", "errors"),
    [
        pytest.param(
            "aftership/java-sdk-1.json",
            [("111111111111", "delivered", "delivered.signed", 14, "Delivered_001", "..KOSUTOKO")],
            [],
            id="java-sdk-1.json",
        ),  # signed by a (masked) name
        pytest.param(
            "aftership/java-sdk-2.json",
            [
                ("1111111111111", "delivered", None, 11, "Delivered_001", ""),
                ("2222222222222", "expired", None, 1, "Expired_001", None),
                ("1231231231231", "expired", None, 1, "Expired_001", None),
            ],
            [],
            id="java-sdk-2.json",
        ),  # 'Signature not required' is nobody; expired without checkpoints
        pytest.param(
            "aftership/java-sdk-3.json",
            [],
            [("", "auth_failed")],
            id="java-sdk-3.json",
        ),  # 401 Invalid API Key
        pytest.param(
            "aftership/nodejs-sdk-1.json",
            [("9434936105536968782556", "info_received", None, 1, "InfoReceived_001", None)],
            [],
            id="nodejs-sdk-1.json",
        ),  # label created
        pytest.param(
            "aftership/nodejs-sdk-2.json",
            [("1234567890", "delivered", None, 2, "Delivered_001", "")],
            [],
            id="nodejs-sdk-2.json",
        ),  # tag Delivered, checkpoints cut short
        pytest.param(
            "aftership/nodejs-sdk-3.json",
            [],
            [("", "not_found")],
            id="nodejs-sdk-3.json",
        ),  # 4004 Tracking does not exist
    ],
)
def test_aftership_published_answer_reads_as_a_person_would(capsys, name, shipments, errors):
    # given an answer published by AfterShip's SDKs, saved as a file
    path = external_payload(name)

    # when the operators' command parses it
    call_command("tracking", "parse", "--carrier", "aftership", str(path))

    # then every parcel has the status a reader concludes, and every error its kind
    assert published_reading(json.loads(capsys.readouterr().out)) == (shipments, errors)
