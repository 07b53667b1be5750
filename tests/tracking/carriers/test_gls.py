import base64
import copy
import json
import re
import threading
from datetime import datetime, timedelta, timezone

import pytest
import responses
from django.core.management import call_command
from responses import matchers

from tests.support.concurrency import ContendedSection
from tests.support.shared_data import external_payload, published_reading, read_carrier_sample
from tracking.carriers.base import (
    CarrierAuthError,
    CarrierEvent,
    CarrierPayloadError,
    CarrierRateLimited,
    Location,
    PodData,
    TrackingError,
    TrackingResult,
)
from tracking.carriers.gls import (
    FAMILY_STATUS_MAP,
    PARCEL_STATUS_MAP,
    STATUS_MAP,
    GlsAdapter,
)
from tracking.status import result_state

BASE_URL = "https://api.gls.test"
TRACK_URL = f"{BASE_URL}/track-and-trace-v1/tracking/simple/trackids"
TOKEN_URL = f"{BASE_URL}/oauth2/v2/token"
CET = timezone(timedelta(hours=1))
CEST = timezone(timedelta(hours=2))
GERMANY = Location(country="DE")
BASIC = "Basic " + base64.b64encode(b"gls-id:gls-secret").decode()


def _sample(name: str) -> bytes:
    return read_carrier_sample(name)


def _vocabulary() -> dict:
    return json.loads(_sample("gls_track_and_trace_v1_vocabulary.json"))


def _adapter() -> GlsAdapter:
    return GlsAdapter(base_url=BASE_URL + "/", client_id="gls-id", client_secret="gls-secret")


def _parcel(*events: tuple[str, str, str], number: str = "36301917596", **fields) -> bytes:
    """A parcels answer; events are (code, description, eventDateTime), newest first."""
    parcel = {
        "requested": number,
        "unitno": number,
        "status": "INTRANSIT",
        "statusDateTime": events[0][2] if events else "2024-10-11T15:24:57+0200",
        "events": [
            {
                "code": code,
                "city": "Neuenstein",
                "postalCode": "36286",
                "country": "DE",
                "description": text,
                "eventDateTime": when,
            }
            for code, text, when in events
        ],
    }
    parcel.update(fields)
    return json.dumps({"parcels": [parcel]}).encode()


def _parse_one(body: bytes) -> TrackingResult:
    result = _adapter().parse(body)
    assert result.errors == []
    [shipment] = result.shipments
    return shipment


def _token_reply(token: str = "token-1", expires_in: object = 14400) -> dict:
    return {"token_type": "Bearer", "access_token": token, "expires_in": expires_in}


# --- parse: the samples ---------------------------------------------------------------------


def test_gls_parse_in_transit_sample_gives_the_full_normalised_parcel():
    # given the karrio in-transit answer (newest first, "+0200" offsets without colon)
    body = _sample("gls_track_and_trace_v1_in_transit.json")

    # when
    shipment = _parse_one(body)

    # then
    assert shipment == TrackingResult(
        tracking_number="36301917596",
        events=(
            CarrierEvent(
                occurred_at=datetime(2024, 10, 7, 9, 30, tzinfo=CEST),
                status="info_received",
                substatus=None,
                code="INTIAL.PREADVICE",
                message="The parcel data was entered into the GLS IT system.",
                location=GERMANY,
            ),
            CarrierEvent(
                occurred_at=datetime(2024, 10, 7, 10, 46, 14, tzinfo=CEST),
                status="in_transit",
                substatus=None,
                code="INTIAL.NORMAL",
                message="The parcel was handed over to GLS.",
                location=Location("Berlin", "10437", "DE"),
            ),
        ),
        estimated_delivery=None,
        estimated_delivery_end=None,
        pod=None,
    )
    assert [e.occurred_at.isoformat() for e in shipment.events] == [
        "2024-10-07T09:30:00+02:00",
        "2024-10-07T10:46:14+02:00",
    ]
    assert result_state(shipment).status == "in_transit"


