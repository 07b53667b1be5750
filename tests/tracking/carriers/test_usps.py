import copy
import json
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import responses
from responses import matchers

from tests.support.shared_data import read_carrier_sample, read_external_payload
from tracking.carriers.base import (
    CarrierEvent,
    CarrierPayloadError,
    Location,
    PodData,
    TrackingError,
)
from tracking.carriers.usps import SAMPLE_CODES, STATUS_MAP, UspsAdapter
from tracking.status import result_state

BASE_URL = "https://apis.usps.test"
TOKEN_URL = f"{BASE_URL}/oauth2/v3/token"
NUMBER = "9400109104250532908587"
TRACK_URL = f"{BASE_URL}/tracking/v3/tracking/{NUMBER}"
EST = timezone(timedelta(hours=-5))
CEST = timezone(timedelta(hours=2))


# Pub 199 Appendix scan event codes as transcribed in public code (USPS::WebTools::Tracking::Codes).
PUB_199_CODES = set(
    [
        "01",
        "02",
        "03",
        "04",
        "05",
        "06",
        "07",
        "08",
        "09",
        "10",
        "11",
        "14",
        "15",
        "16",
        "17",
        "19",
        "21",
        "22",
        "23",
        "24",
        "25",
        "26",
        "27",
        "28",
        "29",
        "30",
        "31",
        "41",
        "42",
        "43",
        "44",
        "51",
        "52",
        "53",
        "54",
        "55",
        "56",
        "71",
        "80",
        "81",
        "82",
        "DX",
        "EF",
        "MA",
        "OF",
        "PA",
        "PC",
        "SF",
        "TM",
    ]
)


def _sample(name: str) -> bytes:
    return read_carrier_sample(name)


def _delivered() -> dict:
    return copy.deepcopy(json.loads(_sample("usps_tracking_v3_delivered.json")))


def _adapter() -> UspsAdapter:
    return UspsAdapter(base_url=BASE_URL, client_id="usps-id", client_secret="usps-secret")


def _event(code: str, text: str, local: str = "2024-05-19T10:00:00", **extra) -> dict:
    event = {
        "eventType": text,
        "eventTimestamp": local,
        "GMTOffset": "+02:00",
        "eventCountry": "FRANCE",
        "eventCity": "PARIS",
        "eventState": None,
        "eventZIP": "75015",
        "firm": None,
        "name": None,
        "eventCode": code,
    }
    event.update(extra)
    return event


def _body(*events: dict, **fields) -> bytes:
    """An answer for NUMBER; events given newest first, as USPS lists them."""
    payload = {"trackingNumber": NUMBER, "trackingEvents": list(events)}
    payload.update(fields)
    return json.dumps(payload).encode()


def _parse_one(body: bytes):
    result = _adapter().parse(body)
    assert result.errors == []
    [shipment] = result.shipments
    return shipment


# --- parse: the samples ---------------------------------------------------------------------


