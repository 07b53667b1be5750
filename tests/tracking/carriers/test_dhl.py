import copy
import json
from datetime import UTC, datetime, timedelta, timezone

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
from tracking.carriers.dhl import DhlAdapter
from tracking.status import result_state

BASE_URL = "https://api-eu.dhl.test"
CET = timezone(timedelta(hours=1))
CEST = timezone(timedelta(hours=2))
AMSTERDAM_OFFICE = Location(city="AMSTERDAM", postcode="1043 AG", country="NL")


def _sample(name: str) -> bytes:
    return read_carrier_sample(name)


def _spec_example() -> dict:
    return copy.deepcopy(json.loads(_sample("dhl_unified_spec_example.json")))


def _adapter() -> DhlAdapter:
    return DhlAdapter(base_url=BASE_URL, api_key="dhl-test-key")


def _event(
    timestamp: str,
    status_code: str,
    status: str = "",
    description: str = "",
    *,
    country: str = "DE",
    locality: str = "Bonn",
    postcode: str = "53113",
) -> dict:
    address = {"countryCode": country, "postalCode": postcode, "addressLocality": locality}
    return {
        "timestamp": timestamp,
        "location": {"address": address},
        "statusCode": status_code,
        "status": status,
        "description": description,
    }


def _body(*events: dict, pod: dict | None = None, **shipment_fields) -> bytes:
    """A parcel-de style answer; events given newest first, as DHL lists them."""
    shipment = {
        "id": "00340434161094042557",
        "service": "parcel-de",
        "destination": {"address": {"countryCode": "DE"}},
        "events": list(events),
        "details": {"proofOfDelivery": pod} if pod else {},
    }
    shipment.update(shipment_fields)
    return json.dumps({"shipments": [shipment]}).encode()


def _parse_one(body: bytes):
    result = _adapter().parse(body)
    assert result.errors == []
    [shipment] = result.shipments
    return shipment


# --- parse: the samples ---------------------------------------------------------------------


def test_dhl_parse_spec_example_gives_the_full_normalised_shipment():
    # given DHL's own OpenAPI example (values inconsistent on purpose: statusCode pre-transit,
    # status text "DELIVERED", and yet a proofOfDelivery block)
    body = _sample("dhl_unified_spec_example.json")

    # when
    result = _adapter().parse(body)

    # then the statusCode rules: a pre-transit scan, read in Amsterdam's winter time
    assert result.errors == []
    [shipment] = result.shipments
    assert shipment.tracking_number == "7777777770"  # a JSON number in the example
    assert shipment.events == (
        CarrierEvent(
            occurred_at=datetime(2018, 3, 2, 7, 53, 47, tzinfo=CET),
            status="info_received",
            substatus=None,
            code="pre-transit",
            message="DELIVERED - JESSICA",
            location=AMSTERDAM_OFFICE,  # "Oderweg 2, AMSTERDAM": street dropped
        ),
    )
    assert shipment.events[0].occurred_at.isoformat() == "2018-03-02T07:53:47+01:00"
    assert shipment.estimated_delivery == datetime(2018, 8, 3, 0, 0, tzinfo=UTC)
    assert shipment.estimated_delivery_end == datetime(2018, 8, 3, 22, 0, tzinfo=UTC)
    # and no POD: the parcel is not delivered, whatever block DHL sends along
    assert shipment.pod is None
    assert result_state(shipment).status == "info_received"


def test_dhl_parse_spec_example_once_delivered_gives_the_signed_pod():
    # given the same example with the scan saying what its text says: delivered
    payload = _spec_example()
    payload["shipments"][0]["events"][0]["statusCode"] = "delivered"

    # when
    shipment = _parse_one(json.dumps(payload).encode())

    # then the POD keeps the signatory, its time, and only the real document URL
    [event] = shipment.events
    assert (event.status, event.substatus) == ("delivered", "delivered.signed")
    assert shipment.pod == PodData(
        delivered_at=datetime(2018, 9, 5, 16, 33, tzinfo=UTC),
        signed_by="John Doe",
        location_type="",
        documents=("https://webpod.dhl.com/webPOD/DHLePODRequest",),  # "string" dropped
    )
    assert shipment.pod.as_dict() == {
        "signed_by": "John Doe",
        "delivered_at": "2018-09-05T16:33:00+00:00",
        "location_type": "",
        "documents": ["https://webpod.dhl.com/webPOD/DHLePODRequest"],
    }


