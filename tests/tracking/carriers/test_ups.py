import base64
import copy
import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
import responses
from responses import matchers

from tests.support.shared_data import read_carrier_sample, read_external_payload
from tracking.carriers.base import (
    CarrierAuthError,
    CarrierEvent,
    CarrierPayloadError,
    Location,
    PodData,
    TrackingError,
)
from tracking.carriers.ups import (
    MANIFEST_CODE_MAP,
    STATUS_MAP,
    TYPE_MAP,
    UPDATE_CODES,
    UpsAdapter,
)
from tracking.status import pod_standing, result_state

BASE_URL = "https://onlinetools.ups.test"
TOKEN_URL = f"{BASE_URL}/security/v1/oauth/token"
NUMBER = "1Z1442YY7229014688"
TRACK_URL = f"{BASE_URL}/api/track/v1/details/{NUMBER}"
EST = timezone(timedelta(hours=-5))
NEW_YORK = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")


def _sample(name: str) -> bytes:
    return read_carrier_sample(name)


def _sample_json(name: str) -> dict:
    return copy.deepcopy(json.loads(_sample(name)))


def _adapter() -> UpsAdapter:
    return UpsAdapter(base_url=BASE_URL + "/", client_id="ups-id", client_secret="ups-secret")


def _activity(
    day: str,
    clock: str,
    type_: str,
    status_code: str,
    description: str = "",
    *,
    code: str = "XX",
    city: str = "PARIS",
    country: str = "FR",
    state: str = "",
    **extra,
) -> dict:
    address = {"city": city, "postalCode": "75015", "countryCode": country}
    if state:
        address["stateProvince"] = state
    activity = {
        "location": {"address": address},
        "status": {
            "type": type_,
            "code": code,
            "statusCode": status_code,
            "description": description,
        },
        "date": day,
        "time": clock,
    }
    activity.update(extra)
    return activity


def _body(*activities: dict, **package_fields) -> bytes:
    """A one-package answer; activities given newest first, as UPS lists them."""
    package = {"trackingNumber": NUMBER, "activity": list(activities)}
    package.update(package_fields)
    shipment = {"inquiryNumber": NUMBER, "package": [package]}
    return json.dumps({"trackResponse": {"shipment": [shipment]}}).encode()


def _parse_one(body: bytes):
    result = _adapter().parse(body)
    assert result.errors == []
    [shipment] = result.shipments
    return shipment


# --- parse: the samples ---------------------------------------------------------------------


def test_ups_parse_delivered_sample_gives_the_full_normalised_shipment():
    # given UPS's Postman "Tracking Success" answer: two activities, newest first, local times
    body = _sample("ups_track_v1_delivered.json")

    # when
    shipment = _parse_one(body)

    # then oldest first, read in New Jersey's winter time (no state on the label scan: the
    # country's zone, which is the same here)
    assert shipment.tracking_number == NUMBER
    assert shipment.events == (
        CarrierEvent(
            occurred_at=datetime(2022, 1, 26, 15, 16, 41, tzinfo=EST),
            status="info_received",
            substatus=None,
            code="003",
            message="Shipper created a label, UPS has not received the package yet.",
            location=Location(country="US"),
        ),
        CarrierEvent(
            occurred_at=datetime(2022, 1, 26, 16, 30, tzinfo=EST),
            status="delivered",
            substatus=None,
            code="011",
            message="DELIVERED",
            location=Location(city="PARAMUS", country="US"),
        ),
    )
    assert [e.occurred_at.isoformat() for e in shipment.events] == [
        "2022-01-26T15:16:41-05:00",
        "2022-01-26T16:30:00-05:00",
    ]
    # and the POD is the delivery date and time UPS gives (DEL), nothing more
    assert shipment.pod == PodData(delivered_at=datetime(2022, 1, 26, 16, 30, tzinfo=NEW_YORK))
    assert shipment.estimated_delivery is None
    assert shipment.estimated_delivery_end is None
    assert result_state(shipment).status == "delivered"