def test_usps_parse_delivered_sample_gives_the_full_normalised_shipment():
    # given a real Ground Advantage history delivered to a parcel locker
    body = _sample("usps_tracking_v3_delivered.json")

    # when
    shipment = _parse_one(body)

    # then oldest first, each at its GMT instant shown at its GMTOffset (to the second)
    transit = ("in_transit", None)
    expected = [
        (
            "2024-11-15T11:32:33",
            "GX",
            "Shipping Label Created, USPS Awaiting Item",
            Location("SPRINGFIELD GARDENS", "11413", "US"),
            ("info_received", None),
        ),
        (
            "2024-11-18T11:10:31",
            "03",
            "USPS in possession of item",
            Location("JAMAICA", "11430", "US"),
            transit,
        ),
        (
            "2024-11-18T17:01:35",
            "SF",
            "Departed Post Office",
            Location("JAMAICA", "11430", "US"),
            transit,
        ),
        (
            "2024-11-18T18:02:52",
            "10",
            "Arrived at USPS Regional Origin Facility",
            Location("QUEENS NY DISTRIBUTION CENTER", "", "US"),
            transit,
        ),
        (
            "2024-11-19T06:16:41",
            "T1",
            "Departed USPS Regional Facility",
            Location("QUEENS NY DISTRIBUTION CENTER", "", "US"),
            transit,
        ),
        ("2024-11-19T12:11:23", "TL", "In Transit to Next Facility", Location(), transit),
        ("2024-11-19T18:07:58", "TL", "In Transit to Next Facility", Location(), transit),
        ("2024-11-20T01:11:52", "TL", "In Transit to Next Facility", Location(), transit),
        (
            "2024-11-20T01:13:31",
            "A1",
            "Arrived at USPS Regional Facility",
            Location("JACKSONVILLE FL DISTRIBUTION CENTER", "", "US"),
            transit,
        ),
        (
            "2024-11-22T08:59:45",
            "07",
            "Arrived at Post Office",
            Location("LECANTO", "34461", "US"),
            transit,
        ),
        (
            "2024-11-22T09:10:45",
            "OF",
            "Out for Delivery",
            Location("HERNANDO", "34442", "US"),
            ("out_for_delivery", None),
        ),
        (
            "2024-11-22T13:58:40",
            "01",
            "Delivered, Parcel Locker",
            Location("HERNANDO", "34442", "US"),
            ("delivered", "delivered.locker"),
        ),
    ]
    assert shipment.tracking_number == NUMBER
    assert shipment.events == tuple(
        CarrierEvent(
            datetime.fromisoformat(at).replace(tzinfo=EST), status, substatus, code, text, where
        )
        for at, code, text, where, (status, substatus) in expected
    )
    assert shipment.events[-1].occurred_at.isoformat() == "2024-11-22T13:58:40-05:00"
    # and the POD: no signer (locker), the delivery time, no document (the letter is e-mailed)
    assert shipment.pod == PodData(
        delivered_at=datetime(2024, 11, 22, 13, 58, 40, tzinfo=EST), location_type="locker"
    )
    assert shipment.estimated_delivery is None
    assert result_state(shipment).status == "delivered"


def test_usps_parse_error_spec_example_gives_an_error_without_number():
    # given USPS's OpenAPI error example ("string" placeholders)
    body = _sample("usps_tracking_v3_error_spec_example.json")

    # when / then
    assert _adapter().parse(body).errors == [TrackingError("", "courier_error", "string")]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("404", "not_found"),
        ("400", "invalid_number"),
        ("401", "auth_failed"),
        ("429", "rate_limited"),
    ],
)
def test_usps_parse_error_codes(status, expected):
    # given an error body with that status in its errors list only
    body = json.dumps(
        {"error": {"message": "Nope", "errors": [{"status": status, "detail": "d"}]}}
    ).encode()

    # when / then
    assert _adapter().parse(body).errors == [TrackingError("", expected, "Nope")]


# --- the code table ---------------------------------------------------------------------------


def test_usps_status_map_covers_the_sample_and_pub_199_codes():
    # given the codes of USPS's real answer
    seen = {e["eventCode"] for e in _delivered()["trackingEvents"]}

    # when / then: every code seen is mapped and flagged as coming from the sample
    assert seen == SAMPLE_CODES
    assert set(STATUS_MAP) >= SAMPLE_CODES
    # and Pub 199's return-to-sender reasons and notice-left codes are all there
    returns = {"09", "21", "22", "23", "24", "25", "26", "27", "28", "29", "31"}
    notices = {"02", "52", "53", "54", "55", "56"}
    assert {STATUS_MAP[c] for c in returns} == {("exception", "exception.returning_to_sender")}
    assert {STATUS_MAP[c][0] for c in notices} == {"failed_attempt"}
    # and the table is exactly the sample's codes plus Pub 199's transcribed appendix
    assert set(STATUS_MAP) == SAMPLE_CODES | PUB_199_CODES


@pytest.mark.parametrize(
    ("code", "text", "expected"),
    [
        ("GX", "Shipping Label Created", ("info_received", None)),
        ("OF", "Out for Delivery", ("out_for_delivery", None)),
        ("02", "Notice Left", ("failed_attempt", "failed_attempt.recipient_absent")),
        ("16", "Available for Pickup", ("available_for_pickup", None)),
        ("05", "Undeliverable as Addressed", ("exception", "exception.address_issue")),
        ("04", "Refused", ("exception", "exception.refused")),
        ("11", "Dead Letter", ("exception", "exception.lost")),
        ("43", "Picked Up", ("delivered", "delivered.pickup_point")),
        ("ZZ", "Something new", ("in_transit", None)),
    ],
)
def test_usps_parse_event_code_decides(code, text, expected):
    # given one event
    [event] = _parse_one(_body(_event(code, text))).events

    # when / then
    assert (event.status, event.substatus) == expected