def test_dhl_parse_not_found_sample_gives_a_per_number_error():
    # given the RFC-7807 problem DHL answers for an unknown number
    body = _sample("dhl_unified_error_404.json")

    # when
    result = _adapter().parse(body)

    # then the number comes from "instance"
    assert result.shipments == []
    assert result.errors == [
        TrackingError(
            tracking_number="8264715546",
            code="not_found",
            message="No shipment with given tracking number found.",
        )
    ]


def test_dhl_parse_unauthorised_problem_reports_auth_failed_for_no_number():
    # given the problem body of a 401 (an operator runs `tracking parse` on it)
    body = json.dumps(
        {"status": 401, "title": "Unauthorized", "detail": "Unauthorized for given resource."}
    ).encode()

    # when
    result = _adapter().parse(body)

    # then
    assert result.errors == [
        TrackingError(
            tracking_number="", code="auth_failed", message="Unauthorized for given resource."
        )
    ]


def test_dhl_parse_rate_limit_problem_lands_in_errors():
    # given a 429 problem body parsed offline
    body = json.dumps({"status": 429, "title": "Too many requests"}).encode()

    # when / then
    assert _adapter().parse(body).errors == [TrackingError("", "rate_limited", "Too many requests")]


# --- parse: statuses from codes and text ----------------------------------------------------


def test_dhl_parse_parcel_de_timeline_sorted_oldest_first_with_local_times():
    # given a German parcel-de history: naive local times, newest first, German texts
    body = _body(
        _event(
            "2023-07-04T10:12:00",
            "delivered",
            "Die Sendung wurde erfolgreich zugestellt.",
            "Die Sendung wurde erfolgreich zugestellt.",
        ),
        _event(
            "2023-07-04T07:30:00",
            "transit",
            "Die Sendung wurde in das Zustellfahrzeug geladen.",
        ),
        _event(
            "2023-07-03T21:05:00+02:00",
            "transit",
            "Die Sendung wurde im Start-Paketzentrum bearbeitet.",
            locality="Deutschland",
            country="",
            postcode="",
        ),
        _event(
            "2023-07-03T15:00:00Z",
            "pre-transit",
            "Die Auftragsdaten zu dieser Sendung wurden vom Absender elektronisch an DHL "
            "übermittelt.",
            locality="",
            country="",
            postcode="",
        ),
    )

    # when
    shipment = _parse_one(body)

    # then
    assert shipment.tracking_number == "00340434161094042557"
    assert [
        (e.occurred_at.isoformat(), e.status, e.substatus, e.code, e.location)
        for e in shipment.events
    ] == [
        ("2023-07-03T15:00:00+00:00", "info_received", None, "pre-transit", Location()),
        # "Deutschland" is a country, not a city
        ("2023-07-03T21:05:00+02:00", "in_transit", None, "transit", Location(country="DE")),
        (
            "2023-07-04T07:30:00+02:00",  # naive, read in Berlin summer time
            "out_for_delivery",
            None,
            "transit",
            Location("Bonn", "53113", "DE"),
        ),
        (
            "2023-07-04T10:12:00+02:00",
            "delivered",
            None,
            "delivered",
            Location("Bonn", "53113", "DE"),
        ),
    ]
    # and a repeated status/description shows once
    assert shipment.events[-1].message == "Die Sendung wurde erfolgreich zugestellt."
    assert shipment.pod is None  # delivered, but parcel-de gives no proofOfDelivery block
    assert result_state(shipment).status == "delivered"


@pytest.mark.parametrize(
    "text",
    [
        "Shipment is out for delivery",
        "With delivery courier",
        "Die Sendung wurde in das Zustellfahrzeug geladen.",
    ],
)
def test_dhl_parse_transit_text_says_out_for_delivery(text):
    # given a transit scan whose text says it left with the courier
    body = _body(_event("2023-07-04T07:30:00+02:00", "transit", text))

    # when
    [event] = _parse_one(body).events

    # then
    assert (event.status, event.substatus) == ("out_for_delivery", None)