def test_gls_parse_preadvice_plus_not_found_sample_gives_a_parcel_and_an_error():
    # given GLS's "200WithErrors" example: one unknown number, one pre-advised parcel
    body = _sample("gls_track_and_trace_v1_preadvice_plus_not_found.json")

    # when
    result = _adapter().parse(body)

    # then
    assert result.errors == [TrackingError("42249018928", "not_found", "Resource Not Found")]
    [shipment] = result.shipments
    assert shipment.tracking_number == "36301917596"
    assert shipment.events == (
        CarrierEvent(
            datetime(2024, 10, 11, 15, 24, 51, tzinfo=CEST),
            "info_received",
            None,
            "INTIAL.PREADVICE",
            "The parcel data was entered into the GLS IT system; the parcel was not yet handed "
            "over to GLS.",
            GERMANY,
        ),
        CarrierEvent(
            datetime(2024, 10, 11, 15, 24, 52, tzinfo=CEST),
            "info_received",
            None,
            "INTIAL.E48_DATA",
            "The parcel was provided by the sender for collection by GLS.",
            GERMANY,
        ),
    )
    assert shipment.pod is None
    assert shipment.estimated_delivery is None


def test_gls_parse_delivered_parcelshop_sample_is_waiting_at_the_shop():
    # given GLS's "200WithLinks" example: DELIVEREDPS, last event DELIVD.PARCELSHOP (winter time)
    body = _sample("gls_track_and_trace_v1_delivered_parcelshop.json")

    # when
    shipment = _parse_one(body)

    # then the parcel is at the ParcelShop for the buyer to collect: not delivered yet
    assert [
        (e.occurred_at.isoformat(), e.status, e.substatus, e.code, e.location)
        for e in shipment.events
    ] == [
        ("2025-02-10T15:08:43+01:00", "info_received", None, "INTIAL.PREADVICE", GERMANY),
        ("2025-02-10T15:08:44+01:00", "info_received", None, "INTIAL.E48_DATA", GERMANY),
        ("2025-02-10T15:11:12+01:00", "in_transit", None, "INTIAL.NORMAL", GERMANY),
        (
            "2025-02-10T15:13:46+01:00",
            "available_for_pickup",
            None,
            "DELIVD.PARCELSHOP",
            Location(),
        ),
    ]
    assert shipment.events[-1].message == (
        "The parcel has been delivered at the ParcelShop (see ParcelShop information)."
    )
    assert result_state(shipment).status == "available_for_pickup"
    assert shipment.pod is None


def _collected_at_the_shop() -> TrackingResult:
    """The parcel-shop sample, then the buyer collecting it (handed out through the shop app)."""
    payload = json.loads(_sample("gls_track_and_trace_v1_delivered_parcelshop.json"))
    payload["parcels"][0]["status"] = "DELIVERED"
    payload["parcels"][0]["events"].insert(
        0,
        {
            "code": "DELIVD.DEL_BY_PSAPP",
            "city": "Bad Hersfeld",
            "postalCode": "36251",
            "country": "DE",
            "description": "The parcel has been picked up from the ParcelShop by the consignee.",
            "eventDateTime": "2025-02-12T17:02:00+0100",
        },
    )
    return _parse_one(json.dumps(payload).encode())


def test_gls_parse_collection_at_the_shop_is_a_pickup_point_delivery_with_a_pod():
    # given the parcel-shop sample followed by the buyer collecting the parcel
    # when
    shipment = _collected_at_the_shop()

    # then
    assert shipment.events[-1] == CarrierEvent(
        datetime(2025, 2, 12, 17, 2, tzinfo=CET),
        "delivered",
        "delivered.pickup_point",
        "DELIVD.DEL_BY_PSAPP",
        "The parcel has been picked up from the ParcelShop by the consignee.",
        Location("Bad Hersfeld", "36251", "DE"),
    )
    assert shipment.pod == PodData(
        delivered_at=datetime(2025, 2, 12, 17, 2, tzinfo=CET), location_type="pickup_point"
    )


