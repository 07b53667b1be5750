import copy
import json
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest
import responses
from django.core.management import call_command
from responses import matchers

from tests.support.shared_data import external_payload, published_reading, read_carrier_sample
from tracking.carriers.base import (
    CarrierEvent,
    CarrierPayloadError,
    Location,
    PodData,
    TrackingError,
)
from tracking.carriers.fedex import (
    DERIVED_STATUS_MAP,
    POSSESSION_CODES,
    STATUS_MAP,
    FedexAdapter,
)
from tracking.status import result_state

BASE_URL = "https://apis.fedex.test"
TOKEN_URL = f"{BASE_URL}/oauth/token"
TRACK_URL = f"{BASE_URL}/track/v1/trackingnumbers"
DOCS_URL = f"{BASE_URL}/track/v1/trackingdocuments"
EDT = timezone(timedelta(hours=-4))
CDT = timezone(timedelta(hours=-5))
PDT = timezone(timedelta(hours=-7))
MDT = timezone(timedelta(hours=-6))
CEST = timezone(timedelta(hours=2))


def _sample(name: str) -> bytes:
    return read_carrier_sample(name)


def _sample_json(name: str) -> dict:
    return copy.deepcopy(json.loads(_sample(name)))


def _adapter() -> FedexAdapter:
    return FedexAdapter(base_url=BASE_URL, client_id="fdx-id", client_secret="fdx-secret")


def _scan(when: str, event_type: str, derived: str = "IT", text: str = "", **extra) -> dict:
    scan = {
        "date": when,
        "eventType": event_type,
        "eventDescription": text,
        "exceptionCode": "",
        "exceptionDescription": "",
        "scanLocation": {"city": "PARIS", "postalCode": "75015", "countryCode": "FR"},
        "derivedStatusCode": derived,
    }
    scan.update(extra)
    return scan


def _body(*scans: dict, number: str = "123456789012", **result_fields) -> bytes:
    """One number's answer; scans given newest first, as FedEx lists them."""
    result = {"trackingNumberInfo": {"trackingNumber": number}, "scanEvents": list(scans)}
    result.update(result_fields)
    complete = {"trackingNumber": number, "trackResults": [result]}
    return json.dumps({"output": {"completeTrackResults": [complete]}}).encode()


def _parse_one(body: bytes):
    result = _adapter().parse(body)
    assert result.errors == []
    [shipment] = result.shipments
    return shipment


# --- parse: the samples ---------------------------------------------------------------------


