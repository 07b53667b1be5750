import copy
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import responses
from responses import matchers

from tests.support.shared_data import read_carrier_sample, read_external_payload
from tracking.carriers.base import (
    CarrierEvent,
    CarrierPayloadError,
    CarrierRateLimited,
    Location,
    PodData,
    TrackingError,
)
from tracking.carriers.postnl import EVENT_CODES, STATUS_CODES, STATUS_MAP, PostNLAdapter
from tracking.status import result_state

# Our own code table (not from another project) stays beside the tests.
OWN_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "carriers"
BASE_URL = "https://api.postnl.test"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CEST = timezone(timedelta(hours=2))
HOOFDDORP = Location(city="Hoofddorp", postcode="2312WT", country="NL")
NO_PLACE = Location()
NUMBER = "3SDEVC987021270"
STATUS_URL = f"{BASE_URL}/shipment/v2/status/barcode/{NUMBER}"
SIGNATURE_URL = f"{BASE_URL}/shipment/v2/status/signature/{NUMBER}"


def _sample(name: str) -> bytes:
    if name == "postnl_tt_status_codes.json":
        return (OWN_FIXTURES / name).read_bytes()
    return read_carrier_sample(name)


def _delivered() -> dict:
    return copy.deepcopy(json.loads(_sample("postnl_shippingstatus_completestatus_delivered.json")))


def _with_events(*events: tuple[str, str, str], **fields) -> dict:
    """The sample with other events (code, description, timestamp), given newest first."""
    body = _delivered()
    shipment = body["CompleteStatus"]["Shipment"]
    shipment["Event"] = [
        {"Code": c, "Description": d, "LocationCode": "208802", "TimeStamp": t}
        for c, d, t in events
    ]
    shipment.update(fields)
    return body


def _parse_one(body: dict):
    result = _adapter().parse(json.dumps(body).encode())
    assert result.errors == []
    [shipment] = result.shipments
    return shipment


def _adapter(**options) -> PostNLAdapter:
    return PostNLAdapter(base_url=BASE_URL + "/", api_key="postnl-test-key", **options)


def _at(day: int, month: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2019, month, day, hour, minute, second, tzinfo=AMSTERDAM)


# --- parse: the real samples ----------------------------------------------------------------


def test_postnl_parse_complete_status_sample_gives_the_full_normalised_shipment():
    # given PostNL's real CompleteStatus answer (DEVC sandbox parcel, events newest first)
    body = _sample("postnl_shippingstatus_completestatus_delivered.json")

    # when
    result = _adapter().parse(body)

    # then every event, oldest first, in Dutch summer time, the door scans at the receiver
    assert result.errors == []
    [shipment] = result.shipments
    assert shipment.tracking_number == NUMBER
    assert shipment.events == (
        CarrierEvent(
            _at(30, 7, 16, 46, 33),
            "info_received",
            None,
            "A01",
            "Zending wordt verwacht, maar zit nog niet in sorteerproces",
            NO_PLACE,
        ),
        CarrierEvent(
            _at(30, 7, 22, 34, 54), "in_transit", None, "B01", "Zending is bij PostNL", NO_PLACE
        ),
        CarrierEvent(
            _at(31, 7, 7, 59, 56), "in_transit", None, "J01", "Zending is gesorteerd", NO_PLACE
        ),
        CarrierEvent(
            _at(31, 7, 8, 16, 4), "out_for_delivery", None, "J05", "Bezorger is onderweg", HOOFDDORP
        ),
        CarrierEvent(
            _at(31, 7, 9, 36, 42), "delivered", None, "I01", "Zending is bezorgd", HOOFDDORP
        ),
    )
    assert [e.occurred_at.isoformat() for e in shipment.events] == [
        "2019-07-30T16:46:33+02:00",
        "2019-07-30T22:34:54+02:00",
        "2019-07-31T07:59:56+02:00",
        "2019-07-31T08:16:04+02:00",
        "2019-07-31T09:36:42+02:00",
    ]
    # and the ETA window as given, the POD of the delivery (no signature in this answer)
    assert shipment.estimated_delivery == datetime(2019, 7, 31, 13, 15, tzinfo=CEST)
    assert shipment.estimated_delivery_end == datetime(2019, 7, 31, 15, 15, tzinfo=CEST)
    assert shipment.pod == PodData(delivered_at=_at(31, 7, 9, 36, 42))
    assert shipment.pod.as_dict() == {
        "signed_by": "",
        "delivered_at": "2019-07-31T09:36:42+02:00",
        "location_type": "",
        "documents": [],
    }
    assert (result_state(shipment).status, result_state(shipment).delivered_at) == (
        "delivered",
        _at(31, 7, 9, 36, 42),
    )