def test_gls_apply_delivery_info_sample_adds_the_parcelshop_to_the_pod():
    # given a parcel collected at the shop and GLS's delivery-info answer for it
    shipment = _collected_at_the_shop()
    body = _sample("gls_track_and_trace_v1_deliveryinfo_parcelshop.json")

    # when
    enriched = _adapter().apply_delivery_info(shipment, body)

    # then the Parcel Shop Management link (partner GLS_DE, shop 2760188645) is the document
    assert enriched.pod == PodData(
        delivered_at=datetime(2025, 2, 12, 17, 2, tzinfo=CET),
        location_type="pickup_point",
        documents=(
            "https://api.gls-group.net/parcel-shop-management/v2/active-public-parcel-shops/"
            "GLS_DE/2760188645",
        ),
    )
    assert enriched.events == shipment.events
    # and applying it twice does not repeat the document
    assert _adapter().apply_delivery_info(enriched, body) == enriched


def test_gls_apply_delivery_info_leaves_a_parcel_still_at_the_shop_without_pod():
    # given the parcel still waiting at the shop: no delivery, so no POD to enrich
    waiting = _parse_one(_sample("gls_track_and_trace_v1_delivered_parcelshop.json"))
    body = _sample("gls_track_and_trace_v1_deliveryinfo_parcelshop.json")

    # when / then
    assert _adapter().apply_delivery_info(waiting, body) == waiting


def test_gls_apply_delivery_info_error_or_id_only_answers():
    # given a collected parcel
    shipment = _collected_at_the_shop()
    no_info = b'{"errorCode": "E_404_02", "errorMessage": "No Delivery Info"}'
    id_only = b'{"parcelshopDelivery": {"parcelshopId": "2760188645", "partnerId": "GLS_DE"}}'

    # when / then: an error changes nothing, a shop without link is named by partner and id
    assert _adapter().apply_delivery_info(shipment, no_info) == shipment
    assert _adapter().apply_delivery_info(shipment, id_only).pod.documents == (
        "gls-parcelshop:GLS_DE/2760188645",
    )
    with pytest.raises(CarrierPayloadError):
        _adapter().apply_delivery_info(shipment, b'{"parcelshopDelivery": {}}')
    with pytest.raises(CarrierPayloadError):
        _adapter().apply_delivery_info(shipment, b'{"something": "else"}')


def test_gls_parse_not_found_sample_gives_a_per_number_error():
    # given karrio's error answer
    body = _sample("gls_track_and_trace_v1_not_found.json")

    # when
    result = _adapter().parse(body)

    # then
    assert result.shipments == []
    assert result.errors == [TrackingError("36301917596", "not_found", "Resource Not Found")]