def test_fedex_parse_delivered_sample_gives_the_full_normalised_shipment():
    # given a real FedEx Ground history: 17 scans newest first, one pickup scan without offset
    body = _sample("fedex_track_v1_delivered.json")

    # when
    shipment = _parse_one(body)

    # then oldest first; the bare "2024-08-15T00:00:00" pickup is read in Minnesota's zone
    assert shipment.tracking_number == "738488882438"
    mankato = Location("MANKATO", "56001", "US")
    cedar_rapids = Location("CEDAR RAPIDS", "52404", "US")
    grove_city = Location("GROVE CITY", "43123", "US")
    woodbridge = Location("WOODBRIDGE TWP", "08832", "US")
    keasbey = Location("KEASBEY", "08832", "US")
    holbrook = Location("HOLBROOK", "11741", "US")
    transit = ("in_transit", None)
    expected = [
        (datetime(2024, 8, 15, 0, 0, tzinfo=CDT), "PU", "Picked up", mankato, transit),
        (
            datetime(2024, 8, 15, 10, 36, tzinfo=CDT),
            "OC",
            "Shipment information sent to FedEx",
            Location("", "56003", "US"),
            ("info_received", None),
        ),
        (
            datetime(2024, 8, 15, 18, 35, tzinfo=CDT),
            "AR",
            "Arrived at FedEx location",
            mankato,
            transit,
        ),
        (
            datetime(2024, 8, 15, 18, 40, 27, tzinfo=CDT),
            "AE",
            "Shipment arriving early",
            mankato,
            transit,
        ),
        (
            datetime(2024, 8, 15, 19, 29, 25, tzinfo=CDT),
            "DP",
            "Left FedEx origin facility",
            mankato,
            transit,
        ),
        (
            datetime(2024, 8, 16, 4, 34, tzinfo=CDT),
            "AR",
            "Arrived at FedEx location",
            cedar_rapids,
            transit,
        ),
        (
            datetime(2024, 8, 16, 7, 35, 16, tzinfo=CDT),
            "DP",
            "Departed FedEx location",
            cedar_rapids,
            transit,
        ),
        (
            datetime(2024, 8, 16, 19, 39, tzinfo=EDT),
            "AR",
            "Arrived at FedEx location",
            grove_city,
            transit,
        ),
        (
            datetime(2024, 8, 17, 8, 52, 11, tzinfo=EDT),
            "DP",
            "Departed FedEx location",
            grove_city,
            transit,
        ),
        (datetime(2024, 8, 18, 3, 39, 18, tzinfo=EDT), "IT", "On the way", woodbridge, transit),
        (datetime(2024, 8, 18, 16, 3, 54, tzinfo=EDT), "IT", "On the way", woodbridge, transit),
        (datetime(2024, 8, 19, 9, 13, 51, tzinfo=EDT), "IT", "On the way", woodbridge, transit),
        (
            datetime(2024, 8, 19, 14, 31, tzinfo=EDT),
            "AR",
            "Arrived at FedEx location",
            keasbey,
            transit,
        ),
        (
            datetime(2024, 8, 20, 1, 29, 5, tzinfo=EDT),
            "DP",
            "Departed FedEx location",
            keasbey,
            transit,
        ),
        (
            datetime(2024, 8, 20, 6, 38, tzinfo=EDT),
            "AR",
            "At local FedEx facility",
            holbrook,
            transit,
        ),
        (
            datetime(2024, 8, 20, 6, 47, tzinfo=EDT),
            "OD",
            "On FedEx vehicle for delivery",
            holbrook,
            ("out_for_delivery", None),
        ),
        (
            datetime(2024, 8, 20, 12, 41, 57, tzinfo=EDT),
            "DL",
            "Delivered",
            Location("Blue Point", "11715", "US"),
            ("delivered", "delivered.signed"),
        ),
    ]
    assert shipment.events == tuple(
        CarrierEvent(at, status, substatus, code, message, location)
        for at, code, message, location, (status, substatus) in expected
    )
    assert shipment.events[0].occurred_at.isoformat() == "2024-08-15T00:00:00-05:00"
    # and the POD: receiver's name, ACTUAL_DELIVERY, the signature image by kind only
    assert shipment.pod == PodData(
        delivered_at=datetime(2024, 8, 20, 12, 41, 57, tzinfo=EDT),
        signed_by="CREILLY",
        location_type="",
        documents=("signature_proof_of_delivery",),
    )
    assert shipment.estimated_delivery is None
    assert result_state(shipment).status == "delivered"


def test_fedex_parse_spec_example_gives_a_shipment_and_a_not_found_error():
    # given FedEx's OpenAPI example: one full result (with a placeholder error block) and one
    # number FedEx cannot find
    body = _sample("fedex_track_v1_spec_example.json")

    # when
    result = _adapter().parse(body)

    # then the full result counts (under the number asked), the bare one is an error
    [shipment] = result.shipments
    assert shipment.tracking_number == "123456789012"
    assert shipment.events == (
        CarrierEvent(
            occurred_at=datetime(2018, 2, 2, 12, 1, tzinfo=PDT),
            status="in_transit",
            substatus=None,
            code="PU",
            message="Picked Up - Package available for clearance",
            location=Location("SEATTLE", "98101", "US"),
        ),
    )
    # the window's naive "begins" is read in the destination's zone (Seattle), "ends" keeps -06:00
    assert shipment.estimated_delivery == datetime(2021, 10, 1, 8, 0, tzinfo=PDT)
    assert shipment.estimated_delivery_end == datetime(2021, 10, 15, 0, 0, tzinfo=MDT)
    assert shipment.pod is None
    assert result.errors == [
        TrackingError(
            "39936862321",
            "not_found",
            "Tracking number cannot be found. Please correct the tracking number and try again.",
        )
    ]


