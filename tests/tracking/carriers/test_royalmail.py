import copy
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import responses
from responses import matchers

from tests.support.shared_data import read_carrier_sample, read_external_payload
from tracking.carriers.base import (
    CarrierEvent,
    CarrierPayloadError,
    CarrierRequestRejected,
    Location,
    PodData,
    TrackingError,
    TrackingResult,
)
from tracking.carriers.royalmail import STATUS_MAP, RoyalMailAdapter

BASE_URL = "https://api.royalmail.test"
BST = timezone(timedelta(hours=1))
GMT = UTC
STAFFORD = Location(city="Stafford", country="GB")


def _sample(name: str) -> bytes:
    return read_carrier_sample(name)


def _events_sample() -> dict:
    return copy.deepcopy(json.loads(_sample("royalmail_tracking_v2_events_in_transit.json")))


def _adapter() -> RoyalMailAdapter:
    return RoyalMailAdapter(base_url=BASE_URL + "/", client_id="rm-id", client_secret="rm-secret")


def _with_events(*events: tuple[str, str, str], **piece_fields) -> bytes:
    """The events sample with other events (code, name, time), given newest first."""
    payload = _events_sample()
    piece = payload["mailPieces"]
    piece["events"] = [
        {"eventCode": c, "eventName": n, "eventDateTime": t, "locationName": "Stafford DO"}
        for c, n, t in events
    ]
    piece.update(piece_fields)
    return json.dumps(payload).encode()


def _parse_one(body: bytes) -> TrackingResult:
    result = _adapter().parse(body)
    assert result.errors == []
    [shipment] = result.shipments
    return shipment


# --- parse: the samples ---------------------------------------------------------------------


def test_royalmail_parse_events_sample_gives_the_full_normalised_item():
    # given Royal Mail's published events example (in transit, yet with a signature block)
    body = _sample("royalmail_tracking_v2_events_in_transit.json")

    # when
    shipment = _parse_one(body)

    # then the barcode names it, the window joins the date, and no POD before a delivery
    assert shipment == TrackingResult(
        tracking_number="FQ087430672GB",
        events=(
            CarrierEvent(
                occurred_at=datetime(2016, 10, 20, 10, 4, tzinfo=BST),
                status="in_transit",
                substatus=None,
                code="EVNMI",
                message="Forwarded - Mis-sort",
                location=STAFFORD,  # "Stafford DO": the delivery office suffix dropped
            ),
        ),
        estimated_delivery=datetime(2017, 2, 20, 8, 0, tzinfo=BST),
        estimated_delivery_end=datetime(2017, 2, 20, 11, 0, tzinfo=BST),
        pod=None,
    )
    assert shipment.events[0].occurred_at.isoformat() == "2016-10-20T10:04:00+01:00"


def test_royalmail_parse_events_sample_once_delivered_gives_the_signed_pod():
    # given the same example whose last scan is "Delivered and Signed"
    body = _with_events(
        ("EVKSP", "Delivered and Signed", "2016-10-20T12:30:00+01:00"),
        ("EVNMI", "Forwarded - Mis-sort", "2016-10-20T10:04:00+01:00"),
    )

    # when
    shipment = _parse_one(body)

    # then the POD has the signatory, the signature time and the signature named by kind
    assert [(e.code, e.status, e.substatus) for e in shipment.events] == [
        ("EVNMI", "in_transit", None),
        ("EVKSP", "delivered", "delivered.signed"),
    ]
    assert shipment.pod == PodData(
        delivered_at=datetime(2016, 10, 20, 10, 4, tzinfo=BST),
        signed_by="Simon",
        location_type="",
        documents=("signature",),
    )


def test_royalmail_parse_signature_sample_gives_a_pod_without_the_image():
    # given the /signature answer (inline SVG image)
    body = _sample("royalmail_tracking_v2_signature.json")

    # when
    shipment = _parse_one(body)

    # then
    assert shipment == TrackingResult(
        tracking_number="FQ087430672GB",
        events=(),
        pod=PodData(
            delivered_at=datetime(2017, 3, 30, 16, 15, tzinfo=BST),
            signed_by="Elliot",
            documents=("signature",),
        ),
    )
    assert "<svg" not in json.dumps(shipment.pod.as_dict())