def test_gls_parse_rate_limit_sample_is_an_error_without_number():
    # given the Apigee quota fault (429 body parsed offline)
    body = _sample("gls_track_and_trace_v1_error_429_rate_limit.json")

    # when
    result = _adapter().parse(body)

    # then
    assert result.errors == [
        TrackingError(
            "",
            "rate_limited",
            "Rate limit quota violation. Quota limit  exceeded. Identifier : "
            "14f8edf5-8954-45d8-986b-ee9db7cc68d3",
        )
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {
                "fault": {
                    "faultstring": "The Token has expired: policy(Verify-JWT)",
                    "detail": {"errorcode": "steps.jwt.TokenExpired"},
                }
            },
            TrackingError("", "auth_failed", "The Token has expired: policy(Verify-JWT)"),
        ),
        (
            {
                "type": "about:blank",
                "title": "Bad Request",
                "status": 400,
                "detail": "Provided references of size '11' is more than allowed limit of 10",
                "instance": "/tracking/simple/references/11113481990,11113481991",
            },
            TrackingError(
                "",
                "invalid_request",
                "Provided references of size '11' is more than allowed limit of 10",
            ),
        ),
        (
            {
                "type": "about:blank",
                "title": "Bad Request",
                "status": 400,
                "detail": "Failed to convert 'showLinks' with value: 'xyz'",
                "instance": "/tracking/simple/trackids/36301917596",
            },
            TrackingError(
                "36301917596", "invalid_request", "Failed to convert 'showLinks' with value: 'xyz'"
            ),
        ),
        (
            {"errors": [{"message": "Invalid client identifier", "type": "400"}]},
            TrackingError("", "auth_failed", "Invalid client identifier"),
        ),
        (
            {"parcels": [{"requested": "ABC", "errorCode": "E_400_01", "errorMessage": "Bad"}]},
            TrackingError("ABC", "invalid_number", "Bad"),
        ),
        (
            {"parcels": [{"requested": "123", "errorCode": "E_999_99"}]},
            TrackingError("123", "courier_error", "E_999_99"),
        ),
    ],
)
def test_gls_parse_error_bodies_become_errors(body, expected):
    # given an error body of GLS's gateway, framework, token endpoint or per-parcel entry
    # when
    result = _adapter().parse(json.dumps(body).encode())

    # then
    assert result.shipments == []
    assert result.errors == [expected]


# --- the code tables against GLS's vocabulary -------------------------------------------------


def test_gls_status_tables_cover_the_vocabulary():
    # given GLS's OpenAPI vocabulary
    vocabulary = _vocabulary()

    # when / then: every parcel status, every event code GLS shows, every family has a mapping
    assert set(PARCEL_STATUS_MAP) == set(vocabulary["parcel_status_enum"])
    spec_codes = {e["code"] for e in vocabulary["event_code_examples_from_spec"]}
    assert spec_codes | set(vocabulary["event_codes_seen_in_examples"]) <= set(STATUS_MAP)
    assert {code.split(".")[0] for code in STATUS_MAP} <= set(FAMILY_STATUS_MAP)


@pytest.mark.parametrize(
    ("code", "status", "substatus"),
    [
        ("PLANNEDPICKUP", "info_received", None),
        ("INPICKUP", "info_received", None),
        ("NOTPICKEDUP", "exception", "exception.delayed"),
        ("PREADVICE", "info_received", None),
        ("INTRANSIT", "in_transit", None),
        ("INDELIVERY", "out_for_delivery", None),
        ("DELIVEREDPS", "available_for_pickup", None),
        ("DELIVERED", "delivered", None),
        ("INWAREHOUSE", "in_transit", None),
        ("NOTDELIVERED", "failed_attempt", None),
        ("CANCELED", "exception", "exception.cancelled"),
        ("FINAL", "delivered", None),
    ],
)
def test_gls_parse_parcel_without_events_uses_its_status(code, status, substatus):
    # given a parcel answered without events (showEvents=false, QAS test parcels)
    body = _parcel(status=code, statusDateTime="2025-09-09T08:00:00+0200")

    # when
    [event] = _parse_one(body).events

    # then one event at statusDateTime says the parcel status
    assert event == CarrierEvent(
        datetime(2025, 9, 9, 8, 0, tzinfo=CEST), status, substatus, code, code, Location()
    )