def test_postnl_parse_signature_sample_names_the_image_without_carrying_it():
    # given the real signature answer (a base64 GIF inline)
    body = _sample("postnl_shippingstatus_signature.json")

    # when
    result = _adapter().parse(body)

    # then a POD with the signature's time (its own +01:00 offset) and the kind "signature"
    assert result.errors == []
    [signed] = result.shipments
    assert signed.tracking_number == "3SDEVC123456789"
    assert signed.events == ()
    assert signed.pod == PodData(
        delivered_at=datetime(2018, 3, 7, 13, 52, 45, tzinfo=timezone(timedelta(hours=1))),
        documents=("signature",),
    )
    assert "R0lGOD" not in json.dumps(signed.pod.as_dict())


# --- parse: the code tables -----------------------------------------------------------------


def test_postnl_status_map_covers_every_code_of_the_postnl_tables():
    # given PostNL's T & T status and event code tables
    table = json.loads(_sample("postnl_tt_status_codes.json"))
    event_codes = {c for codes in table["event_codes_by_status_option"].values() for c in codes}
    status_codes = set(table["status_codes"]) | set(table["status_codes_from_event_table_only"])

    # when / then every code has an explicit mapping (99 says nothing, on purpose)
    assert set(EVENT_CODES) == event_codes
    assert set(STATUS_CODES) == status_codes - {"99"}
    assert set(STATUS_MAP) == set(EVENT_CODES) | set(STATUS_CODES)
    assert len(event_codes) == 287


def test_postnl_status_map_follows_the_groups_of_the_table():
    # given the table's groups
    groups = json.loads(_sample("postnl_tt_status_codes.json"))["event_codes_by_status_option"]

    # when / then the groups land where their meaning says
    assert {EVENT_CODES[c] for c in groups["12 Zending beschikbaar op afhaallocatie"]} == {
        ("available_for_pickup", None)
    }
    assert {EVENT_CODES[c][0] for c in groups["02 Zending in ontvangst genomen"]} == {"in_transit"}
    delivered_group = {EVENT_CODES[c] for c in groups["11 Zending afgeleverd"]}
    assert delivered_group == {
        ("delivered", None),
        ("delivered", "delivered.mailbox"),
        ("delivered", "delivered.locker"),
        ("delivered", "delivered.neighbour"),
        ("delivered", "delivered.front_door"),
        ("delivered", "delivered.pickup_point"),
        ("exception", "exception.returned_to_sender"),
        ("exception", "exception.other"),
        ("available_for_pickup", None),
    }
    assert {EVENT_CODES[c][0] for c in groups["08 Zending niet afgeleverd"]} <= {
        "failed_attempt",
        "exception",
    }
    # and the codes whose text carries the substatus
    assert {
        code: EVENT_CODES[code]
        for code in ("I05", "I10", "I22", "I09", "Y02", "Y03", "Y01", "H20", "J63", "Y71", "X67")
    } == {
        "I05": ("delivered", "delivered.mailbox"),
        "I10": ("delivered", "delivered.neighbour"),
        "I22": ("delivered", "delivered.pickup_point"),
        "I09": ("delivered", "delivered.locker"),
        "Y02": ("failed_attempt", "failed_attempt.recipient_absent"),
        "Y03": ("exception", "exception.refused"),
        "Y01": ("exception", "exception.address_issue"),
        "H20": ("exception", "exception.returning_to_sender"),
        "J63": ("exception", "exception.returned_to_sender"),
        "Y71": ("exception", "exception.lost"),
        "X67": ("exception", "exception.customs"),
    }
    assert STATUS_CODES["7"] == ("out_for_delivery", None)
    assert STATUS_CODES["11"] == ("delivered", None)