def test_fedex_parse_spec_example_once_delivered_reads_the_delivery_details():
    # given the example with its scan saying delivered
    payload = _sample_json("fedex_track_v1_spec_example.json")
    result = payload["output"]["completeTrackResults"][0]["trackResults"][0]
    result["scanEvents"][0].update(eventType="DL", derivedStatusCode="DL", exceptionDescription="")

    # when
    shipment = _adapter().parse(json.dumps(payload).encode()).shipments[0]

    # then "Receptionist/Front Desk" is a signed delivery at a reception; the example's
    # ACTUAL_DELIVERY (2007) predates the parcel's 2018 scan: the delivery scan dates it
    assert shipment.events[0].substatus == "delivered.signed"
    assert shipment.pod == PodData(
        delivered_at=shipment.events[0].occurred_at,
        signed_by="Reciever",
        location_type="reception",
        documents=(),  # only a BILL_OF_LADING image: not a proof of delivery
    )
    assert shipment.estimated_delivery is None


def test_fedex_parse_empty_number_error_gives_an_error_without_number():
    # given the request-level error FedEx answers for an empty number
    body = _sample("fedex_track_v1_error_empty_number.json")

    # when / then
    assert _adapter().parse(body).errors == [
        TrackingError("", "invalid_number", "Please provide tracking number.")
    ]


def test_fedex_parse_bad_token_error_reports_auth_failed():
    # given the 401 body of a refused token, parsed offline
    body = json.dumps(
        {"errors": [{"code": "NOT.AUTHORIZED.ERROR", "message": "The given JWT is invalid."}]}
    ).encode()

    # when / then
    assert _adapter().parse(body).errors == [
        TrackingError("", "auth_failed", "The given JWT is invalid.")
    ]


def test_fedex_parse_documents_gives_references_never_base64():
    # given the trackingdocuments answer with a base64 PDF
    body = _sample("fedex_trackingdocuments_spod.json")

    # when
    documents = _adapter().parse_documents(body)

    # then
    assert documents == ("signature_proof_of_delivery",)


@pytest.mark.parametrize(
    "body", [b"{}", b'{"output": {}}', b'{"output": {"documentType": "X"}}', b"%PDF"]
)
def test_fedex_parse_documents_malformed_raises_payload_error(body):
    # given / when / then
    with pytest.raises(CarrierPayloadError):
        _adapter().parse_documents(body)


# --- the code tables --------------------------------------------------------------------------


def test_fedex_status_map_covers_every_code_of_the_fedex_table():
    # given FedEx's Tracking Status Codes table
    vocabulary = json.loads(_sample("fedex_track_v1_status_codes.json"))
    sections = vocabulary["sections"]

    # when
    movement = {entry["code"] for entry in sections["Movement"]}
    regulatory = {entry["code"] for entry in sections["Regulatory"]}
    possession = {entry["code"] for entry in sections["Possession"]}

    # then every event code maps, derived codes too, and possession codes are known as such
    assert set(STATUS_MAP) == movement | regulatory
    assert set(vocabulary["derivedStatusCode_values_seen_in_samples"]) <= set(DERIVED_STATUS_MAP)
    assert possession == POSSESSION_CODES