@pytest.mark.parametrize(
    ("code", "text", "status", "substatus"),
    [
        ("CANCEL.NORMAL", "The parcel data have been deleted.", "exception", "exception.cancelled"),
        ("CHANGD.MONEWADDR", "Change completed for - Delivery at new address", "in_transit", None),
        ("CHANGD.PARCELBOX", "Change completed for - ParcelLocker", "in_transit", None),
        (
            "OUTDEL.NORMAL",
            "The parcel is expected to be delivered during the day.",
            "out_for_delivery",
            None,
        ),  # noqa: E501
        # Codes we do not know: family first, then the English description.
        ("DELIVD.NORMAL", "The parcel has been delivered.", "delivered", None),
        ("DELIVD.NEIGHBOR", "Delivered to the neighbour.", "delivered", "delivered.neighbour"),
        (
            "DELIVD.DEPOSIT",
            "Delivered at the place of deposit.",
            "delivered",
            "delivered.front_door",
        ),  # noqa: E501
        ("DELIVD.BOX", "Delivered to the ParcelLocker.", "delivered", "delivered.locker"),
        ("DELIVD.MAILBOX", "Delivered to the mailbox.", "delivered", "delivered.mailbox"),
        ("DELIVD.PSX", "Picked up at the ParcelShop.", "delivered", "delivered.pickup_point"),
        ("INTIAL.OTHER", "Data received.", "info_received", None),
        ("XXXXXX.YY", "Sorted.", "in_transit", None),
        ("XXXXXX.YY", "The parcel is out for delivery.", "out_for_delivery", None),
        ("NOTDEL.X", "Consignee absent.", "failed_attempt", "failed_attempt.recipient_absent"),
        ("NOTDEL.X", "The parcel could not be delivered.", "failed_attempt", None),
        ("NOTDEL.X", "Wrong address.", "exception", "exception.address_issue"),
        ("NOTDEL.X", "Acceptance refused.", "exception", "exception.refused"),
        ("NOTDEL.X", "The parcel is damaged.", "exception", "exception.damaged"),
        ("NOTDEL.X", "The parcel could not be located.", "exception", "exception.lost"),
        (
            "RETURN.X",
            "The parcel will be returned to the sender.",
            "exception",
            "exception.returning_to_sender",
        ),  # noqa: E501
        (
            "RETURN.X",
            "On its way back to the sender.",
            "exception",
            "exception.returning_to_sender",
        ),  # noqa: E501
        (
            "DELIVD.RET",
            "The parcel has been returned to the sender.",
            "exception",
            "exception.returned_to_sender",
        ),  # noqa: E501
    ],
)
def test_gls_parse_event_codes_map_to_our_statuses(code, text, status, substatus):
    # given one event
    body = _parcel((code, text, "2024-10-11T15:24:57+0200"))

    # when
    [event] = _parse_one(body).events

    # then
    assert (event.status, event.substatus, event.code, event.message) == (
        status,
        substatus,
        code,
        text,
    )


def test_gls_parse_delivery_to_a_neighbour_gives_pod_location():
    # given a delivery to a neighbour after a round
    body = _parcel(
        ("DELIVD.NEIGHBOR", "Delivered to the neighbour.", "2024-10-12T11:00:00+0200"),
        ("OUTDEL.NORMAL", "Out for delivery.", "2024-10-12T08:00:00+0200"),
    )

    # when
    shipment = _parse_one(body)

    # then
    assert shipment.pod == PodData(
        delivered_at=datetime(2024, 10, 12, 11, 0, tzinfo=CEST), location_type="neighbour"
    )


def test_gls_parse_naive_time_is_read_in_the_scan_country():
    # given a time without offset (not GLS's documented format, but seen in other APIs)
    body = _parcel(("INTIAL.NORMAL", "Handed over.", "2024-01-10T10:00:00"))

    # when / then: Berlin winter time
    assert _parse_one(body).events[0].occurred_at == datetime(2024, 1, 10, 10, 0, tzinfo=CET)