# --- parse: the rules around the table ------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "substatus", "location_type", "place"),
    [
        ("I05", "delivered.mailbox", "mailbox", HOOFDDORP),
        ("I10", "delivered.neighbour", "neighbour", HOOFDDORP),
        ("I12", "delivered.front_door", "front_door", HOOFDDORP),
        ("I22", "delivered.pickup_point", "pickup_point", NO_PLACE),
        ("I09", "delivered.locker", "locker", NO_PLACE),
    ],
)
def test_postnl_parse_delivery_code_says_where_the_parcel_was_left(
    code, substatus, location_type, place
):
    # given a delivery scan with a place-specific code
    body = _with_events(
        (code, "Zending is bezorgd", "01-08-2019 11:00:00"),
        ("J05", "Bezorger is onderweg", "01-08-2019 08:00:00"),
    )

    # when
    shipment = _parse_one(body)

    # then
    last = shipment.events[-1]
    assert (last.status, last.substatus, last.location) == ("delivered", substatus, place)
    assert shipment.pod == PodData(delivered_at=_at(1, 8, 11, 0), location_type=location_type)


def test_postnl_parse_returned_parcel_is_a_return_without_pod():
    # given a refusal, the return, and the return delivered to the seller
    body = _with_events(
        ("J63", "Retourzending afgeleverd", "09-08-2019 10:00:00"),
        ("H20", "Zending retour afzender", "05-08-2019 10:00:00"),
        ("Y03", "Zending geweigerd door geadresseerde", "02-08-2019 10:00:00"),
    )

    # when
    shipment = _parse_one(body)

    # then never a delivery to the buyer
    assert [(e.code, e.status, e.substatus) for e in shipment.events] == [
        ("Y03", "exception", "exception.refused"),
        ("H20", "exception", "exception.returning_to_sender"),
        ("J63", "exception", "exception.returned_to_sender"),
    ]
    assert result_state(shipment).substatus == "exception.returned_to_sender"
    assert shipment.pod is None


def test_postnl_parse_unknown_event_code_takes_the_status_stamped_the_same_second():
    # given a code missing from our table, and PostNL's OldStatus at that second says 12
    body = _with_events(("Z99", "Nieuw: in pakketautomaat", "01-08-2019 11:00:00"))
    body["CompleteStatus"]["Shipment"]["OldStatus"] = [
        {"TimeStamp": "01-08-2019 11:00:00", "StatusCode": "12", "PhaseCode": "4"}
    ]
    orphan = _with_events(("Z98", "Iets nieuws", "01-08-2019 12:00:00"))

    # when
    [event] = _parse_one(body).events
    [lonely] = _parse_one(orphan).events

    # then the status code decides; without one, the scan counts as in transit
    assert (event.code, event.status, event.substatus) == ("Z99", "available_for_pickup", None)
    assert (lonely.code, lonely.status) == ("Z98", "in_transit")