def test_ups_parse_spec_example_keeps_placeholders_out():
    # given UPS's OpenAPI example: "string" placeholders, a type X activity with statusCode 003
    body = _sample("ups_track_v1_spec_example.json")

    # when
    shipment = _parse_one(body)

    # then the package's "string" number gives way to the inquiry number, the statusCode
    # decides (003 Shipment Ready for UPS), and placeholder dates are no estimate
    assert shipment.tracking_number == "1Z023E2X0214323462"
    assert shipment.events == (
        CarrierEvent(
            occurred_at=datetime(2021, 2, 10, 7, 13, 56, tzinfo=EST),
            status="info_received",
            substatus=None,
            code="003",
            message="Your package was released by the customs agency.",
            location=Location(city="Wayne", postcode="07470", country="US"),
        ),
    )
    assert shipment.estimated_delivery is None
    assert shipment.pod is None  # not delivered: the deliveryInformation block is ignored


def test_ups_parse_spec_example_once_delivered_lists_inline_images_by_kind():
    # given the example with its activity saying delivered
    payload = _sample_json("ups_track_v1_spec_example.json")
    package = payload["trackResponse"]["shipment"][0]["package"][0]
    package["activity"][0]["status"].update(type="D", statusCode="011", description="DELIVERED")

    # when
    shipment = _parse_one(json.dumps(payload).encode())

    # then accessPointInformation makes it a pickup-point delivery; base64 images stay out
    [event] = shipment.events
    assert (event.status, event.substatus) == ("delivered", "delivered.pickup_point")
    assert shipment.pod == PodData(
        delivered_at=datetime(2021, 2, 10, 7, 13, 56, tzinfo=EST),
        signed_by="163000",  # the example's placeholder, kept as UPS wrote it
        location_type="pickup_point",
        documents=("signature", "photo"),
    )
    assert "Base64" not in json.dumps(shipment.pod.as_dict())


def test_ups_parse_not_found_warning_gives_a_per_number_error():
    # given the warning UPS answers for an unknown number
    body = _sample("ups_track_v1_warning_not_found.json")

    # when
    result = _adapter().parse(body)

    # then the payload names no number
    assert result.shipments == []
    assert result.errors == [TrackingError("", "not_found", "Tracking Information Not Found")]


def test_ups_parse_invalid_number_error_gives_a_per_number_error():
    # given the 400 body of a malformed inquiry number
    body = _sample("ups_track_v1_error_invalid_number.json")

    # when / then
    assert _adapter().parse(body).errors == [
        TrackingError("", "invalid_number", "Invalid inquiry number")
    ]


def test_ups_parse_bad_token_error_reports_auth_failed():
    # given the error body of a refused token, parsed offline
    body = json.dumps(
        {"response": {"errors": [{"code": "250002", "message": "Invalid Authentication"}]}}
    ).encode()

    # when / then
    assert _adapter().parse(body).errors == [
        TrackingError("", "auth_failed", "Invalid Authentication")
    ]


# --- the code tables --------------------------------------------------------------------------


def test_ups_status_map_covers_every_code_of_the_ups_appendix():
    # given UPS's vocabulary (status codes written without the API's leading zeros)
    vocabulary = json.loads(_sample("ups_track_v1_status_codes.json"))

    # when
    appendix_codes = {code.zfill(3) for code in vocabulary["status_description_codes"]}

    # then every code has a mapping, and no mapping is invented
    assert len(appendix_codes) == 160
    assert set(STATUS_MAP) == appendix_codes
    assert set(TYPE_MAP) == set(vocabulary["package_activity_types"])
    assert set(MANIFEST_CODE_MAP) == set(vocabulary["manifest_codes"])
    assert set(vocabulary["update_codes"]) == UPDATE_CODES