@pytest.mark.parametrize(
    ("text", "substatus", "location_type"),
    [
        ("Delivered, In/At Mailbox", "delivered.mailbox", "mailbox"),
        ("Delivered, Front Door/Porch", "delivered.front_door", "front_door"),
        ("Delivered, Left with Individual", "delivered.signed", ""),
        ("Delivered, Front Desk/Reception/Mail Room", "delivered.signed", "reception"),
        (
            "Delivered, Individual Picked Up at Post Office",
            "delivered.pickup_point",
            "pickup_point",
        ),
        ("Delivered, Neighbor as Requested", "delivered.neighbour", "neighbour"),
        ("Delivered", None, ""),
    ],
)
def test_usps_parse_delivered_text_gives_substatus_and_pod(text, substatus, location_type):
    # given a delivery event
    body = _body(_event("01", text, GMTTimestamp="2024-05-19T08:00:12Z"))

    # when
    shipment = _parse_one(body)

    # then
    assert shipment.events[0].substatus == substatus
    assert shipment.pod == PodData(
        delivered_at=datetime(2024, 5, 19, 10, 0, 12, tzinfo=CEST), location_type=location_type
    )


def test_usps_parse_signer_name_makes_a_signed_pod():
    # given a delivery signed by a named person at a firm
    body = _body(_event("01", "Delivered", name="J SMITH", firm="ACME"))

    # when
    shipment = _parse_one(body)

    # then
    assert shipment.events[0].substatus == "delivered.signed"
    assert shipment.pod.signed_by == "J SMITH"


def test_usps_parse_delivery_to_the_original_sender_is_a_return():
    # given a return delivered back to the sender
    body = _body(
        _event("01", "Delivered, To Original Sender", "2024-05-25T10:00:00"),
        _event("09", "Return to Sender", "2024-05-21T10:00:00"),
    )

    # when
    shipment = _parse_one(body)

    # then
    assert result_state(shipment).substatus == "exception.returned_to_sender"
    assert shipment.pod is None


def test_usps_parse_times_without_gmt_fields():
    # given a local time with an offset only, and one with neither (a Californian scan)
    body = _body(
        _event("07", "Arrived", "2024-05-20T08:00:00"),
        _event(
            "A1",
            "Arrived",
            "2024-05-19T22:00:00",
            GMTOffset=None,
            eventCountry=None,
            eventCity="LOS ANGELES",
            eventState="CA",
            eventZIP="90052",
        ),
    )

    # when
    events = _parse_one(body).events

    # then
    assert [e.occurred_at.isoformat() for e in events] == [
        "2024-05-19T22:00:00-07:00",
        "2024-05-20T08:00:00+02:00",
    ]
    assert events[0].location == Location("LOS ANGELES", "90052", "US")
    assert events[1].location == Location("PARIS", "75015", "FR")


def test_usps_parse_predicted_window():
    # given a predicted date and window, for a Florida destination
    body = _body(
        _event("07", "Arrived"),
        destinationState="FL",
        predictedDeliveryDate="2024-05-21",
        predictedDeliveryWindowStartTime="9:00 am",
        predictedDeliveryWindowEndTime="13:30",
    )

    # when
    shipment = _parse_one(body)

    # then
    edt = timezone(timedelta(hours=-4))
    assert shipment.estimated_delivery == datetime(2024, 5, 21, 9, 0, tzinfo=edt)
    assert shipment.estimated_delivery_end == datetime(2024, 5, 21, 13, 30, tzinfo=edt)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"predictedDeliveryDate": "2024-05-21"}, date(2024, 5, 21)),
        (
            {"expectedDeliveryTimeStamp": "2024-05-21T18:00:00"},
            datetime(2024, 5, 21, 18, 0, tzinfo=CEST),  # naive: the latest scan's offset
        ),
        ({"guaranteedDeliveryTimeStamp": "2024-05-22"}, date(2024, 5, 22)),
    ],
)
def test_usps_parse_estimated_delivery_fallbacks(fields, expected):
    # given / when
    shipment = _parse_one(_body(_event("07", "Arrived"), **fields))

    # then
    assert shipment.estimated_delivery == expected