def test_postnl_parse_current_status_without_events_uses_the_status_code():
    # given the answer without detail=true (PostNL SDK example: "{}" strings, DeliveryDate)
    body = {
        "CurrentStatus": {
            "Shipment": {
                "MainBarcode": "3SDEVC288882229",
                "Barcode": "3SDEVC288882229",
                "DeliveryDate": "2022-11-08",
                "Address": [
                    {"AddressType": "02", "City": "Hoofddorp", "CountryCode": "NL"},
                    {
                        "AddressType": "01",
                        "City": "Utrecht",
                        "CountryCode": "NL",
                        "Zipcode": "3571ZZ",
                        "Building": "{}",
                    },
                ],
                "Status": {
                    "TimeStamp": "08-11-2022 10:13:20",
                    "StatusCode": "7",
                    "StatusDescription": "Shipment out for delivery",
                    "PhaseCode": "3",
                    "PhaseDescription": "Distribution",
                },
            }
        }
    }

    # when
    shipment = _parse_one(body)

    # then one event from the status, in Dutch winter time, at the receiver's address
    assert shipment.events == (
        CarrierEvent(
            datetime(2022, 11, 8, 10, 13, 20, tzinfo=AMSTERDAM),
            "out_for_delivery",
            None,
            "7",
            "Shipment out for delivery",
            Location(city="Utrecht", postcode="3571ZZ", country="NL"),
        ),
    )
    assert shipment.events[0].occurred_at.isoformat() == "2022-11-08T10:13:20+01:00"
    assert shipment.estimated_delivery == date(2022, 11, 8)
    assert shipment.estimated_delivery_end is None


def test_postnl_parse_history_without_events_reads_the_old_statuses_and_skips_99():
    # given a CompleteStatus without Event (as {}), with OldStatus incl. "niet van toepassing"
    body = _delivered()
    shipment_raw = body["CompleteStatus"]["Shipment"]
    shipment_raw["Event"] = {}
    shipment_raw.pop("Address")  # SmartReturn answers carry no address

    # when
    shipment = _parse_one(body)

    # then the five real statuses, oldest first (hundredths kept), no place
    assert [(e.code, e.status, e.occurred_at) for e in shipment.events] == [
        ("1", "info_received", _at(30, 7, 16, 46, 33)),
        ("2", "in_transit", _at(30, 7, 22, 34, 54)),
        ("5", "in_transit", _at(31, 7, 7, 59, 56)),
        ("7", "out_for_delivery", _at(31, 7, 8, 16, 4)),
        ("11", "delivered", _at(31, 7, 9, 36, 42)),
    ]
    assert {e.location for e in shipment.events} == {NO_PLACE}


def test_postnl_parse_multi_collo_answer_gives_one_shipment_per_parcel():
    # given a Shipment list (one entry per collo)
    body = _delivered()
    first = body["CompleteStatus"]["Shipment"]
    second = copy.deepcopy(first)
    second["Barcode"] = "3SDEVC987021271"
    body["CompleteStatus"]["Shipment"] = [first, second]

    # when
    result = _adapter().parse(json.dumps(body).encode())

    # then
    assert [s.tracking_number for s in result.shipments] == [NUMBER, "3SDEVC987021271"]


def test_postnl_parse_dutch_time_at_the_autumn_change_is_read_in_amsterdam():
    # given a scan in the repeated hour and one after the change
    body = _with_events(
        ("J01", "Zending is gesorteerd", "27-10-2019 03:30:00"),
        ("B01", "Zending is bij PostNL", "27-10-2019 02:30:00"),
    )

    # when
    events = _parse_one(body).events

    # then the first of the two 02:30 (summer time), then 03:30 winter time
    assert [e.occurred_at.isoformat() for e in events] == [
        "2019-10-27T02:30:00+02:00",
        "2019-10-27T03:30:00+01:00",
    ]