@pytest.mark.parametrize(
    ("status_code", "expected"),
    [
        ("003", ("info_received", None)),
        ("038", ("in_transit", None)),
        ("021", ("out_for_delivery", None)),
        ("072", ("out_for_delivery", None)),
        ("022", ("failed_attempt", None)),
        ("161", ("available_for_pickup", None)),
        ("011", ("delivered", None)),
        ("050", ("exception", "exception.address_issue")),
        ("064", ("exception", "exception.refused")),
        ("035", ("exception", "exception.returning_to_sender")),
        ("034", ("exception", "exception.returned_to_sender")),
        ("007", ("exception", "exception.cancelled")),
    ],
)
def test_ups_parse_status_code_decides_the_status(status_code, expected):
    # given one activity with that statusCode
    body = _body(_activity("20240519", "100000", "I", status_code, "Some text"))

    # when
    [event] = _parse_one(body).events

    # then
    assert (event.status, event.substatus) == expected
    assert event.code == status_code


def test_ups_parse_type_is_the_fallback_and_updates_keep_the_previous_status():
    # given an unknown statusCode on a type D scan, a manifest-only void, and update activities
    body = _body(
        _activity("20240521", "120000", "U", "", "Updated Delivery Date", code="UP"),
        _activity("20240521", "110000", "I", "154", "Updated Delivery Date"),
        _activity("20240521", "100000", "", "", "Manifest cancelled", code="VP"),
        _activity("20240520", "100000", "I", "021", "Out for delivery"),
        _activity("20240519", "100000", "D", "999", "DELIVERED"),
    )

    # when
    events = _parse_one(body).events

    # then
    assert [(e.code, e.status, e.substatus) for e in events] == [
        ("999", "delivered", None),
        ("021", "out_for_delivery", None),
        ("VP", "exception", "exception.cancelled"),
        ("154", "exception", "exception.cancelled"),
        ("UP", "exception", "exception.cancelled"),
    ]


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("The receiver was not available for delivery.", "failed_attempt.recipient_absent"),
        ("The business was closed. We'll try again.", "failed_attempt.recipient_absent"),
        ("Access to the delivery location was restricted.", "failed_attempt.access_issue"),
        ("First attempt made", None),
    ],
)
def test_ups_parse_failed_attempt_reason_comes_from_the_description(description, expected):
    # given a failed-attempt activity
    body = _body(_activity("20240519", "100000", "X", "022", description))

    # when
    [event] = _parse_one(body).events

    # then
    assert (event.status, event.substatus) == ("failed_attempt", expected)


def test_ups_parse_refusal_at_the_door_is_an_exception():
    # given an attempt whose description says the receiver refused the package
    body = _body(_activity("20240519", "100000", "X", "060", "The receiver refused it."))

    # when / then
    assert _parse_one(body).events[0].substatus == "exception.refused"


# --- parse: times ---------------------------------------------------------------------------


def test_ups_parse_prefers_gmt_fields_and_reads_local_times_in_the_state_zone():
    # given a GMT-stamped scan, a Californian local scan, and a Paris local scan
    body = _body(
        _activity(
            "20240519",
            "100000",
            "I",
            "005",
            gmtDate="20240519",
            gmtTime="08:00:00",
            gmtOffset="+02:00",
        ),
        _activity("20240518", "230000", "I", "005", city="ONTARIO", country="US", state="CA"),
        _activity("20240518", "090000", "M", "003"),
    )

    # when
    events = _parse_one(body).events

    # then
    assert [e.occurred_at.isoformat() for e in events] == [
        "2024-05-18T09:00:00+02:00",  # Paris summer time
        "2024-05-18T23:00:00-07:00",  # Pacific daylight time, not New York's
        "2024-05-19T10:00:00+02:00",  # 08:00 GMT shown at the scan's +02:00
    ]


def test_ups_parse_scan_without_country_is_read_in_the_destination_zone():
    # given a label scan with no address, for a parcel going to Paris
    activity = _activity("20240110", "090000", "M", "003")
    activity["location"] = {}
    body = _body(
        activity,
        packageAddress=[{"type": "DESTINATION", "address": {"countryCode": "FR"}}],
    )

    # when
    [event] = _parse_one(body).events

    # then winter time in Paris, and an empty location
    assert event.occurred_at == datetime(2024, 1, 10, 9, 0, tzinfo=PARIS)
    assert event.occurred_at.isoformat() == "2024-01-10T09:00:00+01:00"
    assert event.location == Location()