def _mutated(mutate) -> bytes:
    payload = _delivered()
    mutate(payload)
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"<html>502</html>", id="html"),
        pytest.param(b"\xff", id="not-utf8"),
        pytest.param(_sample("usps_tracking_v3_delivered.json")[:900], id="truncated"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'{"foo": 1}', id="unknown-object"),
        pytest.param(_mutated(lambda p: p.pop("trackingNumber")), id="no-number"),
        pytest.param(_mutated(lambda p: p.update(trackingEvents={})), id="events-object"),
        pytest.param(_mutated(lambda p: p["trackingEvents"].append("x")), id="event-str"),
        pytest.param(
            _mutated(lambda p: p["trackingEvents"][0].update(GMTTimestamp="late")),
            id="bad-gmt",
        ),
        pytest.param(
            _mutated(
                lambda p: p["trackingEvents"][0].update(GMTTimestamp=None, eventTimestamp=None)
            ),
            id="no-time",
        ),
        pytest.param(_mutated(lambda p: p.update(predictedDeliveryDate="soon")), id="bad-edd"),
    ],
)
def test_usps_parse_malformed_body_raises_payload_error(body):
    # given a body that is not USPS's Tracking v3 format
    # when / then
    with pytest.raises(CarrierPayloadError):
        _adapter().parse(body)


# --- fetch ----------------------------------------------------------------------------------


def _token(token: str = "tok-1"):
    return responses.post(
        TOKEN_URL,
        match=[
            matchers.json_params_matcher(
                {
                    "client_id": "usps-id",
                    "client_secret": "usps-secret",
                    "grant_type": "client_credentials",
                }
            )
        ],
        json={"access_token": token, "token_type": "Bearer", "expires_in": 28799},
    )


@responses.activate
def test_usps_fetch_gets_a_token_once_and_tracks_each_number(carrier_client):
    # given two numbers
    token = _token()
    track = responses.get(
        TRACK_URL,
        match=[
            matchers.query_param_matcher({"expand": "DETAIL"}),
            matchers.header_matcher({"Authorization": "Bearer tok-1"}),
        ],
        body=_sample("usps_tracking_v3_delivered.json"),
    )

    # when
    answers = _adapter().fetch([NUMBER, NUMBER], client=carrier_client)

    # then
    assert token.call_count == 1 and track.call_count == 2
    assert answers[0].url == f"{TRACK_URL}?expand=DETAIL"


@responses.activate
def test_usps_fetch_renews_an_expired_or_refused_token(carrier_client):
    # given a token that expires, then one that is refused
    _token("first")
    responses.post(TOKEN_URL, json={"access_token": "second", "expires_in": 28799})
    responses.post(TOKEN_URL, json={"access_token": "third", "expires_in": 28799})
    responses.get(
        TRACK_URL, match=[matchers.header_matcher({"Authorization": "Bearer second"})], status=401
    )
    responses.get(TRACK_URL, body=_sample("usps_tracking_v3_delivered.json"))
    adapter = _adapter()
    now = [0.0]
    adapter._clock = lambda: now[0]

    # when
    adapter.fetch([NUMBER], client=carrier_client)
    now[0] += 28800
    adapter.fetch([NUMBER], client=carrier_client)

    # then
    tokens = [
        c.request.headers["Authorization"]
        for c in responses.calls
        if "tracking/v3" in c.request.url
    ]
    assert tokens == ["Bearer first", "Bearer second", "Bearer third"]


@responses.activate
def test_usps_fetch_unreadable_token_raises_payload_error(carrier_client):
    # given a token answer without expiry
    responses.post(TOKEN_URL, json={"access_token": "t"})

    # when / then
    with pytest.raises(CarrierPayloadError):
        _adapter().fetch([NUMBER], client=carrier_client)