# --- parse: error bodies --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error"),
    [
        pytest.param(
            {"Warnings": [{"Message": "Barcode not found.", "Code": "16"}]},
            TrackingError("", "not_found", "Barcode not found. (PostNL 16)"),
            id="warnings",
        ),
        pytest.param(
            {"CompleteStatus": {}, "Warnings": [{"Message": "No shipment found"}]},
            TrackingError("", "not_found", "No shipment found"),
            id="empty-status-with-warning",
        ),
        pytest.param(
            {"Warnings": []},
            TrackingError("", "not_found", "PostNL answered without a shipment"),
            id="empty-warnings",
        ),
        pytest.param(
            {"CompleteStatus": {"Shipment": []}},
            TrackingError("", "not_found", "PostNL answered without a shipment"),
            id="no-shipment",
        ),
        pytest.param(
            {"fault": {"faultstring": "no barcode supplied in path", "detail": {"errorcode": "x"}}},
            TrackingError("", "invalid_number", "no barcode supplied in path"),
            id="fault-barcode",
        ),
        pytest.param(
            {"faultstring": "Invalid request", "detail": {"errorcode": "errorcode6"}},
            TrackingError("", "invalid_request", "Invalid request"),
            id="fault-unwrapped",
        ),
        pytest.param(
            {"fault": {"faultstring": "Invalid ApiKey", "detail": {"errorcode": "oauth.v2.X"}}},
            TrackingError("", "auth_failed", "Invalid ApiKey"),
            id="fault-apikey",
        ),
        pytest.param(
            {
                "message": "Failed to resolve API Key variable 'request.header.apikey'",
                "http_status_code": 401.0,
            },
            TrackingError(
                "", "auth_failed", "Failed to resolve API Key variable 'request.header.apikey'"
            ),
            id="gateway-401",
        ),
        pytest.param(
            {"message": "Too many requests. Rate limit exceeded!", "http_status_code": 429},
            TrackingError("", "rate_limited", "Too many requests. Rate limit exceeded!"),
            id="gateway-429",
        ),
        pytest.param(
            {"message": "Only GET requests allowed", "http_status_code": 405.0},
            TrackingError("", "courier_error", "Only GET requests allowed"),
            id="gateway-405",
        ),
    ],
)
def test_postnl_parse_error_bodies_become_errors_without_a_number(body, error):
    # given a PostNL error or warning body
    # when
    result = _adapter().parse(json.dumps(body).encode())

    # then
    assert result.shipments == []
    assert result.errors == [error]


def _mutated(mutate) -> bytes:
    body = _delivered()
    mutate(body["CompleteStatus"]["Shipment"])
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"<html>Bad Gateway</html>", id="html"),
        pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
        pytest.param(
            _sample("postnl_shippingstatus_completestatus_delivered.json")[:500], id="truncated"
        ),
        pytest.param(b"[1, 2]", id="array"),
        pytest.param(b'{"Something": "else"}', id="unknown-shape"),
        pytest.param(b'{"CompleteStatus": "yes"}', id="status-not-object"),
        pytest.param(b'{"CompleteStatus": {"Shipment": "3S"}}', id="shipment-text"),
        pytest.param(b'{"Signature": ["x"]}', id="signature-list"),
        pytest.param(b'{"Warnings": ["x"]}', id="warning-text"),
        pytest.param(b'{"message": "x", "http_status_code": "many"}', id="gateway-bad-status"),
        pytest.param(_mutated(lambda s: s.pop("Barcode") and s.pop("MainBarcode")), id="no-code"),
        pytest.param(_mutated(lambda s: s.update(Event="A01")), id="event-text"),
        pytest.param(_mutated(lambda s: s["Event"][0].update(TimeStamp="gisteren")), id="bad-ts"),
        pytest.param(
            _mutated(lambda s: s["Event"][0].update(TimeStamp="31-13-2019 09:36:42")),
            id="bad-month",
        ),
        pytest.param(_mutated(lambda s: s["Event"][0].pop("TimeStamp")), id="missing-ts"),
        pytest.param(_mutated(lambda s: s["Event"][0].pop("Code")), id="missing-code"),
        pytest.param(_mutated(lambda s: s["Event"].append(["I01"])), id="event-list"),
        pytest.param(_mutated(lambda s: s["Event"][0].update(Code=["I01"])), id="code-list"),
        pytest.param(_mutated(lambda s: s.update(Expectation={"ETAFrom": "soon"})), id="bad-eta"),
        pytest.param(_mutated(lambda s: s.update(Expectation=[1])), id="eta-list"),
        pytest.param(
            _mutated(lambda s: s.update(DeliveryDate="morgen", Expectation={})),
            id="bad-delivery-date",
        ),
        pytest.param(_mutated(lambda s: s.update(Address=[1])), id="address-number"),
        pytest.param(
            _mutated(lambda s: s.update(Event={}, OldStatus=[{"StatusCode": "1"}])), id="status-ts"
        ),
    ],
)
def test_postnl_parse_malformed_body_raises_payload_error(body):
    # given a body that is not PostNL's format
    # when / then the courier fault, never a KeyError/TypeError/ValueError
    with pytest.raises(CarrierPayloadError):
        _adapter().parse(body)