@pytest.mark.parametrize(
    ("event_type", "derived", "description", "expected"),
    [
        ("OC", "IN", "Shipment information sent to FedEx", ("info_received", None)),
        ("PU", "PU", "Picked up", ("in_transit", None)),
        ("OD", "IT", "On FedEx vehicle for delivery", ("out_for_delivery", None)),
        ("HP", "IT", "Ready for recipient pickup", ("available_for_pickup", None)),
        ("CD", "DY", "Clearance delay", ("exception", "exception.customs")),
        ("CA", "CA", "Shipment cancelled", ("exception", "exception.cancelled")),
        ("RS", "RS", "Return to shipper", ("exception", "exception.returning_to_sender")),
        ("ZZ", "DY", "Weather delay", ("exception", "exception.delayed")),
        ("ZZ", "ZZ", "Something new", ("in_transit", None)),
        ("Ow", "IT", "On the way", ("in_transit", None)),
    ],
)
def test_fedex_parse_event_type_then_derived_code_decide(
    event_type, derived, description, expected
):
    # given one scan
    body = _body(_scan("2024-05-19T10:00:00+02:00", event_type, derived, description))

    # when
    [event] = _parse_one(body).events

    # then
    assert (event.status, event.substatus) == expected
    assert event.code == event_type


@pytest.mark.parametrize(
    ("exception_text", "expected"),
    [
        (
            "Customer not available or business closed",
            ("failed_attempt", "failed_attempt.recipient_absent"),
        ),
        ("Incorrect address", ("exception", "exception.address_issue")),
        ("Recipient refused delivery", ("exception", "exception.refused")),
        ("Package damaged", ("exception", "exception.damaged")),
        ("No access to delivery location", ("failed_attempt", "failed_attempt.access_issue")),
        ("Unable to locate package", ("exception", "exception.lost")),
        ("Local delivery restriction", ("exception", "exception.other")),
    ],
)
def test_fedex_parse_exception_reason_comes_from_the_text(exception_text, expected):
    # given a delivery exception scan
    scan = _scan("2024-05-19T10:00:00+02:00", "DE", "DE", "Delivery exception")
    scan["exceptionDescription"] = exception_text

    # when
    [event] = _parse_one(_body(scan)).events

    # then
    assert (event.status, event.substatus) == expected
    assert event.message == f"Delivery exception - {exception_text}"


def test_fedex_parse_delivery_after_return_to_shipper_is_the_return():
    # given a return to shipper, then a delivery scan
    body = _body(
        _scan("2024-05-25T10:00:00+02:00", "DL", "DL", "Delivered"),
        _scan("2024-05-21T10:00:00+02:00", "RS", "RS", "Returning package to shipper"),
        deliveryDetails={"receivedByName": "SHIPPER"},
    )

    # when
    shipment = _parse_one(body)

    # then no delivery to the buyer, so no POD
    assert [(e.status, e.substatus) for e in shipment.events] == [
        ("exception", "exception.returning_to_sender"),
        ("exception", "exception.returned_to_sender"),
    ]
    assert shipment.pod is None


@pytest.mark.parametrize(
    ("details", "substatus", "location_type"),
    [
        ({"locationDescription": "Front Door"}, "delivered.front_door", "front_door"),
        ({"locationDescription": "Mailbox"}, "delivered.mailbox", "mailbox"),
        (
            {"locationType": "NEIGHBOR", "receivedByName": "SMITH"},
            "delivered.neighbour",
            "neighbour",
        ),
        ({"locationType": "FEDEX_LOCATION"}, "delivered.pickup_point", "pickup_point"),
        ({"locationType": "MAILROOM", "signedByName": "J.DOE"}, "delivered.signed", "reception"),
        ({"locationType": "RESIDENCE", "signedByName": "J.DOE"}, "delivered.signed", ""),
        ({}, None, ""),
    ],
)
def test_fedex_parse_delivery_details_give_substatus_and_pod(details, substatus, location_type):
    # given a delivered parcel without ACTUAL_DELIVERY
    body = _body(
        _scan("2024-05-19T14:30:00+02:00", "DL", "DL", "Delivered"), deliveryDetails=details
    )

    # when
    shipment = _parse_one(body)

    # then the POD takes the delivery scan's time
    assert shipment.events[0].substatus == substatus
    assert shipment.pod == PodData(
        delivered_at=datetime(2024, 5, 19, 14, 30, tzinfo=CEST),
        signed_by=details.get("signedByName") or details.get("receivedByName", ""),
        location_type=location_type,
    )