# --- parse: estimated delivery and POD ------------------------------------------------------


def test_ups_parse_estimated_window_from_scheduled_date_and_times():
    # given a scheduled date and an estimated delivery window
    body = _body(
        _activity("20240519", "100000", "I", "005"),
        deliveryDate=[{"type": "SDD", "date": "20240521"}],
        deliveryTime={"type": "EDW", "startTime": "090000", "endTime": "120000"},
        packageAddress=[{"type": "DESTINATION", "address": {"countryCode": "FR"}}],
    )

    # when
    shipment = _parse_one(body)

    # then
    assert shipment.estimated_delivery == datetime(2024, 5, 21, 9, 0, tzinfo=PARIS)
    assert shipment.estimated_delivery_end == datetime(2024, 5, 21, 12, 0, tzinfo=PARIS)


def test_ups_parse_rescheduled_date_beats_the_scheduled_one():
    # given both dates and an end-of-day commitment without start
    body = _body(
        _activity("20240519", "100000", "I", "005"),
        deliveryDate=[{"type": "SDD", "date": "20240521"}, {"type": "RDD", "date": "20240522"}],
        deliveryTime={"type": "EOD", "endTime": "235900"},
    )

    # when
    shipment = _parse_one(body)

    # then a bare date, and the end of the commitment read in the activity's zone
    assert shipment.estimated_delivery == date(2024, 5, 22)
    assert shipment.estimated_delivery_end == datetime(2024, 5, 22, 23, 59, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("information", "substatus", "location_type", "documents"),
    [
        ({"location": "Front Door"}, "delivered.front_door", "front_door", ()),
        (
            {"location": "Mailbox", "deliveryPhoto": {"photo": "aGVsbG8="}},
            "delivered.mailbox",
            "mailbox",
            ("photo",),
        ),
        ({"location": "Neighbor", "receivedBy": "SMITH"}, "delivered.neighbour", "neighbour", ()),
        ({"location": "Front Desk", "receivedBy": "JONES"}, "delivered.signed", "reception", ()),
        (
            {"location": "Residential", "receivedBy": "MARTIN", "pod": {"content": "JVBER"}},
            "delivered.signed",
            "",
            ("proof_of_delivery",),
        ),
        ({}, None, "", ()),
    ],
)
def test_ups_parse_delivery_information_gives_substatus_and_pod(
    information, substatus, location_type, documents
):
    # given a delivered package with that deliveryInformation
    body = _body(
        _activity("20240519", "143000", "D", "011", "DELIVERED"),
        deliveryInformation=information,
    )

    # when
    shipment = _parse_one(body)

    # then
    assert shipment.events[0].substatus == substatus
    assert shipment.pod == PodData(
        delivered_at=datetime(2024, 5, 19, 14, 30, tzinfo=PARIS),
        signed_by=information.get("receivedBy", ""),
        location_type=location_type,
        documents=documents,
    )


def test_ups_parse_return_after_delivery_has_no_pod():
    # given a delivery later undone by a return to the shipper
    body = _body(
        _activity("20240525", "100000", "D", "034", "Returned to Sender"),
        _activity("20240519", "143000", "D", "011", "DELIVERED"),
        deliveryInformation={"receivedBy": "MARTIN"},
    )

    # when
    shipment = _parse_one(body)

    # then
    assert result_state(shipment).substatus == "exception.returned_to_sender"
    assert pod_standing(shipment.pod, result_state(shipment)) is None  # the record's rule


def test_ups_parse_multi_package_shipment_gives_one_result_per_package():
    # given a shipment of two packages
    first = json.loads(_body(_activity("20240519", "100000", "I", "005")))
    package = first["trackResponse"]["shipment"][0]["package"][0]
    second = copy.deepcopy(package)
    second["trackingNumber"] = "1Z1442YY7229014697"
    first["trackResponse"]["shipment"][0]["package"].append(second)

    # when
    result = _adapter().parse(json.dumps(first).encode())

    # then
    assert [s.tracking_number for s in result.shipments] == [NUMBER, "1Z1442YY7229014697"]