# --- fetch and track ------------------------------------------------------------------------


@responses.activate
def test_postnl_fetch_sends_one_get_per_barcode_with_the_apikey_header(carrier_client):
    # given two barcodes and the options from settings
    headers = matchers.header_matcher({"apikey": "postnl-test-key", "Accept": "application/json"})
    query = matchers.query_param_matcher({"detail": "true", "language": "EN", "maxDays": "30"})
    first = responses.get(STATUS_URL, match=[headers, query], json={"Warnings": []})
    second = responses.get(
        f"{BASE_URL}/shipment/v2/status/barcode/3SDEVC1234567",
        match=[headers, query],
        json={"Warnings": []},
    )

    # when
    answers = _adapter(language="EN", max_days=30).fetch(
        [NUMBER, "3SDEVC1234567"], client=carrier_client
    )

    # then one request each, in order, answers kept whole
    assert first.call_count == 1 and second.call_count == 1
    assert [a.url for a in answers] == [
        f"{STATUS_URL}?detail=true&language=EN&maxDays=30",
        f"{BASE_URL}/shipment/v2/status/barcode/3SDEVC1234567?detail=true&language=EN&maxDays=30",
    ]


@responses.activate
def test_postnl_track_fetches_the_signature_of_a_delivery_at_the_address(carrier_client):
    # given a delivered parcel (I01) and a signature on file
    status = responses.get(
        STATUS_URL,
        match=[matchers.query_param_matcher({"detail": "true", "language": "NL"})],
        body=_sample("postnl_shippingstatus_completestatus_delivered.json"),
    )
    signature = responses.get(
        SIGNATURE_URL,
        match=[matchers.header_matcher({"apikey": "postnl-test-key"})],
        body=_sample("postnl_shippingstatus_signature.json"),
    )

    # when
    result, answers = _adapter().track([NUMBER], client=carrier_client)

    # then the delivery is signed and the POD names the signature; both raw answers are kept
    assert status.call_count == 1 and signature.call_count == 1
    assert [a.url for a in answers] == [f"{STATUS_URL}?detail=true&language=NL", SIGNATURE_URL]
    assert result.errors == []
    [shipment] = result.shipments
    assert shipment.events[-1].substatus == "delivered.signed"
    assert result_state(shipment).substatus == "delivered.signed"
    assert shipment.pod == PodData(delivered_at=_at(31, 7, 9, 36, 42), documents=("signature",))


@responses.activate
def test_postnl_track_keeps_an_unsigned_delivery_when_no_signature_exists(carrier_client):
    # given a delivered parcel and PostNL has no signature (404 fault)
    responses.get(STATUS_URL, body=_sample("postnl_shippingstatus_completestatus_delivered.json"))
    responses.get(
        SIGNATURE_URL,
        status=404,
        json={"fault": {"faultstring": "No signature", "detail": {"errorcode": "x"}}},
    )

    # when
    result, answers = _adapter().track([NUMBER], client=carrier_client)

    # then
    [shipment] = result.shipments
    assert len(answers) == 2
    assert result_state(shipment).substatus is None
    assert shipment.pod == PodData(delivered_at=_at(31, 7, 9, 36, 42))