@responses.activate
def test_usps_track_gives_error_bodies_the_number_of_their_request(carrier_client):
    # given a 404 error body for an unknown number
    _token()
    unknown = "9499999999999999999995"
    responses.get(
        f"{BASE_URL}/tracking/v3/tracking/{unknown}",
        status=404,
        json={"error": {"code": "404", "message": "Tracking number not found"}},
    )

    # when
    result, _answers = _adapter().track([unknown], client=carrier_client)

    # then
    assert result.errors == [TrackingError(unknown, "not_found", "Tracking number not found")]


# --- identity -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [NUMBER, "420787459400111206206406260787", "03071790000523483741", "EC123456785US"],
)
def test_usps_matches_its_number_formats(number):
    # given / when / then
    assert _adapter().matches(number)


@pytest.mark.parametrize("number", ["1Z1442YY7229014688", "EW112720413FR", "738488882438"])
def test_usps_does_not_match_other_formats(number):
    # given / when / then
    assert not _adapter().matches(number)


def test_usps_identity_and_tracking_url():
    # given / when
    adapter = _adapter()

    # then
    assert (adapter.slug, adapter.name, adapter.batch_size) == ("usps", "USPS", 1)
    assert adapter.requests_per_second == pytest.approx(1 / 60)
    assert adapter.tracking_url(NUMBER) == (
        f"https://tools.usps.com/go/TrackConfirmAction?tLabels={NUMBER}"
    )


# --- answers other projects recorded (../shared/external-payloads/usps) ----------------------

CST = timezone(timedelta(hours=-6))


def _external(name: str):
    return _adapter().parse(read_external_payload(f"usps/{name}"))


def test_usps_external_omniship_1_delivered_in_the_mailbox():
    # given omniship's answer: label, shipping partner legs, USPS network, mailbox in Milwaukee
    result = _external("omniship-1.json")

    # then 15 scans, delivered in/at the mailbox at 13:10 Central (the GMT instant at the offset
    # USPS gave), nobody named as signing
    assert result.errors == []
    [shipment] = result.shipments
    assert shipment.tracking_number == "9261290289104185136058"
    assert len(shipment.events) == 15
    assert [e.code for e in shipment.events][:2] == ["GX", "81"]
    assert shipment.events[0].status == "info_received"
    assert [(e.code, e.status, e.substatus) for e in shipment.events][-2:] == [
        ("OF", "out_for_delivery", None),
        ("01", "delivered", "delivered.mailbox"),
    ]
    delivered_at = datetime(2024, 11, 23, 13, 10, 9, tzinfo=CST)
    assert shipment.events[-1].occurred_at == delivered_at
    assert shipment.events[-1].location == Location("MILWAUKEE", "53207", "US")
    assert result_state(shipment).status == "delivered"
    assert shipment.pod == PodData(delivered_at=delivered_at, location_type="mailbox")


def test_usps_external_omniship_2_in_transit_with_expected_date():
    result = _external("omniship-2.json")

    [shipment] = result.shipments
    assert shipment.tracking_number == "9202290317456200135409"
    assert [(e.code, e.status) for e in shipment.events] == [
        ("MA", "info_received"),
        ("03", "in_transit"),
        ("SF", "in_transit"),
        ("10", "in_transit"),
    ]
    assert result_state(shipment).status == "in_transit"
    assert shipment.pod is None
    assert shipment.estimated_delivery == datetime(2024, 11, 29, tzinfo=ZoneInfo("America/Chicago"))