def _mutated(mutate) -> bytes:
    payload = _sample_json("ups_track_v1_delivered.json")
    mutate(payload["trackResponse"]["shipment"][0]["package"][0])
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"<html>502 Bad Gateway</html>", id="html"),
        pytest.param(b"\xff\xfe\x00", id="not-utf8"),
        pytest.param(_sample("ups_track_v1_delivered.json")[:300], id="truncated"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'{"foo": 1}', id="unknown-object"),
        pytest.param(b'{"trackResponse": {"shipment": {}}}', id="shipment-not-list"),
        pytest.param(b'{"trackResponse": {"shipment": ["x"]}}', id="shipment-not-object"),
        pytest.param(b'{"trackResponse": {"shipment": [{}]}}', id="no-package-no-warning"),
        pytest.param(b'{"response": {"errors": ["x"]}}', id="error-not-object"),
        pytest.param(_mutated(lambda p: p.update(activity="none")), id="activity-str"),
        pytest.param(_mutated(lambda p: p["activity"].append(7)), id="activity-number"),
        pytest.param(_mutated(lambda p: p["activity"][0].update(date="2022-01-26")), id="iso-date"),
        pytest.param(_mutated(lambda p: p["activity"][0].pop("time")), id="no-time"),
        pytest.param(
            _mutated(lambda p: p["activity"][0].update(gmtDate="x", gmtTime="1", gmtOffset="+1")),
            id="bad-gmt",
        ),
        pytest.param(
            _mutated(lambda p: p.update(deliveryDate=[{"type": "SDD", "date": "soon"}])),
            id="bad-edd",
        ),
        pytest.param(_mutated(lambda p: p.update(deliveryDate="20220126")), id="edd-not-list"),
    ],
)
def test_ups_parse_malformed_body_raises_payload_error(body):
    # given a body that is not UPS's Track API format
    # when / then
    with pytest.raises(CarrierPayloadError):
        _adapter().parse(body)


# --- fetch: OAuth and requests --------------------------------------------------------------


def _token_response(token: str = "tok-1", expires_in: str = "14399"):
    basic = base64.b64encode(b"ups-id:ups-secret").decode()
    return responses.post(
        TOKEN_URL,
        match=[
            matchers.header_matcher(
                {
                    "Authorization": f"Basic {basic}",
                    "Content-Type": "application/x-www-form-urlencoded",
                }
            )
        ],
        json={"access_token": token, "token_type": "Bearer", "expires_in": expires_in},
    )


@responses.activate
def test_ups_fetch_gets_a_token_then_tracks_with_the_ups_headers(carrier_client):
    # given UPS's token endpoint and a tracked number
    token = _token_response()
    track = responses.get(
        TRACK_URL,
        match=[
            matchers.query_param_matcher({"locale": "en_US", "returnSignature": "false"}),
            matchers.header_matcher(
                {"Authorization": "Bearer tok-1", "transactionSrc": "parcelle"}
            ),
        ],
        body=_sample("ups_track_v1_delivered.json"),
    )

    # when
    result, answers = _adapter().track([NUMBER], client=carrier_client)

    # then one token request with the client-credentials form, then the GET
    assert token.call_count == 1 and track.call_count == 1
    assert parse_qs(responses.calls[0].request.body) == {"grant_type": ["client_credentials"]}
    trans_id = responses.calls[1].request.headers["transId"]
    assert len(trans_id) == 32
    assert answers[0].url == f"{TRACK_URL}?locale=en_US&returnSignature=false"
    assert [s.tracking_number for s in result.shipments] == [NUMBER]