@responses.activate
def test_postnl_track_asks_no_signature_for_a_letterbox_delivery(carrier_client):
    # given a letterbox delivery
    body = _with_events(("I05", "Zending is bezorgd in de brievenbus", "01-08-2019 11:00:00"))
    responses.get(STATUS_URL, json=body)
    signature = responses.get(SIGNATURE_URL, json={})

    # when
    result, answers = _adapter().track([NUMBER], client=carrier_client)

    # then
    assert signature.call_count == 0
    assert len(answers) == 1
    assert result.shipments[0].pod.location_type == "mailbox"


@responses.activate
def test_postnl_track_names_warnings_and_faults_with_the_number_asked(carrier_client):
    # given an unknown barcode (HTTP 200 warning) and a malformed one (HTTP 400 fault)
    responses.get(STATUS_URL, json={"Warnings": [{"Message": "Barcode not found.", "Code": "16"}]})
    responses.get(
        f"{BASE_URL}/shipment/v2/status/barcode/3SXX",
        status=400,
        json={"fault": {"faultstring": "Invalid barcode 3SXX", "detail": {"errorcode": "e"}}},
    )

    # when
    result, answers = _adapter().track([NUMBER, "3SXX"], client=carrier_client)

    # then per-number errors, never an exception
    assert [a.status_code for a in answers] == [200, 400]
    assert result.shipments == []
    assert result.errors == [
        TrackingError(NUMBER, "not_found", "Barcode not found. (PostNL 16)"),
        TrackingError("3SXX", "invalid_number", "Invalid barcode 3SXX"),
    ]


@responses.activate
def test_postnl_track_rate_limit_body_raises_rate_limited(carrier_client):
    # given a 429 body that slipped through as an accepted answer (gateway error shape)
    responses.get(
        STATUS_URL,
        status=404,
        json={"message": "Too many requests. Rate limit exceeded!", "http_status_code": 429},
    )

    # when / then
    with pytest.raises(CarrierRateLimited):
        _adapter().track([NUMBER], client=carrier_client)


@responses.activate
def test_postnl_fetch_quotes_barcodes_so_they_cannot_change_the_path(carrier_client):
    # given a barcode with a slash
    route = responses.get(f"{BASE_URL}/shipment/v2/status/barcode/3S%2F..", json={})

    # when
    _adapter().fetch(["3S/.."], client=carrier_client)

    # then
    assert route.call_count == 1


# --- identity -------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["3SDEVC987021270", "3SDEVC123456789", "3SABCD1234567"])
def test_postnl_matches_3s_barcodes(number):
    # given / when / then
    assert _adapter().matches(number)


@pytest.mark.parametrize(
    "number", ["3SDEVC12345678", "3S1234987021270", "3SDEVC9870212701", "EW112720413FR"]
)
def test_postnl_does_not_match_other_formats(number):
    # given / when / then
    assert not _adapter().matches(number)


def test_postnl_identity_and_tracking_url():
    # given / when / then
    adapter = _adapter()
    assert (adapter.slug, adapter.name, adapter.batch_size) == ("postnl", "PostNL", 1)
    assert adapter.tracking_url(NUMBER) == f"https://postnl.nl/tracktrace/?B={NUMBER}"


# --- answers other projects recorded (../shared/external-payloads/postnl, firstred) ----------


def _external(name: str):
    return _adapter().parse(read_external_payload(f"postnl/{name}"))


def _ams(day: int, month: int, year: int, hour: int, minute: int, second: int) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=AMSTERDAM)