def _mutated(mutate) -> bytes:
    payload = copy.deepcopy(json.loads(_sample("gls_track_and_trace_v1_in_transit.json")))
    mutate(payload)
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"<html>502 Bad Gateway</html>", id="html"),
        pytest.param(b"\xff\xfe\x00", id="not-utf8"),
        pytest.param(
            lambda: _sample("gls_track_and_trace_v1_in_transit.json")[:300], id="truncated"
        ),
        pytest.param(b"[]", id="array"),
        pytest.param(b"null", id="null"),
        pytest.param(b'{"foo": 1}', id="unknown-object"),
        pytest.param(b'{"parcels": {}}', id="parcels-not-list"),
        pytest.param(b'{"parcels": ["36301917596"]}', id="parcel-not-object"),
        pytest.param(b'{"status": "400", "title": "Bad"}', id="problem-status-text"),
        pytest.param(
            lambda: _mutated(
                lambda p: p["parcels"][0].pop("requested") and p["parcels"][0].pop("unitno")
            ),
            id="no-number",
        ),
        pytest.param(
            lambda: _mutated(lambda p: p["parcels"][0].update(events="none")), id="events-str"
        ),
        pytest.param(
            lambda: _mutated(lambda p: p["parcels"][0]["events"].append(7)), id="event-number"
        ),
        pytest.param(
            lambda: _mutated(lambda p: p["parcels"][0]["events"][0].pop("code")), id="event-no-code"
        ),
        pytest.param(
            lambda: _mutated(
                lambda p: p["parcels"][0]["events"][0].update(eventDateTime="yesterday")
            ),
            id="bad-time",
        ),
        pytest.param(
            lambda: _mutated(lambda p: p["parcels"][0]["events"][0].pop("eventDateTime")),
            id="no-time",
        ),
        pytest.param(
            lambda: _mutated(lambda p: p["parcels"][0].update(events=[], status="LOST")),
            id="no-events-unknown-status",
        ),
        pytest.param(
            lambda: _mutated(lambda p: p["parcels"][0].update(events=[], statusDateTime=None)),
            id="no-events-no-time",
        ),
    ],
)
def test_gls_parse_malformed_body_raises_payload_error(body):
    body = body() if callable(body) else body  # built lazily: the sample may be absent
    # given a body that is not one of GLS's shapes
    # when / then
    with pytest.raises(CarrierPayloadError):
        _adapter().parse(body)


# --- fetch: token, batching, headers --------------------------------------------------------


def _token_call(token: str = "token-1", expires_in: object = 14400):
    return responses.post(
        TOKEN_URL,
        json=_token_reply(token, expires_in),
        match=[
            matchers.header_matcher(
                {
                    "Authorization": BASIC,
                    "Content-Type": "application/x-www-form-urlencoded",
                }
            ),
            matchers.urlencoded_params_matcher({"grant_type": "client_credentials"}),
        ],
    )


@responses.activate
def test_gls_fetch_gets_a_token_then_batches_ten_numbers_per_request(carrier_client):
    # given 12 numbers: GLS takes 10 per request
    numbers = [f"3630191{i:04d}" for i in range(12)]
    token = _token_call()
    headers = matchers.header_matcher(
        {"Authorization": "Bearer token-1", "Accept": "application/json", "Accept-Language": "EN"}
    )
    first = responses.get(
        f"{TRACK_URL}/{','.join(numbers[:10])}",
        match=[headers],
        body=_sample("gls_track_and_trace_v1_in_transit.json"),
    )
    second = responses.get(
        f"{TRACK_URL}/{','.join(numbers[10:])}",
        match=[headers],
        body=_sample("gls_track_and_trace_v1_not_found.json"),
    )

    # when
    answers = _adapter().fetch(numbers, client=carrier_client)

    # then one token for both requests
    assert token.call_count == 1
    assert first.call_count == 1 and second.call_count == 1
    assert [a.status_code for a in answers] == [200, 200]
    assert responses.calls[0].request.method == "POST"
    assert responses.calls[1].request.method == "GET"


@responses.activate
def test_gls_fetch_reuses_the_token_until_it_expires(carrier_client):
    # given an adapter whose clock we move, and a token valid for one hour
    adapter = _adapter()
    now = [1000.0]
    adapter._clock = lambda: now[0]
    first_token = _token_call("token-1", 3600)
    responses.get(
        re.compile(f"{TRACK_URL}/.*"), body=_sample("gls_track_and_trace_v1_in_transit.json")
    )

    # when two syncs happen within the hour
    adapter.fetch(["36301917596"], client=carrier_client)
    now[0] += 3000
    adapter.fetch(["36301917596"], client=carrier_client)

    # then one token
    assert first_token.call_count == 1

    # when the hour (minus the safety margin) has passed
    now[0] += 600
    responses.replace(responses.POST, TOKEN_URL, json=_token_reply("token-2", "3600"))
    adapter.fetch(["36301917596"], client=carrier_client)

    # then a new token is fetched and used
    assert [c.request.url for c in responses.calls].count(TOKEN_URL) == 2
    assert responses.calls[-1].request.headers["Authorization"] == "Bearer token-2"