@responses.activate
def test_ups_fetch_caches_the_token_until_it_expires(carrier_client):
    # given a token valid for 14399 seconds and two numbers asked in two syncs
    token = _token_response()
    responses.get(TRACK_URL, body=_sample("ups_track_v1_delivered.json"))
    adapter = _adapter()
    now = [1000.0]
    adapter._clock = lambda: now[0]

    # when two fetches happen within the lifetime, then one after it
    adapter.fetch([NUMBER, NUMBER], client=carrier_client)
    now[0] += 14399 - 61
    adapter.fetch([NUMBER], client=carrier_client)
    assert token.call_count == 1
    now[0] += 2  # within the renewal margin before expiry
    adapter.fetch([NUMBER], client=carrier_client)

    # then
    assert token.call_count == 2


@responses.activate
def test_ups_fetch_renews_a_refused_token_once(carrier_client):
    # given a token UPS revokes before its expiry
    responses.post(TOKEN_URL, json={"access_token": "old", "expires_in": "14399"})
    responses.post(TOKEN_URL, json={"access_token": "new", "expires_in": "14399"})
    refused = responses.get(
        TRACK_URL,
        match=[matchers.header_matcher({"Authorization": "Bearer old"})],
        status=401,
        json={"response": {"errors": [{"code": "250002", "message": "Invalid token"}]}},
    )
    accepted = responses.get(
        TRACK_URL,
        match=[matchers.header_matcher({"Authorization": "Bearer new"})],
        body=_sample("ups_track_v1_delivered.json"),
    )

    # when
    [answer] = _adapter().fetch([NUMBER], client=carrier_client)

    # then
    assert refused.call_count == 1 and accepted.call_count == 1
    assert answer.status_code == 200


@responses.activate
def test_ups_fetch_raises_auth_error_when_the_new_token_is_refused_too(carrier_client):
    # given every token is refused
    token = responses.post(TOKEN_URL, json={"access_token": "t", "expires_in": "14399"})
    responses.get(TRACK_URL, status=401, json={})

    # when / then
    with pytest.raises(CarrierAuthError):
        _adapter().fetch([NUMBER], client=carrier_client)
    assert token.call_count == 2


@pytest.mark.parametrize(
    "body",
    [b'{"access_tok', b'{"token_type": "Bearer"}', b'{"access_token": "t", "expires_in": "x"}'],
)
@responses.activate
def test_ups_fetch_unreadable_token_answer_raises_payload_error(body, carrier_client):
    # given a token answer that is cut or lacks what we need
    responses.post(TOKEN_URL, body=body)

    # when / then
    with pytest.raises(CarrierPayloadError):
        _adapter().fetch([NUMBER], client=carrier_client)


@responses.activate
def test_ups_track_gives_error_bodies_the_number_of_their_request(carrier_client):
    # given one number found, one unknown (200 warning) and one invalid (400)
    _token_response()
    responses.get(TRACK_URL, body=_sample("ups_track_v1_delivered.json"))
    responses.get(
        f"{BASE_URL}/api/track/v1/details/1Z9999999999999999",
        body=_sample("ups_track_v1_warning_not_found.json"),
    )
    responses.get(
        f"{BASE_URL}/api/track/v1/details/BAD%2FNUMBER",
        body=_sample("ups_track_v1_error_invalid_number.json"),
        status=400,
    )

    # when
    result, answers = _adapter().track(
        [NUMBER, "1Z9999999999999999", "BAD/NUMBER"], client=carrier_client
    )

    # then one request each, the "/" quoted so it cannot change the path
    assert len(answers) == 3
    assert [s.tracking_number for s in result.shipments] == [NUMBER]
    assert result.errors == [
        TrackingError("1Z9999999999999999", "not_found", "Tracking Information Not Found"),
        TrackingError("BAD/NUMBER", "invalid_number", "Invalid inquiry number"),
    ]


# --- identity -------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [NUMBER, "1Z023E2X0214323462", "K1234567897"])
def test_ups_matches_its_number_formats(number):
    # given / when / then
    assert _adapter().matches(number)


@pytest.mark.parametrize("number", ["1Z12345", "EW112720413FR", "738488882438", "9400110200"])
def test_ups_does_not_match_other_formats(number):
    # given / when / then
    assert not _adapter().matches(number)