def test_usps_external_karrio_2_spec_example_is_read_from_usps_summary():
    # given USPS's OpenAPI example: every field a placeholder ("string") but the summary "Your
    # item was delivered at 12:55 pm on April 05, 2010 in FALMOUTH, MA 02540"
    result = _external("karrio-2.json")

    # then the courier's own summary decides (the scan's code "string" means nothing); the
    # placeholder number is no number (the request's number names it) and "string" no signer
    [shipment] = result.shipments
    assert shipment.tracking_number == ""
    [event] = shipment.events
    assert (event.code, event.status, event.substatus) == ("string", "delivered", None)
    assert event.occurred_at == datetime(2024, 4, 4, 14, 3, 12, 41000, tzinfo=UTC)
    assert shipment.pod == PodData(delivered_at=event.occurred_at)
    assert shipment.estimated_delivery is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # the OAuth gateway refusing our client id/secret
        pytest.param(
            "karrio-1.json",
            TrackingError("", "auth_failed", "Client authentication failed."),
            id="401-invalid-client",
        ),
        # 400 "A status update is not yet available on your package": a label not scanned yet,
        # a real number USPS does not know yet, not an invalid one
        pytest.param("omniship-3.json", "not_found", id="400-not-yet-available"),
    ],
)
def test_usps_external_error_answers_name_the_error(name, expected):
    result = _external(name)

    assert result.shipments == []
    [error] = result.errors
    if isinstance(expected, TrackingError):
        assert error == expected
    else:
        assert (error.tracking_number, error.code) == ("", expected)
        assert error.message.startswith("12: A status update is not yet available")


# --- USPS times in the event's zone -----------------------------------------------------------


def _one_event(**place) -> CarrierEvent:
    body = {
        "trackingNumber": NUMBER,
        "trackingEvents": [
            {
                "eventType": "Arrived at USPS Regional Facility",
                "eventCode": "10",
                "eventTimestamp": "2024-07-01T10:00:00",
                **place,
            }
        ],
    }
    [shipment] = _adapter().parse(json.dumps(body).encode()).shipments
    [event] = shipment.events
    return event


@pytest.mark.parametrize(
    ("place", "zone"),
    [
        pytest.param(
            {"eventState": "CA", "eventCity": "LOS ANGELES"}, "America/Los_Angeles", id="CA"
        ),
        # Arizona keeps standard time all year: 10:00 in July is UTC-7, not UTC-6
        pytest.param({"eventState": "AZ", "eventCity": "PHOENIX"}, "America/Phoenix", id="AZ"),
        pytest.param({"eventState": "HI", "eventCity": "HONOLULU"}, "Pacific/Honolulu", id="HI"),
        pytest.param({"eventState": "IL", "eventCity": "CHICAGO"}, "America/Chicago", id="IL"),
        # a ZIP without a state: the ZIP's state (San Francisco)
        pytest.param({"eventZIP": "94107"}, "America/Los_Angeles", id="ZIP-only"),
        # a state split by a zone line: the ZIP says which side (El Paso is Mountain time)
        pytest.param({"eventState": "TX", "eventZIP": "79901"}, "America/Denver", id="TX-El-Paso"),
        pytest.param({"eventState": "TX", "eventZIP": "75201"}, "America/Chicago", id="TX-Dallas"),
        pytest.param({"eventState": "Arizona"}, "America/Phoenix", id="state-name"),
        # no place at all: New York, USPS's fallback
        pytest.param({}, "America/New_York", id="no-location"),
    ],
)
def test_usps_offsetless_time_is_read_in_the_events_zone(place, zone):
    # given a scan at 10:00 local time without GMTOffset
    # when
    event = _one_event(**place)

    # then it is 10:00 in the zone of the place it happened
    expected = datetime(2024, 7, 1, 10, 0, tzinfo=ZoneInfo(zone))
    assert event.occurred_at == expected
    assert event.occurred_at.utcoffset() == expected.utcoffset()


def test_usps_offsetless_time_in_arizona_and_hawaii_ignores_daylight_saving():
    # given the same 10:00 scan in January and July
    def at(month: int, state: str) -> datetime:
        body = {
            "trackingNumber": NUMBER,
            "trackingEvents": [
                {"eventCode": "10", "eventType": "Arrived", "eventState": state,
                 "eventTimestamp": f"2024-{month:02d}-01T10:00:00"}
            ],
        }  # fmt: skip
        return _adapter().parse(json.dumps(body).encode()).shipments[0].events[0].occurred_at

    # then Arizona and Hawaii stay on one offset; California moves
    assert at(1, "AZ").utcoffset() == at(7, "AZ").utcoffset() == timedelta(hours=-7)
    assert at(1, "HI").utcoffset() == at(7, "HI").utcoffset() == timedelta(hours=-10)
    assert (at(1, "CA").utcoffset(), at(7, "CA").utcoffset()) == (
        timedelta(hours=-8),
        timedelta(hours=-7),
    )