def test_fedex_parse_estimated_delivery_from_date_and_times():
    # given only an ESTIMATED_DELIVERY entry, as a date
    body = _body(
        _scan("2024-05-19T10:00:00+02:00", "AR"),
        dateAndTimes=[{"type": "ESTIMATED_DELIVERY", "dateTime": "2024-05-21T18:00:00+02:00"}],
    )

    # when
    shipment = _parse_one(body)

    # then
    assert shipment.estimated_delivery == datetime(2024, 5, 21, 18, 0, tzinfo=CEST)
    assert shipment.estimated_delivery_end is None


def test_fedex_parse_estimated_window_can_be_a_bare_day():
    # given a window starting on a date
    body = _body(
        _scan("2024-05-19T10:00:00+02:00", "AR"),
        estimatedDeliveryTimeWindow={"window": {"begins": "2024-05-21"}},
    )

    # when / then
    assert _parse_one(body).estimated_delivery == date(2024, 5, 21)


def _mutated(mutate) -> bytes:
    payload = _sample_json("fedex_track_v1_delivered.json")
    mutate(payload["output"]["completeTrackResults"][0]["trackResults"][0])
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"<html>503</html>", id="html"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
        pytest.param(lambda: _sample("fedex_track_v1_delivered.json")[:700], id="truncated"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'{"output": {}}', id="no-results"),
        pytest.param(b'{"output": {"completeTrackResults": {}}}', id="results-not-list"),
        pytest.param(b'{"output": {"completeTrackResults": [1]}}', id="result-not-object"),
        pytest.param(
            b'{"output": {"completeTrackResults": [{"trackingNumber": "1"}]}}', id="no-tracks"
        ),
        pytest.param(
            b'{"output": {"completeTrackResults": [{"trackResults": ["x"]}]}}', id="track-str"
        ),
        pytest.param(
            b'{"output": {"completeTrackResults": [{"trackResults": [{}]}]}}', id="bare-track"
        ),
        pytest.param(b'{"errors": ["boom"]}', id="error-not-object"),
        pytest.param(lambda: _mutated(lambda r: r.update(scanEvents="none")), id="scans-str"),
        pytest.param(lambda: _mutated(lambda r: r["scanEvents"].append(3)), id="scan-number"),
        pytest.param(
            lambda: _mutated(lambda r: r["scanEvents"][0].update(date="20/08/2024")), id="bad-date"
        ),
        pytest.param(lambda: _mutated(lambda r: r["scanEvents"][0].pop("date")), id="no-date"),
        pytest.param(
            lambda: _mutated(lambda r: r["dateAndTimes"][0].update(dateTime="yesterday")),
            id="bad-delivery-time",
        ),
        pytest.param(
            lambda: _mutated(
                lambda r: r.update(estimatedDeliveryTimeWindow={"window": {"ends": 5}})
            ),
            id="bad-window",
        ),
    ],
)
def test_fedex_parse_malformed_body_raises_payload_error(body):
    body = body() if callable(body) else body  # built lazily: the sample may be absent
    # given a body that is not FedEx's Track API format
    # when / then
    with pytest.raises(CarrierPayloadError):
        _adapter().parse(body)


# --- fetch: OAuth, batching, documents ------------------------------------------------------


def _token(token: str = "tok-1", expires_in: int = 3599):
    return responses.post(
        TOKEN_URL,
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "client_credentials",
                    "client_id": "fdx-id",
                    "client_secret": "fdx-secret",
                }
            )
        ],
        json={"access_token": token, "token_type": "bearer", "expires_in": expires_in},
    )


def _request_numbers(call) -> list[str]:
    body = json.loads(call.request.body)
    assert body["includeDetailedScans"] is True
    return [info["trackingNumberInfo"]["trackingNumber"] for info in body["trackingInfo"]]