def _outline(shipment) -> list[tuple]:
    return [(e.occurred_at, e.code, e.status, e.substatus) for e in shipment.events]


def test_postnl_external_firstred_1_current_status_received():
    # given a CurrentStatus answer: status 2 "Zending in ontvangst genomen" (taken in)
    result = _external("firstred-1.json")

    # then one parcel in transit, from its current status alone
    assert result.errors == []
    [shipment] = result.shipments
    assert shipment.tracking_number == "3SDEVC302392342"
    assert _outline(shipment) == [(_ams(7, 3, 2018, 23, 20, 5), "2", "in_transit", None)]
    assert shipment.pod is None


def test_postnl_external_firstred_2_current_status_delivered_without_signatory():
    # given a CurrentStatus answer: status 11 "Zending afgeleverd", nobody named as signing
    result = _external("firstred-2.json")

    # then delivered, with a POD dated by the status and no signatory
    [shipment] = result.shipments
    assert shipment.tracking_number == "3SABCD987040009"
    assert _outline(shipment) == [(_ams(26, 2, 2021, 12, 54, 8), "11", "delivered", None)]
    assert result_state(shipment).status == "delivered"
    assert shipment.pod == PodData(delivered_at=_ams(26, 2, 2021, 12, 54, 8))


@pytest.mark.parametrize("name", ["firstred-3.json", "firstred-4.json"])
def test_postnl_external_firstred_complete_status_at_postnl(name):
    # given CompleteStatus answers at "Zending is bij PostNL" (firstred-4 has single objects
    # where firstred-3 has lists: Address, Event, OldStatus)
    result = _external(name)

    # then one parcel in transit with the ETA window PostNL gives
    [shipment] = result.shipments
    assert shipment.tracking_number == "3SDEVC123456789"
    expected = [(_ams(7, 3, 2018, 23, 20, 5), "01B", "in_transit", None)]
    if name == "firstred-3.json":
        expected = [
            (_ams(7, 3, 2018, 9, 50, 47), "01A", "info_received", None),
            (_ams(7, 3, 2018, 9, 51, 8), "01A", "info_received", None),
            *expected,
        ]
    assert _outline(shipment) == expected
    assert result_state(shipment).status == "in_transit"
    assert shipment.estimated_delivery == _ams(8, 3, 2018, 11, 30, 0)
    assert shipment.estimated_delivery_end == _ams(8, 3, 2018, 14, 0, 0)
    assert shipment.pod is None


def test_postnl_external_firstred_5_delivered_after_the_round():
    # given a CompleteStatus answer: sorted, out with the driver, "Zending is bezorgd"
    result = _external("firstred-5.json")

    # then delivered at 15:06:53, no signatory named
    [shipment] = result.shipments
    assert shipment.tracking_number == "3SABCD987516327"
    assert _outline(shipment) == [
        (_ams(25, 3, 2021, 9, 30, 58), "J01", "in_transit", None),
        (_ams(25, 3, 2021, 12, 11, 10), "A01", "info_received", None),
        (_ams(26, 3, 2021, 1, 15, 18), "B01", "in_transit", None),
        (_ams(26, 3, 2021, 9, 44, 45), "J05", "out_for_delivery", None),
        (_ams(26, 3, 2021, 15, 6, 53), "01B", "delivered", None),
    ]
    assert result_state(shipment).status == "delivered"
    assert shipment.pod is not None
    assert (shipment.pod.signed_by, shipment.pod.delivered_at) == (
        "",
        _ams(26, 3, 2021, 15, 6, 53),
    )


def test_postnl_external_firstred_6_no_shipment_found():
    # given an empty CurrentStatus with warning 2 "No shipment found"
    result = _external("firstred-6.json")

    # then the number is unknown to PostNL
    assert result.shipments == []
    assert [(e.code, e.message) for e in result.errors] == [
        ("not_found", "No shipment found (PostNL 2)")
    ]