def test_royalmail_parse_summary_with_error_sample_gives_a_per_number_error():
    # given the summary answer with a per-item E1142 error
    body = _sample("royalmail_tracking_v2_summary_with_error.json")

    # when
    result = _adapter().parse(body)

    # then
    assert result.shipments == []
    assert result.errors == [
        TrackingError(
            "FQ087430672GB", "not_found", "Barcode reference mailPieceId isn not recognised"
        )
    ]


def test_royalmail_parse_summary_item_without_error_gives_its_last_event():
    # given the same summary without the error
    payload = json.loads(_sample("royalmail_tracking_v2_summary_with_error.json"))
    payload["mailPieces"][0].pop("error")

    # when
    shipment = _parse_one(json.dumps(payload).encode())

    # then
    assert shipment.events == (
        CarrierEvent(
            datetime(2016, 10, 20, 10, 4, tzinfo=BST),
            "in_transit",
            None,
            "EVNMI",
            "Forwarded - Mis-sort",
            STAFFORD,
        ),
    )


# --- the code table -------------------------------------------------------------------------


def test_royalmail_status_map_covers_the_code_list():
    # given our partial Royal Mail code list
    codes = json.loads(_sample("royalmail_tracking_v2_event_codes.json"))["event_codes"]

    # when / then
    assert set(codes) == set(STATUS_MAP)


@pytest.mark.parametrize(
    ("code", "name", "status", "substatus"),
    [
        ("EVKSP", "Delivered and Signed", "delivered", "delivered.signed"),
        ("EVKSF", "Delivered to Safeplace by", "delivered", "delivered.front_door"),
        ("EVKOP", "Delivered by", "delivered", None),
        ("EVKOP", "Delivered by letterbox", "delivered", "delivered.mailbox"),
        ("EVKOP", "Delivered to neighbour", "delivered", "delivered.neighbour"),
        ("EVKOP", "Collected from Customer Service Point", "delivered", "delivered.pickup_point"),
        ("EVGPD", "Due to be delivered today", "out_for_delivery", None),
        ("EVNSR", "Item Prepared for Redelivery", "in_transit", None),
        ("EVNDA", "Available for Redelivery or Collection", "available_for_pickup", None),
        (
            "EVKNA",
            "Delivery Attempted - No Answer",
            "failed_attempt",
            "failed_attempt.recipient_absent",
        ),
        ("EVKNR", "Delivery Attempted", "failed_attempt", None),
        ("EVODO", "Item Despatched to DO / MC", "in_transit", None),
        ("EVORI", "Arrived at", "in_transit", None),
        ("EVOAC", "Item received at", "in_transit", None),
        ("EVAIE", "Sender preparing/despatching item", "info_received", None),
        ("EVAIP", "Sender preparing/despatching item", "info_received", None),
        ("EVPPA", "Accepted at Parcelshop", "in_transit", None),
        ("EVDAV", "Item Received", "in_transit", None),
        ("EVIMC", "Item Received", "in_transit", None),
        ("EVDAC", "Item Received", "in_transit", None),
        ("EVNRT", "Item Retention", "in_transit", None),
        ("EVOCO", "We've received your item", "in_transit", None),
        ("RSRXS", "Delivery request received", "in_transit", None),
        ("EVNMI", "Forwarded - Mis-sort", "in_transit", None),
        # Codes outside our list: read from the name.
        ("EVXRT", "Item being returned to sender", "exception", "exception.returning_to_sender"),
        ("EVXRS", "Item returned to sender", "exception", "exception.returned_to_sender"),
        ("EVXAD", "Unable to deliver - incorrect address", "exception", "exception.address_issue"),
        ("EVXLS", "Item lost - investigation opened", "exception", "exception.lost"),
        ("EVXCU", "Held by customs", "exception", "exception.customs"),
        ("EVXDM", "Item damaged", "exception", "exception.damaged"),
        ("EVXRF", "Delivery refused", "exception", "exception.refused"),
        ("EVXAT", "Delivery attempted", "failed_attempt", None),
        ("EVXAV", "Available for collection", "available_for_pickup", None),
        ("EVXOD", "Due to be delivered today", "out_for_delivery", None),
        ("EVXDL", "Delivered to Safeplace", "delivered", "delivered.front_door"),
        ("EVXYZ", "Sorted", "in_transit", None),
    ],
)
def test_royalmail_parse_event_codes_map_to_our_statuses(code, name, status, substatus):
    # given one event
    body = _with_events((code, name, "2023-07-04T10:00:00+01:00"))

    # when
    [event] = _parse_one(body).events

    # then
    assert (event.status, event.substatus, event.code, event.message) == (
        status,
        substatus,
        code,
        name,
    )