def test_ups_identity_and_tracking_url():
    # given / when
    adapter = _adapter()

    # then
    assert (adapter.slug, adapter.name, adapter.batch_size) == ("ups", "UPS", 1)
    assert adapter.base_url == BASE_URL
    assert adapter.tracking_url(NUMBER) == (
        f"https://www.ups.com/track?loc=fr_FR&tracknum={NUMBER}"
    )


def test_ups_event_times_are_always_aware():
    # given the delivered sample
    shipment = _parse_one(_sample("ups_track_v1_delivered.json"))

    # when / then
    assert all(e.occurred_at.utcoffset() is not None for e in shipment.events)
    assert shipment.events[0].occurred_at.astimezone(UTC).hour == 20


# --- answers other projects recorded (../shared/external-payloads/ups) -----------------------

CHICAGO = ZoneInfo("America/Chicago")
BERLIN = ZoneInfo("Europe/Berlin")
BRUSSELS = ZoneInfo("Europe/Brussels")
UTC8 = timezone(timedelta(hours=8))


def _external(name: str):
    return _adapter().parse(read_external_payload(f"ups/{name}"))


def _outline(shipment) -> list[tuple]:
    return [(e.occurred_at, e.code, e.status, e.substatus) for e in shipment.events]


def test_ups_external_karrio_1_delivered_in_michigan():
    # given karrio's recorded answer: label, drop-off in Nashville, via Maumee OH to Adrian MI
    result = _external("karrio-1.json")

    # then delivered, "Departed from Facility" (DP) read as a departure, "Out For Delivery
    # Today" (OT) as out for delivery; local times in each scan's state's zone
    [shipment] = result.shipments
    assert shipment.tracking_number == "1ZR760R60332160282"
    codes = [(e.code, e.status) for e in shipment.events]
    assert codes == [
        ("MP", "info_received"),
        ("XD", "in_transit"),
        ("OR", "in_transit"),
        ("DP", "in_transit"),
        ("AR", "in_transit"),
        ("DP", "in_transit"),
        ("AR", "in_transit"),
        ("DP", "in_transit"),
        ("AR", "in_transit"),
        ("YP", "in_transit"),
        ("OT", "out_for_delivery"),
        ("FS", "delivered"),
    ]
    assert shipment.events[1].occurred_at == datetime(2021, 10, 19, 12, 18, tzinfo=CHICAGO)
    assert shipment.events[-1].occurred_at == datetime(2021, 10, 21, 14, 33, 16, tzinfo=NEW_YORK)
    assert shipment.events[-1].location == Location(city="ADRIAN", country="US")
    assert result_state(shipment).status == "delivered"
    # nobody is named as signing: a POD with the delivery time only
    assert shipment.pod == PodData(delivered_at=datetime(2021, 10, 21, 14, 33, 16, tzinfo=NEW_YORK))


def test_ups_external_karrio_2_label_created_is_not_in_transit():
    # given a single activity of coarse type "I" whose code MP says "Shipper created a label"
    result = _external("karrio-2.json")

    # then the finer code wins: the label is created, UPS does not have the parcel yet
    [shipment] = result.shipments
    assert shipment.tracking_number == "1Z999AA10123456784"
    assert _outline(shipment) == [
        (datetime(2024, 3, 15, 7, 46, tzinfo=BERLIN), "MP", "info_received", None)
    ]
    assert shipment.events[0].location == Location("Frankfurt", "60314", "DE")
    assert (shipment.pod, shipment.estimated_delivery) == (None, None)


def test_ups_external_karrio_3_picked_up():
    result = _external("karrio-3.json")

    [shipment] = result.shipments
    assert _outline(shipment) == [
        (datetime(2024, 3, 15, 9, 25, tzinfo=BERLIN), "PU", "in_transit", None)
    ]
    assert shipment.pod is None