@responses.activate
def test_fedex_fetch_batches_thirty_numbers_per_request_with_one_token(carrier_client):
    # given 31 numbers
    numbers = [f"{index:012d}" for index in range(31)]
    token = _token()
    track = responses.post(
        TRACK_URL,
        match=[
            matchers.header_matcher(
                {"Authorization": "Bearer tok-1", "Content-Type": "application/json"}
            )
        ],
        json={"output": {"completeTrackResults": []}},
    )

    # when
    answers = _adapter().fetch(numbers, client=carrier_client)

    # then
    assert token.call_count == 1 and track.call_count == 2
    assert len(answers) == 2
    assert _request_numbers(responses.calls[1]) == numbers[:30]
    assert _request_numbers(responses.calls[2]) == numbers[30:]
    assert parse_qs(responses.calls[0].request.body)["grant_type"] == ["client_credentials"]


@responses.activate
def test_fedex_fetch_renews_the_token_when_it_expires_or_is_refused(carrier_client):
    # given a token that expires, then one FedEx revokes
    _token("first")
    responses.post(TOKEN_URL, json={"access_token": "second", "expires_in": 3599})
    responses.post(TOKEN_URL, json={"access_token": "third", "expires_in": 3599})
    responses.post(
        TRACK_URL,
        match=[matchers.header_matcher({"Authorization": "Bearer second"})],
        status=401,
        json={"errors": [{"code": "NOT.AUTHORIZED.ERROR", "message": "revoked"}]},
    )
    responses.post(TRACK_URL, json={"output": {"completeTrackResults": []}})
    adapter = _adapter()
    now = [0.0]
    adapter._clock = lambda: now[0]

    # when
    adapter.fetch(["123456789012"], client=carrier_client)
    now[0] += 3600
    adapter.fetch(["123456789012"], client=carrier_client)

    # then first, then second (expired), then third (second refused)
    tokens = [
        c.request.headers.get("Authorization")
        for c in responses.calls
        if c.request.url == TRACK_URL
    ]
    assert tokens == ["Bearer first", "Bearer second", "Bearer third"]


@responses.activate
def test_fedex_fetch_unreadable_token_raises_payload_error(carrier_client):
    # given a cut token answer
    responses.post(TOKEN_URL, body=b'{"access_token": "ab')

    # when / then
    with pytest.raises(CarrierPayloadError):
        _adapter().fetch(["123456789012"], client=carrier_client)


@responses.activate
def test_fedex_track_returns_shipments_and_errors_of_a_batch(carrier_client):
    # given FedEx's example answer for two numbers
    _token()
    responses.post(TRACK_URL, body=_sample("fedex_track_v1_spec_example.json"))

    # when
    result, _answers = _adapter().track(["123456789012", "39936862321"], client=carrier_client)

    # then
    assert [s.tracking_number for s in result.shipments] == ["123456789012"]
    assert [(e.tracking_number, e.code) for e in result.errors] == [("39936862321", "not_found")]


@responses.activate
def test_fedex_fetch_signature_proof_asks_for_the_spod_document(carrier_client):
    # given FedEx's trackingdocuments endpoint
    _token()
    documents = responses.post(
        DOCS_URL,
        match=[
            matchers.json_params_matcher(
                {
                    "trackDocumentDetail": {
                        "documentType": "SIGNATURE_PROOF_OF_DELIVERY",
                        "documentFormat": "PDF",
                    },
                    "trackDocumentSpecification": [
                        {"trackingNumberInfo": {"trackingNumber": "738488882438"}}
                    ],
                }
            )
        ],
        body=_sample("fedex_trackingdocuments_spod.json"),
    )

    # when
    body = _adapter().fetch_signature_proof("738488882438", client=carrier_client)

    # then
    assert documents.call_count == 1
    assert _adapter().parse_documents(body) == ("signature_proof_of_delivery",)


# --- identity -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["738488882438", "041441760228964", "9611020987654312345672", "00001234500000000027"],
)
def test_fedex_matches_its_number_formats(number):
    # given / when / then
    assert _adapter().matches(number)


@pytest.mark.parametrize("number", ["1Z1442YY7229014688", "EW112720413FR", "12345"])
def test_fedex_does_not_match_other_formats(number):
    # given / when / then
    assert not _adapter().matches(number)