def test_royalmail_parse_safeplace_delivery_gives_pod_location_and_international_items_no_country():
    # given an international item left in a safe place
    payload = _events_sample()
    piece = payload["mailPieces"]
    piece["summary"]["destinationCountryCode"] = "FRA"
    piece.pop("signature")
    piece.pop("estimatedDelivery")
    piece["events"] = [
        {
            "eventCode": "EVKSF",
            "eventName": "Delivered to Safeplace by",
            "eventDateTime": "2024-01-10T11:00:00Z",
            "locationName": "Heathrow Worldwide DC",
        }
    ]

    # when
    shipment = _parse_one(json.dumps(payload).encode())

    # then
    assert shipment.events[0].location == Location(city="Heathrow Worldwide")
    assert shipment.estimated_delivery is None
    assert shipment.pod == PodData(
        delivered_at=datetime(2024, 1, 10, 11, 0, tzinfo=GMT), location_type="front_door"
    )


def test_royalmail_parse_estimate_without_window_is_a_date_and_naive_times_are_uk_time():
    # given an estimate with only a date and a scan without offset
    body = _with_events(
        ("EVORI", "Arrived at", "2024-01-10T11:00:00"),
        estimatedDelivery={"date": "2024-01-11"},
    )

    # when
    shipment = _parse_one(body)

    # then
    assert shipment.estimated_delivery == date(2024, 1, 11)
    assert shipment.estimated_delivery_end is None
    assert shipment.events[0].occurred_at.isoformat() == "2024-01-10T11:00:00+00:00"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {
                "httpCode": "404",
                "httpMessage": "Not Found",
                "moreInformation": "Not Found",
                "errors": [{"errorCode": "E1142", "errorDescription": "Barcode not recognised"}],
            },
            TrackingError("", "not_found", "Barcode not recognised"),
        ),
        (
            {"httpCode": "400", "httpMessage": "Bad Request", "moreInformation": "invalid id"},
            TrackingError("", "invalid_number", "invalid id"),
        ),
        (
            {
                "httpCode": 401,
                "httpMessage": "Unauthorized",
                "moreInformation": "Client id not registered.",
            },  # noqa: E501
            TrackingError("", "auth_failed", "Client id not registered."),
        ),
        (
            {"httpCode": "429", "httpMessage": "Too Many Requests"},
            TrackingError("", "rate_limited", "Too Many Requests"),
        ),
        ({"httpCode": "503"}, TrackingError("", "unavailable", "HTTP 503")),
    ],
)
def test_royalmail_parse_error_bodies_become_errors(body, expected):
    # given a Royal Mail error body parsed offline
    # when
    result = _adapter().parse(json.dumps(body).encode())

    # then
    assert result.shipments == []
    assert result.errors == [expected]