@pytest.mark.parametrize(
    ("text", "status", "substatus"),
    [
        ("Delivered", "delivered", None),
        ("Delivered to a DHL Packstation", "delivered", "delivered.locker"),
        ("Die Sendung wurde in der Filiale abgeholt.", "delivered", "delivered.pickup_point"),
        ("Delivered to DHL ServicePoint", "delivered", "delivered.pickup_point"),
        ("Die Sendung wurde in den Briefkasten zugestellt.", "delivered", "delivered.mailbox"),
        ("Delivered to neighbour", "delivered", "delivered.neighbour"),
        ("Die Sendung wurde beim Nachbarn zugestellt.", "delivered", "delivered.neighbour"),
        ("Returned to sender", "exception", "exception.returned_to_sender"),
        (
            "Die Sendung wurde an den Absender zugestellt.",
            "exception",
            "exception.returned_to_sender",
        ),
    ],
)
def test_dhl_parse_delivered_substatus_comes_from_the_text(text, status, substatus):
    # given a delivered scan without proofOfDelivery
    body = _body(_event("2023-07-04T10:12:00+02:00", "delivered", text))

    # when
    [event] = _parse_one(body).events

    # then
    assert (event.status, event.substatus) == (status, substatus)


def test_dhl_parse_neighbour_delivery_gives_pod_location_type():
    # given a delivery to a neighbour with a proofOfDelivery (no signatory, placeholder URL)
    body = _body(
        _event("2023-07-04T10:12:00+02:00", "delivered", "Delivered to neighbour"),
        pod={"timestamp": "2023-07-04T10:12:00+02:00", "signatureUrl": "string"},
    )

    # when
    shipment = _parse_one(body)

    # then
    assert shipment.pod == PodData(
        delivered_at=datetime(2023, 7, 4, 10, 12, tzinfo=CEST),
        signed_by="",
        location_type="neighbour",
        documents=(),
    )


def test_dhl_parse_pod_without_timestamp_takes_the_delivery_scan_time_and_single_name():
    # given a proofOfDelivery with only a signatory name
    body = _body(
        _event("2023-07-04T10:12:00", "delivered", "Delivered"),
        pod={"signed": {"@type": "Person", "name": "MEIER"}, "documentUrl": "http://pod.example/1"},
    )

    # when
    shipment = _parse_one(body)

    # then
    assert shipment.events[0].substatus == "delivered.signed"
    assert shipment.pod == PodData(
        delivered_at=datetime(2023, 7, 4, 10, 12, tzinfo=CEST),
        signed_by="MEIER",
        documents=("http://pod.example/1",),
    )


@pytest.mark.parametrize(
    ("text", "status", "substatus"),
    [
        ("Delivery not possible", "exception", "exception.other"),
        ("Recipient not at home", "failed_attempt", "failed_attempt.recipient_absent"),
        (
            "Der Empfänger wurde nicht angetroffen.",
            "failed_attempt",
            "failed_attempt.recipient_absent",
        ),
        ("Address incorrect", "exception", "exception.address_issue"),
        (
            "Recipient not available at the address",
            "failed_attempt",
            "failed_attempt.recipient_absent",
        ),
        ("Die Anschrift des Empfängers war unvollständig.", "exception", "exception.address_issue"),
        ("Acceptance refused by recipient", "exception", "exception.refused"),
        ("Die Annahme wurde verweigert.", "exception", "exception.refused"),
        ("Shipment damaged", "exception", "exception.damaged"),
        ("Held by customs", "exception", "exception.customs"),
        (
            "Address unknown, shipment is being returned to sender",
            "exception",
            "exception.returning_to_sender",
        ),
    ],
)
def test_dhl_parse_failure_substatus_comes_from_the_text(text, status, substatus):
    # given a failure scan
    body = _body(_event("2023-07-04T10:12:00+02:00", "failure", text))

    # when
    [event] = _parse_one(body).events

    # then
    assert (event.status, event.substatus) == (status, substatus)


def test_dhl_parse_unknown_scan_keeps_the_previous_status():
    # given an "unknown" scan after an out-for-delivery one, and one before anything else
    body = _body(
        _event("2023-07-04T11:00:00+02:00", "unknown", "Sendungsinformation aktualisiert"),
        _event("2023-07-04T07:30:00+02:00", "transit", "Out for delivery"),
        _event("2023-07-03T07:30:00+02:00", "unknown", "Information"),
    )

    # when
    events = _parse_one(body).events

    # then the first unknown is in transit (nothing before it), the later one keeps OFD
    assert [(e.code, e.status, e.substatus) for e in events] == [
        ("unknown", "in_transit", None),
        ("transit", "out_for_delivery", None),
        ("unknown", "out_for_delivery", None),
    ]