@responses.activate
def test_gls_fetch_fetches_a_new_token_once_when_the_api_refuses_it(carrier_client):
    # given a cached token that GLS has revoked
    adapter = _adapter()
    responses.post(TOKEN_URL, json=_token_reply("old"))
    adapter.fetch([], client=carrier_client)  # nothing to fetch: no token either
    assert len(responses.calls) == 0
    responses.get(
        f"{TRACK_URL}/36301917596",
        match=[matchers.header_matcher({"Authorization": "Bearer old"})],
        json={
            "fault": {"faultstring": "expired", "detail": {"errorcode": "steps.jwt.TokenExpired"}}
        },  # noqa: E501
        status=401,
    )
    responses.get(
        f"{TRACK_URL}/36301917596",
        match=[matchers.header_matcher({"Authorization": "Bearer new"})],
        body=_sample("gls_track_and_trace_v1_in_transit.json"),
    )

    # when
    adapter.tokens.get(carrier_client)  # the "old" token is now cached
    responses.replace(responses.POST, TOKEN_URL, json=_token_reply("new"))
    result, _answers = adapter.track(["36301917596"], client=carrier_client)

    # then
    assert [s.tracking_number for s in result.shipments] == ["36301917596"]
    assert [c.request.method for c in responses.calls] == ["POST", "GET", "POST", "GET"]


@responses.activate
def test_gls_fetch_gives_up_when_a_fresh_token_is_refused_too(carrier_client):
    # given GLS refuses every token
    responses.post(TOKEN_URL, json=_token_reply())
    responses.get(f"{TRACK_URL}/36301917596", json={"fault": {"faultstring": "x"}}, status=401)

    # when / then: two tries, then the courier's auth fault
    with pytest.raises(CarrierAuthError):
        _adapter().fetch(["36301917596"], client=carrier_client)
    assert [c.request.method for c in responses.calls] == ["POST", "GET", "POST", "GET"]


@responses.activate
def test_gls_fetch_bad_credentials_raise_auth_error(carrier_client):
    # given the token endpoint's 400 fault body
    responses.post(
        TOKEN_URL,
        json={"errors": [{"message": "Invalid client identifier", "type": "400"}]},
        status=400,
    )

    # when / then
    with pytest.raises(CarrierAuthError, match="Invalid client identifier"):
        _adapter().fetch(["36301917596"], client=carrier_client)


@pytest.mark.parametrize(
    "reply",
    [
        {"token_type": "Bearer", "expires_in": 14400},
        {"access_token": "t", "expires_in": 0},
        {"access_token": "t", "expires_in": "soon"},
        ["t"],
    ],
)
@responses.activate
def test_gls_fetch_unreadable_token_answer_is_a_payload_error(reply, carrier_client):
    # given a token answer without a usable token or lifetime
    responses.post(TOKEN_URL, json=reply)

    # when / then
    with pytest.raises(CarrierPayloadError):
        _adapter().fetch(["36301917596"], client=carrier_client)


@responses.activate
def test_gls_fetch_quota_exceeded_raises_rate_limited(carrier_client):
    # given GLS's 429 quota fault with a long Retry-After
    responses.post(TOKEN_URL, json=_token_reply())
    responses.get(
        f"{TRACK_URL}/36301917596",
        body=_sample("gls_track_and_trace_v1_error_429_rate_limit.json"),
        status=429,
        headers={"Retry-After": "3600"},
    )

    # when / then
    with pytest.raises(CarrierRateLimited) as fault:
        _adapter().fetch(["36301917596"], client=carrier_client)
    assert fault.value.retry_after_seconds == 3600