def _mutated(mutate) -> bytes:
    payload = _events_sample()
    mutate(payload["mailPieces"])
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"<html>Service Unavailable</html>", id="html"),
        pytest.param(b"\xff\xfe\x00", id="not-utf8"),
        pytest.param(_sample("royalmail_tracking_v2_events_in_transit.json")[:400], id="truncated"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'{"foo": 1}', id="unknown-object"),
        pytest.param(b'{"mailPieces": "x"}', id="pieces-str"),
        pytest.param(b'{"mailPieces": [1]}', id="summary-item-number"),
        pytest.param(b'{"mailPieces": {"mailPieceId": "X"}}', id="nothing-in-piece"),
        pytest.param(
            _mutated(lambda p: (p.pop("mailPieceId"), p["summary"].pop("oneDBarcode"))),
            id="no-number",
        ),
        pytest.param(_mutated(lambda p: p.update(events={})), id="events-object"),
        pytest.param(_mutated(lambda p: p["events"].append("x")), id="event-str"),
        pytest.param(_mutated(lambda p: p["events"][0].pop("eventCode")), id="no-code"),
        pytest.param(
            _mutated(lambda p: p["events"][0].update(eventDateTime="20/10/2016")), id="bad-time"
        ),
        pytest.param(
            _mutated(lambda p: p["estimatedDelivery"].update(startOfEstimatedWindow="8am")),
            id="bad-window",
        ),
        pytest.param(
            _mutated(
                lambda p: (
                    p["events"][0].update(eventCode="EVKSP"),
                    p["signature"].update(signatureDateTime="today"),
                )
            ),
            id="delivered-bad-signature-time",
        ),
    ],
)
def test_royalmail_parse_malformed_body_raises_payload_error(body):
    # given a body that is none of Royal Mail's shapes
    # when / then
    with pytest.raises(CarrierPayloadError):
        _adapter().parse(body)


# --- fetch and track ------------------------------------------------------------------------


HEADERS = {
    "X-IBM-Client-Id": "rm-id",
    "X-IBM-Client-Secret": "rm-secret",
    "X-Accept-RMG-Terms": "yes",
    "Accept": "application/json",
}


@responses.activate
def test_royalmail_track_sends_one_request_per_number_and_names_item_errors(carrier_client):
    # given a known barcode and an unknown one (Royal Mail's 404 body names no item)
    found = responses.get(
        f"{BASE_URL}/mailpieces/v2/FQ087430672GB/events",
        match=[matchers.header_matcher(HEADERS)],
        body=_sample("royalmail_tracking_v2_events_in_transit.json"),
    )
    unknown = responses.get(
        f"{BASE_URL}/mailpieces/v2/RB123456785GB/events",
        match=[matchers.header_matcher(HEADERS)],
        json={
            "httpCode": "404",
            "httpMessage": "Not Found",
            "errors": [{"errorCode": "E1142", "errorDescription": "Barcode not recognised"}],
        },
        status=404,
    )

    # when
    result, answers = _adapter().track(["FQ087430672GB", "RB123456785GB"], client=carrier_client)

    # then
    assert found.call_count == 1 and unknown.call_count == 1
    assert [a.status_code for a in answers] == [200, 404]
    assert [s.tracking_number for s in result.shipments] == ["FQ087430672GB"]
    assert result.errors == [TrackingError("RB123456785GB", "not_found", "Barcode not recognised")]


@responses.activate
def test_royalmail_track_reports_a_number_the_answer_does_not_name(carrier_client):
    # given an answer naming another barcode
    responses.get(
        f"{BASE_URL}/mailpieces/v2/RB123456785GB/events",
        body=_sample("royalmail_tracking_v2_events_in_transit.json"),
    )

    # when
    result, _answers = _adapter().track(["RB123456785GB"], client=carrier_client)

    # then
    assert [s.tracking_number for s in result.shipments] == ["FQ087430672GB"]
    assert [(e.tracking_number, e.code) for e in result.errors] == [
        ("RB123456785GB", "not_returned")
    ]


# --- identity -------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["FQ087430672GB", "RB123456785GB", "090367574000000FE1E1B"])
def test_royalmail_matches_its_number_formats(number):
    # given / when / then
    assert _adapter().matches(number)


@pytest.mark.parametrize("number", ["EW112720413FR", "3SDEVC987021270", "123456789012345678901"])
def test_royalmail_does_not_match_other_formats(number):
    # given / when / then
    assert not _adapter().matches(number)