def test_dhl_parse_shipment_without_events_uses_its_current_status():
    # given an answer that only has the shipment-level status
    status = _event("2023-07-04T07:30:00Z", "transit", "In transit", locality="LEIPZIG - GERMANY")
    body = _body(status=status)

    # when
    [event] = _parse_one(body).events

    # then, with the Express "CITY - COUNTRY" locality reduced to the city
    assert event == CarrierEvent(
        datetime(2023, 7, 4, 7, 30, tzinfo=UTC),
        "in_transit",
        None,
        "transit",
        "In transit",
        Location("LEIPZIG", "53113", "DE"),
    )


def test_dhl_parse_drops_a_leading_postcode_from_the_locality():
    # given a locality written with its postcode
    body = _body(_event("2023-07-04T07:30:00Z", "transit", "x", locality="53113 Bonn"))

    # when / then
    assert _parse_one(body).events[0].location == Location("Bonn", "53113", "DE")


def test_dhl_parse_naive_edd_is_read_in_the_destination_zone():
    # given an EDD without offset for a German destination
    body = _body(
        _event("2023-07-03T07:30:00+02:00", "transit", "x"),
        estimatedTimeOfDelivery="2023-07-05T10:00:00",
        estimatedDeliveryTimeFrame={"estimatedThrough": "2023-07-05T14:00:00"},
    )

    # when
    shipment = _parse_one(body)

    # then
    assert shipment.estimated_delivery == datetime(2023, 7, 5, 10, 0, tzinfo=CEST)
    assert shipment.estimated_delivery_end == datetime(2023, 7, 5, 14, 0, tzinfo=CEST)


def _spec_mutated(mutate) -> bytes:
    payload = _spec_example()
    mutate(payload)
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"<html>502 Bad Gateway</html>", id="html"),
        pytest.param(b"\xff\xfe\x00", id="not-utf8"),
        pytest.param(lambda: _sample("dhl_unified_spec_example.json")[:500], id="truncated"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'{"foo": 1}', id="unknown-object"),
        pytest.param(b'{"status": "404", "title": "No result"}', id="problem-status-text"),
        pytest.param(b'{"shipments": {}}', id="shipments-not-list"),
        pytest.param(b'{"shipments": ["7777777770"]}', id="shipment-not-object"),
        pytest.param(lambda: _spec_mutated(lambda p: p["shipments"][0].pop("id")), id="no-id"),
        pytest.param(
            lambda: _spec_mutated(lambda p: p["shipments"][0].update(events="none")),
            id="events-str",
        ),
        pytest.param(
            lambda: _spec_mutated(
                lambda p: p["shipments"][0]["events"][0].update(timestamp="today")
            ),
            id="bad-timestamp",
        ),
        pytest.param(
            lambda: _spec_mutated(lambda p: p["shipments"][0]["events"][0].pop("timestamp")),
            id="no-timestamp",
        ),
        pytest.param(
            lambda: _spec_mutated(lambda p: p["shipments"][0]["events"].append(42)),
            id="event-number",
        ),
        pytest.param(
            lambda: _spec_mutated(
                lambda p: p["shipments"][0].update(estimatedTimeOfDelivery="soon")
            ),
            id="bad-edd",
        ),
    ],
)
def test_dhl_parse_malformed_body_raises_payload_error(body):
    body = body() if callable(body) else body  # built lazily: the sample may be absent
    # given a body that is neither DHL's shipments nor a problem description
    # when / then
    with pytest.raises(CarrierPayloadError):
        _adapter().parse(body)


# --- fetch and track ------------------------------------------------------------------------


@responses.activate
def test_dhl_fetch_sends_one_request_per_number_with_the_api_key(carrier_client):
    # given two numbers: the API takes one per request
    headers = matchers.header_matcher({"DHL-API-Key": "dhl-test-key", "Accept": "application/json"})
    found = responses.get(
        f"{BASE_URL}/track/shipments",
        match=[headers, matchers.query_param_matcher({"trackingNumber": "7777777770"})],
        body=_sample("dhl_unified_spec_example.json"),
    )
    unknown = responses.get(
        f"{BASE_URL}/track/shipments",
        match=[headers, matchers.query_param_matcher({"trackingNumber": "8264715546"})],
        body=_sample("dhl_unified_error_404.json"),
        status=404,
    )

    # when
    result, answers = _adapter().track(["7777777770", "8264715546"], client=carrier_client)

    # then
    assert found.call_count == 1 and unknown.call_count == 1
    assert [a.url for a in answers] == [
        f"{BASE_URL}/track/shipments?trackingNumber=7777777770",
        f"{BASE_URL}/track/shipments?trackingNumber=8264715546",
    ]
    assert [s.tracking_number for s in result.shipments] == ["7777777770"]
    assert result.errors == [
        TrackingError("8264715546", "not_found", "No shipment with given tracking number found.")
    ]