def test_fedex_identity_and_tracking_url():
    # given / when
    adapter = _adapter()

    # then
    assert (adapter.slug, adapter.name, adapter.batch_size) == ("fedex", "FedEx", 30)
    assert adapter.tracking_url("738488882438") == (
        "https://www.fedex.com/fedextrack/?trknbr=738488882438"
    )


# --- Answers other projects published (../shared), read as a person reading them would -------
# Through the operators' command, which shows what ingest would conclude (status derived from
# the events, the POD as it stands): per parcel (number, status, substatus, events, last event
# code, signatory; None without a POD), and per error (number, kind).


@pytest.mark.parametrize(
    ("name", "shipments", "errors"),
    [
        pytest.param(
            "fedex/fedex-openapi-1.json",
            [],
            [("", "auth_failed")],
            id="fedex-openapi-1.json",
        ),  # 401 access token expired
        pytest.param(
            "fedex/fedex-openapi-2.json",
            [],
            [("", "auth_failed")],
            id="fedex-openapi-2.json",
        ),  # 403 credentials not authorised
        pytest.param(
            "fedex/fedex-openapi-3.json",
            [],
            [("", "unavailable")],
            id="fedex-openapi-3.json",
        ),  # 503 service unavailable
        pytest.param(
            "fedex/karrio-1.json",
            [],
            [("", "auth_failed")],
            id="karrio-1.json",
        ),  # BAD.REQUEST.ERROR for an invalid JWT
        pytest.param(
            "fedex/omniship-1.json",
            [],
            [("02399989320920003663", "not_found")],
            id="omniship-1.json",
        ),  # NOTFOUND
        pytest.param(
            "fedex/omniship-2.json",
            [("122816215025810", "delivered", "delivered.signed", 5, "DL", "Reciever")],
            [],
            id="omniship-2.json",
        ),  # latestStatusDetail DL beside PU scans
    ],
)
def test_fedex_published_answer_reads_as_a_person_would(capsys, name, shipments, errors):
    # given an answer published by FedEx's OpenAPI, karrio, omniship, saved as a file
    path = external_payload(name)

    # when the operators' command parses it
    call_command("tracking", "parse", "--carrier", "fedex", str(path))

    # then every parcel has the status a reader concludes, and every error its kind
    assert published_reading(json.loads(capsys.readouterr().out)) == (shipments, errors)


def test_fedex_parse_command_of_a_reused_number_keeps_the_most_recent_and_says_so(capsys, tmp_path):
    # given FedEx answering one number with a 2019 shipment and a 2024 one (stale first)
    def result(shipped: str, scan: str, event_type: str) -> dict:
        return {
            "trackingNumberInfo": {"trackingNumber": "794612345678"},
            "dateAndTimes": [{"type": "SHIP", "dateTime": shipped}],
            "scanEvents": [_scan(scan, event_type, "DL" if event_type == "DL" else "IT")],
        }

    body = {
        "output": {
            "completeTrackResults": [
                {
                    "trackingNumber": "794612345678",
                    "trackResults": [
                        result("2019-03-01T10:00:00+01:00", "2019-03-04T11:00:00+01:00", "DL"),
                        result("2024-08-15T10:00:00+02:00", "2024-08-16T08:00:00+02:00", "AR"),
                    ],
                }
            ]
        }
    }
    path = tmp_path / "reused.json"
    path.write_text(json.dumps(body))

    # when the operators' command parses it (it knows no order date)
    call_command("tracking", "parse", "--carrier", "fedex", str(path))
    out = json.loads(capsys.readouterr().out)

    # then one parcel, the 2024 one, and the note naming the choice
    assert [(s["tracking_number"], s["status"]) for s in out["shipments"]] == [
        ("794612345678", "in_transit")
    ]
    assert out["notes"] == [
        "794612345678: FedEx answered 2 shipments (shipped 2019-03-01, 2024-08-15); kept the one "
        "shipped 2024-08-15, the most recent (no order or registration date to compare)"
    ]