def test_royalmail_identity():
    # given / when / then
    adapter = _adapter()
    assert (adapter.slug, adapter.name, adapter.batch_size) == ("royalmail", "Royal Mail", 1)
    assert adapter.tracking_url("FQ087430672GB") == (
        "https://www.royalmail.com/track-your-item#/tracking-results/FQ087430672GB"
    )


# --- answers other projects recorded (../shared/external-payloads/royalmail) -----------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # 404 with E1142: the barcode is not known to Royal Mail
        pytest.param(
            "elliotjreed-1.json", TrackingError("", "not_found", "Error description"), id="404"
        ),
        # 401 without errors[]: the client id/secret were refused
        pytest.param(
            "elliotjreed-2.json", TrackingError("", "auth_failed", "More information"), id="401"
        ),
        # 503: Royal Mail is down, not the number unknown
        pytest.param(
            "elliotjreed-3.json", TrackingError("", "unavailable", "Error description"), id="503"
        ),
        # 400 E0004 "Failed header validation for X-Accept-RMG-Terms": our request lacks a header
        pytest.param(
            "karrio-1.json",
            TrackingError("", "bad_request", "Failed header validation for X-Accept-RMG-Terms"),
            id="400-missing-header",
        ),
    ],
)
def test_royalmail_external_error_answers_name_the_error(name, expected):
    # given an error body Royal Mail sent, as another project recorded it
    # when
    result = _adapter().parse(read_external_payload(f"royalmail/{name}"))

    # then it is that kind of error, about no parcel in particular
    assert result.shipments == []
    assert result.errors == [expected]


@responses.activate
def test_royalmail_missing_header_backs_the_courier_off_instead_of_invalidating_parcels(
    carrier_client,
):
    # given Royal Mail refusing every request for a missing X-Accept-RMG-Terms header (400)
    responses.get(
        f"{BASE_URL}/mailpieces/v2/FQ087430672GB/events",
        body=read_external_payload("royalmail/karrio-1.json"),
        status=400,
    )

    # when / then the courier is backed off (our configuration), no parcel is marked invalid
    with pytest.raises(CarrierRequestRejected):
        _adapter().track(["FQ087430672GB"], client=carrier_client)


def test_royalmail_every_code_of_the_list_maps_as_its_name_reads():
    # given the code list with Royal Mail's event names
    names = json.loads(_sample("royalmail_tracking_v2_event_codes.json"))["event_codes"]

    # then each code's mapping is what its name says (EVNRT "Item Retention": held at the
    # office at the sender's or buyer's request, still in Royal Mail's hands; EVNMI a mis-sort
    # being forwarded)
    expected = {
        "EVKSP": ("delivered", "delivered.signed"),  # Delivered and Signed
        "EVKSF": ("delivered", "delivered.front_door"),  # Delivered to Safeplace by
        "EVKOP": ("delivered", None),  # Delivered by (the name says how)
        "EVGPD": ("out_for_delivery", None),  # Due to be delivered today
        "EVNSR": ("in_transit", None),  # Item Prepared for Redelivery
        "EVNDA": ("available_for_pickup", None),  # Available for Redelivery or Collection
        "EVKNA": ("failed_attempt", "failed_attempt.recipient_absent"),  # No Answer
        "EVKNR": ("failed_attempt", None),  # Delivery Attempted
        "EVODO": ("in_transit", None),
        "EVORI": ("in_transit", None),
        "EVOAC": ("in_transit", None),
        "EVAIE": ("info_received", None),  # Sender preparing/despatching item
        "EVAIP": ("info_received", None),
        "EVPPA": ("in_transit", None),  # Accepted at Parcelshop
        "EVDAV": ("in_transit", None),
        "EVIMC": ("in_transit", None),
        "EVDAC": ("in_transit", None),
        "EVNRT": ("in_transit", None),
        "EVOCO": ("in_transit", None),
        "RSRXS": ("in_transit", None),  # Delivery request received
        "EVNMI": ("in_transit", None),
    }
    assert set(names) == set(expected)
    assert {code: STATUS_MAP[code] for code in names} == expected