@responses.activate
def test_dhl_track_reports_a_number_the_answer_does_not_name(carrier_client):
    # given a piece number asked, and DHL answering with the waybill's id
    responses.get(f"{BASE_URL}/track/shipments", body=_sample("dhl_unified_spec_example.json"))

    # when
    result, _answers = _adapter().track(["JJD014600006281230704"], client=carrier_client)

    # then the shipment is kept and the asked number flagged for an agent
    assert [s.tracking_number for s in result.shipments] == ["7777777770"]
    assert result.errors == [
        TrackingError(
            "JJD014600006281230704", "not_returned", "The courier's answer did not mention it"
        )
    ]


# --- identity -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "3318810025",  # Express waybill
        "73891051146",  # Express, 11 digits
        "JJD0099999999",  # Express piece id
        "JVGL0999999990",
        "JJD000390007777777777",  # DHL Paket licence plate
        "123456789012",  # parcel-de, 12 digits
        "00340434161094042557",  # parcel-de, 20 digits
        "60120172242323",  # eCommerce, 14 digits
        "GM2951173225174494",
        "GM9E44608A27984866BA2D",
    ],
)
def test_dhl_matches_its_number_formats(number):
    # given / when / then
    assert _adapter().matches(number)


@pytest.mark.parametrize(
    "number",
    ["EW112720413FR", "XJD0099999998", "GS295117494011169041", "AAAAAAAAAAAAAAAAAA", "123"],
)
def test_dhl_does_not_match_other_formats(number):
    # given / when / then
    assert not _adapter().matches(number)


def test_dhl_tracking_url_points_to_the_public_page():
    # given / when / then
    assert _adapter().tracking_url("7777777770") == (
        "https://www.dhl.com/fr-fr/home/tracking.html?tracking-id=7777777770"
    )
    assert (_adapter().slug, _adapter().name, _adapter().batch_size) == ("dhl", "DHL", 1)


def test_dhl_parse_delivery_vehicle_text_is_out_for_delivery():
    # given a transit scan whose only hint is DHL's English "delivery vehicle" wording
    body = {
        "shipments": [
            {
                "id": "1234567890",
                "status": {
                    "timestamp": "2024-05-19T08:00:00+02:00",
                    "statusCode": "transit",
                    "status": "transit",
                    "description": "The shipment has been loaded onto the delivery vehicle",
                },
                "events": [
                    {
                        "timestamp": "2024-05-19T08:00:00+02:00",
                        "statusCode": "transit",
                        "status": "transit",
                        "description": "The shipment has been loaded onto the delivery vehicle",
                    }
                ],
            }
        ]
    }
    # when
    [shipment] = DhlAdapter(base_url="https://dhl.test").parse(json.dumps(body).encode()).shipments
    # then
    assert [e.status for e in shipment.events] == ["out_for_delivery"]


# --- Answers other projects published (../shared), read as a person reading them would -------
# Through the operators' command, which shows what ingest would conclude (status derived from
# the events, the POD as it stands): per parcel (number, status, substatus, events, last event
# code, signatory; None without a POD), and per error (number, kind).


@pytest.mark.parametrize(
    ("name", "shipments", "errors"),
    [
        pytest.param(
            "dhl/superface-1.json",
            [("00340434292135100148", "info_received", None, 1, "pre-transit", None)],
            [],
            id="superface-1.json",
        ),  # instruction data only
        pytest.param(
            "dhl/superface-2.json",
            [],
            [("", "not_found")],
            id="superface-2.json",
        ),  # 404 No shipment found
    ],
)
def test_dhl_published_answer_reads_as_a_person_would(capsys, name, shipments, errors):
    # given an answer published by superface station, saved as a file
    path = external_payload(name)

    # when the operators' command parses it
    call_command("tracking", "parse", "--carrier", "dhl", str(path))

    # then every parcel has the status a reader concludes, and every error its kind
    assert published_reading(json.loads(capsys.readouterr().out)) == (shipments, errors)