def test_ups_external_omniship_1_international_after_customs_holds():
    # given omniship's answer: Belgium -> Köln -> Shenzhen -> Singapore, two customs holds in
    # Lummen each released, and last "at the clearing agency awaiting final release" (092)
    result = _external("omniship-1.json")

    # then 17 scans, the GMT offsets UPS gave kept, the hold (058) an exception the later
    # release (014) undoes: the parcel is in transit, not stuck in customs
    [shipment] = result.shipments
    assert shipment.tracking_number == "1Z1202R66698804005"
    assert len(shipment.events) == 17
    first, last = shipment.events[0], shipment.events[-1]
    assert (first.code, first.status, first.location.country) == ("003", "info_received", "BE")
    assert first.occurred_at == datetime(2024, 3, 18, 12, 49, 17, tzinfo=BRUSSELS)
    holds = [e for e in shipment.events if e.status == "exception"]
    assert [(e.code, e.substatus) for e in holds] == [("058", "exception.customs")]
    assert (last.code, last.status, last.occurred_at) == (
        "092",
        "in_transit",
        datetime(2024, 3, 20, 19, 8, 38, tzinfo=UTC8),
    )
    assert result_state(shipment).status == "in_transit"
    assert shipment.pod is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "karrio-4.json",
            TrackingError("", "auth_failed", "Invalid Access License number"),
            id="401-license",
        ),
        pytest.param(
            "omniship-2.json",
            TrackingError("1Z9912350341235622", "not_found", "Tracking Information Not Found"),
            id="warning-TW0001",
        ),
    ],
)
def test_ups_external_error_answers_name_the_error(name, expected):
    result = _external(name)

    assert result.shipments == []
    assert result.errors == [expected]


# --- the appendix read as a person reads it -------------------------------------------------

# How a person reads UPS's status descriptions, first matching phrase wins; anything else is
# the package moving. Written from the labels of ups_track_v1_status_codes.json.
UPS_LABEL_READING: tuple[tuple[str, tuple[str, str | None]], ...] = (
    # the local post office sending it back (SurePost): on its way back, not there yet
    (r"returned to sender by post office", ("exception", "exception.returning_to_sender")),
    (r"returned to sender", ("exception", "exception.returned_to_sender")),
    (r"return(ing)? to sender|returned - damage", ("exception", "exception.returning_to_sender")),
    (r"^delivered to (post office for pickup|ups access point)", ("available_for_pickup", None)),
    (r"^delivered", ("delivered", None)),
    (r"held for customer pickup|ready for customer pickup", ("available_for_pickup", None)),
    (r"out for delivery|loaded on delivery vehicle|driver is arriving", ("out_for_delivery", None)),
    (r"refused", ("exception", "exception.refused")),
    (r"damage", ("exception", "exception.damaged")),
    (r"^delay|weather|security delay", ("exception", "exception.delayed")),
    (
        r"clearance information|pending release|pending government|incomplete documentation",
        ("exception", "exception.customs"),
    ),
    (r"address information required", ("exception", "exception.address_issue")),
    (r"lost and found|investigation opened", ("exception", "exception.lost")),
    (r"claim", ("exception", "exception.other")),
    (r"information voided", ("exception", "exception.cancelled")),
    (r"security access required", ("failed_attempt", "failed_attempt.access_issue")),
    (
        r"pickup attempted|on the way to ups$|ready for ups|ready for roadie|scheduled for pickup"
        r"|voided pickup|not at ups access point|order processed",
        ("info_received", None),
    ),
    (r"attempt(ed| made)", ("failed_attempt", None)),
    (
        r"exception|unable to deliver|^held$|held for cod|seized|prohibited",
        ("exception", "exception.other"),
    ),
)


def _ups_label_reading(label: str) -> tuple[str, str | None]:
    text = label.casefold()
    for pattern, reading in UPS_LABEL_READING:
        if re.search(pattern, text):
            return reading
    return ("in_transit", None)


def test_ups_every_appendix_code_maps_as_its_description_reads():
    # given UPS's 160 status description codes with their descriptions
    codes = json.loads(_sample("ups_track_v1_status_codes.json"))["status_description_codes"]

    # then each code's mapping is what its description says
    mapped = {code.zfill(3): STATUS_MAP[code.zfill(3)] for code in codes}
    read = {code.zfill(3): _ups_label_reading(label) for code, label in codes.items()}
    assert mapped == read