@responses.activate
def test_gls_token_is_fetched_once_by_concurrent_threads(carrier_client):
    # given a token endpoint that keeps its caller waiting until another thread asks too (or a
    # second passes), and eight threads asking for a token at once: without the lock, several
    # threads fetch one
    adapter = _adapter()
    fetch = ContendedSection()

    def token_reply(_request):
        fetch.enter()
        return 200, {}, json.dumps(_token_reply())

    token = responses.add_callback(
        responses.POST, TOKEN_URL, callback=token_reply, content_type="application/json"
    )
    client = carrier_client
    tokens: list[str] = []
    start = threading.Barrier(8)

    def worker():
        start.wait()
        tokens.append(adapter.tokens.get(client))

    # when
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert tokens == ["token-1"] * 8
    assert fetch.entries == 1
    assert token.call_count == 1


@responses.activate
def test_gls_fetch_delivery_info_sends_the_postcode(carrier_client):
    # given GLS's delivery-info endpoint
    responses.post(TOKEN_URL, json=_token_reply())
    info = responses.get(
        f"{BASE_URL}/track-and-trace-v1/tracking/deliveryinfo/parcelid/42249028960",
        match=[
            matchers.query_param_matcher({"originaldestinationpostalcode": "36286"}),
            matchers.header_matcher({"Authorization": "Bearer token-1"}),
        ],
        body=_sample("gls_track_and_trace_v1_deliveryinfo_parcelshop.json"),
    )

    # when
    answer = _adapter().fetch_delivery_info("42249028960", "36286", client=carrier_client)

    # then
    assert info.call_count == 1
    assert json.loads(answer.body)["parcelshopDelivery"]["parcelshopId"] == "2760188645"


# --- identity -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number", ["36301917596", "422490289601", "ZX61QJIX", "QAS_0000007", "93835368025"]
)
def test_gls_matches_its_number_formats(number):
    # given / when / then
    assert _adapter().matches(number)


@pytest.mark.parametrize("number", ["ABCDEFGH", "12345678", "EW112720413FR", "3630191759", "QAS_1"])
def test_gls_does_not_match_other_formats(number):
    # given / when / then
    assert not _adapter().matches(number)


def test_gls_identity():
    # given / when / then
    adapter = _adapter()
    assert (adapter.slug, adapter.name, adapter.batch_size) == ("gls", "GLS", 10)
    assert adapter.base_url == BASE_URL
    assert adapter.tracking_url("36301917596") == (
        "https://gls-group.com/GROUP/en/parcel-tracking?match=36301917596"
    )


# --- Answers other projects published (../shared), read as a person reading them would -------
# Through the operators' command, which shows what ingest would conclude (status derived from
# the events, the POD as it stands): per parcel (number, status, substatus, events, last event
# code, signatory; None without a POD), and per error (number, kind).


@pytest.mark.parametrize(
    ("name", "shipments", "errors"),
    [
        pytest.param(
            "gls/gls-openapi-1.json",
            [],
            [("", "auth_failed")],
            id="gls-openapi-1.json",
        ),  # 401 token expired
        pytest.param(
            "gls/gls-openapi-2.json",
            [],
            [("", "invalid_request")],
            id="gls-openapi-2.json",
        ),  # 400 more than 10 references
    ],
)
def test_gls_published_answer_reads_as_a_person_would(capsys, name, shipments, errors):
    # given an answer published by GLS's OpenAPI, saved as a file
    path = external_payload(name)

    # when the operators' command parses it
    call_command("tracking", "parse", "--carrier", "gls", str(path))

    # then every parcel has the status a reader concludes, and every error its kind
    assert published_reading(json.loads(capsys.readouterr().out)) == (shipments, errors)
