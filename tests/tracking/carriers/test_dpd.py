import json
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

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
    CarrierUnavailable,
    Location,
    PodData,
    TrackingError,
)
from tracking.carriers.dpd import STATUS_MAP, DpdAdapter
from tracking.status import pod_standing, result_state

BASE_URL = "https://public-ws.dpd.test"
LOGIN_URL = f"{BASE_URL}/soap/services/LoginService/V2_1"
TRACKING_URL = f"{BASE_URL}/soap/services/ParcelLifeCycleService/V2_0"
RETURNING = "dpd_parcellifecycle_returning_from_delivery.xml"
AUTH_FAULT = "dpd_parcellifecycle_auth_fault.xml"
BRUSSELS = ZoneInfo("Europe/Brussels")
BERLIN = ZoneInfo("Europe/Berlin")
NUMBER = "05308801410058"


def _sample(name: str) -> bytes:
    return read_carrier_sample(name)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _adapter(clock: Clock | None = None) -> DpdAdapter:
    return DpdAdapter(
        base_url=BASE_URL + "/",
        delis_id="KD1234",
        password="secret&1",
        clock=clock or Clock(datetime(2020, 5, 7, 12, 0, tzinfo=UTC)),
    )


def _line(name: str, text: str) -> str:
    return (
        f"<{name}><content>{text}</content><bold>true</bold><paragraph>false</paragraph></{name}>"
    )


def _info(
    code: str,
    description: str = "",
    *,
    date: str = "5/21/2024 9:05:00 AM",
    place: str = "Lyon (FR)",
    reached: str = "true",
    current: str = "false",
    label: str = "In transit",
    extra: str = "",
) -> str:
    return (
        f"<statusInfo><status>{code}</status>{_line('label', label)}"
        f"<description>{_line('content', description)}</description>"
        f"<statusHasBeenReached>{reached}</statusHasBeenReached>"
        f"<isCurrentStatus>{current}</isCurrentStatus><showContactInfo>true</showContactInfo>"
        f"{_line('location', place) if place else ''}{_line('date', date) if date else ''}"
        f"{extra}</statusInfo>"
    )


def _answer(*infos: str, shipment: bool = True) -> bytes:
    header = (
        "<shipmentInfo><status>SHIPMENT</status><statusHasBeenReached>false</statusHasBeenReached>"
        "<isCurrentStatus>false</isCurrentStatus><showContactInfo>false</showContactInfo>"
        "</shipmentInfo>"
        if shipment
        else ""
    )
    return (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        '<getTrackingDataResponse xmlns="http://dpd.com/common/service/types/'
        f'ParcelLifeCycleService/2.0"><trackingresult>{header}{"".join(infos)}</trackingresult>'
        "</getTrackingDataResponse></soap:Body></soap:Envelope>"
    ).encode()


def _fault(detail: str = "", message: str = "Fault occured") -> bytes:
    return (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f"<soap:Fault><faultcode>soap:Server</faultcode><faultstring>{message}</faultstring>"
        f"{f'<detail>{detail}</detail>' if detail else ''}</soap:Fault></soap:Body></soap:Envelope>"
    ).encode()


def _number_fault(code: str, message: str) -> bytes:
    return _fault(
        '<ns:faults xmlns:ns="http://dpd.com/common/service/types/ParcelLifeCycleService/2.0">'
        f"<faultCode>{code}</faultCode><message>{message}</message></ns:faults>"
    )


def _login(token: str = "TOKEN-1", expires: str = "2020-05-08T13:02:56.06") -> bytes:
    return (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        '<getAuthResponse xmlns="http://dpd.com/common/service/types/LoginService/2.1"><return>'
        "<delisId>KD1234</delisId><customerUid>KD1234</customerUid>"
        f"<authToken>{token}</authToken><depot>0530</depot>"
        f"<authTokenExpires>{expires}</authTokenExpires></return></getAuthResponse>"
        "</soap:Body></soap:Envelope>"
    ).encode()


def _sent(call) -> str:
    body = call.request.body
    return body.decode() if isinstance(body, bytes) else body


def _brussels(day: int, hour: int, minute: int, second: int) -> datetime:
    return datetime(2021, 8, day, hour, minute, second, tzinfo=BRUSSELS)


# --- parse: the real samples ----------------------------------------------------------------

DISPATCH = "The parcel is at the parcel dispatch centre."
ON_ITS_WAY = "The parcel has left the parcel delivery centre and is on its way to the consignee."
NOT_DELIVERED = "Unfortunately we have not been able to deliver your parcel."
AT_SHOP = "Delivered by driver to Pickup parcelshop"
PUURS = Location(city="Puurs", country="BE")
MECHELEN = Location(city="Mechelen", country="BE")
ASCHAFFENBURG = Location(city="Aschaffenburg", country="DE")


def test_dpd_parse_returning_from_delivery_sample_gives_the_full_normalised_shipment():
    # given the real Benelux answer (oldest first, US-locale dates, one header shipmentInfo)
    body = _sample(RETURNING)

    # when
    result = _adapter().parse(body)

    # then every reached step, in Belgian (and German) local time, 12-hour clock read right
    assert result.errors == []
    [shipment] = result.shipments
    assert shipment.tracking_number == ""  # the answer does not carry it: track supplies it
    transit, out = "in_transit", "out_for_delivery"
    failed, shop = "failed_attempt", "available_for_pickup"
    assert shipment.events == (
        CarrierEvent(_brussels(17, 19, 11, 26), transit, None, "BetweenDepots", DISPATCH, PUURS),
        CarrierEvent(_brussels(17, 19, 48, 0), transit, None, "BetweenDepots", DISPATCH, PUURS),
        CarrierEvent(
            _brussels(18, 4, 9, 55), "in_transit", None, "Depot", "At parcel delivery centre.",
            MECHELEN,
        ),
        CarrierEvent(_brussels(18, 7, 34, 34), out, None, "Courier", ON_ITS_WAY, MECHELEN),
        CarrierEvent(
            datetime(2021, 8, 18, 10, 14, tzinfo=BERLIN), out, None, "Courier", ON_ITS_WAY,
            ASCHAFFENBURG,
        ),
        CarrierEvent(
            _brussels(18, 14, 43, 31), failed, None, "DeliveryFailure", NOT_DELIVERED, MECHELEN
        ),
        CarrierEvent(
            datetime(2021, 8, 18, 14, 43, 31, tzinfo=BERLIN), failed, None, "DeliveryFailure",
            NOT_DELIVERED, ASCHAFFENBURG,
        ),
        CarrierEvent(_brussels(18, 16, 9, 35), shop, None, "ParcelShop", AT_SHOP, MECHELEN),
        CarrierEvent(_brussels(18, 16, 15, 56), shop, None, "ParcelShop", AT_SHOP, MECHELEN),
        CarrierEvent(_brussels(18, 16, 16, 57), shop, None, "ParcelShop", AT_SHOP, MECHELEN),
        CarrierEvent(_brussels(18, 16, 41, 0), shop, None, "ParcelShop", AT_SHOP, MECHELEN),
        CarrierEvent(_brussels(19, 10, 30, 0), out, None, "Courier", ON_ITS_WAY, MECHELEN),
        CarrierEvent(_brussels(19, 11, 32, 51), out, None, "Courier", ON_ITS_WAY, MECHELEN),
        CarrierEvent(
            _brussels(19, 15, 57, 33), "in_transit", None, "PickedUp",
            "DPD has received your parcel.", MECHELEN,
        ),
        CarrierEvent(
            _brussels(19, 17, 11, 26), failed, None, "ReturningFromDelivery",
            "After an unsuccessful delivery attempt the parcel is back at the recipient depot.",
            MECHELEN,
        ),
    )  # fmt: skip
    assert shipment.events[0].occurred_at.isoformat() == "2021-08-17T19:11:26+02:00"
    assert shipment.events[-1].occurred_at.isoformat() == "2021-08-19T17:11:26+02:00"
    # the isCurrentStatus entry (ReturningFromDelivery) is the state: back at the depot after a
    # failed attempt, no POD, no estimate in this operation
    assert (result_state(shipment).status, result_state(shipment).substatus) == (
        "failed_attempt",
        None,
    )
    assert shipment.pod is None
    assert shipment.estimated_delivery is None


def test_dpd_parse_auth_fault_sample_is_an_account_error():
    # given the HTTP 500 SOAP fault DELICOM_ERR_AUTHENTICATION
    # when
    result = _adapter().parse(_sample(AUTH_FAULT))

    # then an auth_failed error naming no number (track raises it as CarrierAuthError)
    assert result.shipments == []
    assert result.errors == [
        TrackingError("", "auth_failed", "Authentication failure, check delisId and password.")
    ]


# --- the code table -------------------------------------------------------------------------


def test_dpd_status_map_covers_the_sample_codes_and_the_summary_states():
    # given the codes the fixtures README lists for the sample, and DPD Germany's summary states
    sample_codes = {
        "BetweenDepots",
        "Depot",
        "Courier",
        "DeliveryFailure",
        "ParcelShop",
        "PickedUp",
        "ReturningFromDelivery",
    }
    summary = {"ACCEPTED", "AT_SENDING_DEPOT", "ON_THE_ROAD", "AT_DELIVERY_DEPOT", "DELIVERED"}

    # when / then every one is mapped, and the table is exactly this
    assert sample_codes | summary | {"Delivered"} == set(STATUS_MAP)
    assert STATUS_MAP == {
        "ACCEPTED": ("info_received", None),
        "AT_SENDING_DEPOT": ("in_transit", None),
        "ON_THE_ROAD": ("in_transit", None),
        "AT_DELIVERY_DEPOT": ("in_transit", None),
        "DELIVERED": ("delivered", None),
        "PickedUp": ("in_transit", None),
        "BetweenDepots": ("in_transit", None),
        "Depot": ("in_transit", None),
        "Courier": ("out_for_delivery", None),
        "DeliveryFailure": ("failed_attempt", None),
        "ReturningFromDelivery": ("failed_attempt", None),
        "ParcelShop": ("available_for_pickup", None),
        "Delivered": ("delivered", None),
    }


@pytest.mark.parametrize(
    ("code", "description", "status", "substatus"),
    [
        ("Depot", "At parcel delivery centre.", "in_transit", None),
        ("Courier", ON_ITS_WAY, "out_for_delivery", None),
        ("DeliveryFailure", NOT_DELIVERED, "failed_attempt", None),
        (
            "DeliveryFailure",
            f"{NOT_DELIVERED} The consignee was not at home.",
            "failed_attempt",
            "failed_attempt.recipient_absent",
        ),
        (
            "DeliveryFailure",
            f"{NOT_DELIVERED} The address is incorrect or incomplete.",
            "exception",
            "exception.address_issue",
        ),
        ("DeliveryFailure", "The consignee refused the parcel.", "exception", "exception.refused"),
        ("BetweenDepots", "The parcel is damaged.", "exception", "exception.damaged"),
        (
            "BetweenDepots",
            "The parcel cannot be located. An investigation has been opened.",
            "exception",
            "exception.lost",
        ),
        ("ON_THE_ROAD", "The parcel is held by customs.", "exception", "exception.customs"),
        (
            "BetweenDepots",
            "The parcel is on its way back to the sender.",
            "exception",
            "exception.returning_to_sender",
        ),
        (
            "Delivered",
            "The parcel has been returned to the sender.",
            "exception",
            "exception.returned_to_sender",
        ),
        ("Delivered", "The parcel has been delivered.", "delivered", None),
        ("Delivered", "Delivered to the letterbox.", "delivered", "delivered.mailbox"),
        ("Delivered", "Delivered to a neighbour.", "delivered", "delivered.neighbour"),
        ("ACCEPTED", "Order information has been transmitted to DPD.", "info_received", None),
        # codes DPD has not documented: the words decide, else in transit
        ("Pickup", "Delivered by driver to Pickup parcelshop", "available_for_pickup", None),
        ("HomeDelivered", "Your parcel has been delivered.", "delivered", None),
        ("SomethingNew", "Something happened.", "in_transit", None),
    ],
)
def test_dpd_parse_codes_and_texts_give_the_status(code, description, status, substatus):
    # given one reached step in winter (Paris is UTC+1)
    body = _answer(_info(code, description, date="1/2/2024 9:05:00 PM", place="Lyon (FR)"))

    # when
    [event] = _adapter().parse(body).shipments[0].events

    # then
    assert (event.status, event.substatus) == (status, substatus)
    assert event.code == code
    assert event.occurred_at.isoformat() == "2024-01-02T21:05:00+01:00"
    assert event.location == Location(city="Lyon", country="FR")


def test_dpd_parse_reason_items_join_the_message_and_classify():
    # given a failure whose reason is in importantItems (a ContentItem)
    reason = "<importantItems>" + _line("content", "Consignee not at home.") + "</importantItems>"
    body = _answer(_info("DeliveryFailure", NOT_DELIVERED, extra=reason))

    # when
    [event] = _adapter().parse(body).shipments[0].events

    # then
    assert event.message == f"{NOT_DELIVERED} Consignee not at home."
    assert event.substatus == "failed_attempt.recipient_absent"


# --- parse: reached steps, time zones, POD --------------------------------------------------


def test_dpd_parse_skips_steps_not_reached_yet():
    # given DPD Germany's summary bar: two steps reached, three greyed (no date, no place)
    body = _answer(
        _info("ACCEPTED", "Order information has been transmitted to DPD.", place="Berlin (DE)"),
        _info("AT_SENDING_DEPOT", "In transit.", date="5/21/2024 6:30:00 PM", current="true"),
        _info("ON_THE_ROAD", reached="false", date="", place=""),
        _info("AT_DELIVERY_DEPOT", reached="false", date="", place=""),
        _info("DELIVERED", reached="false", date="", place=""),
    )

    # when
    [shipment] = _adapter().parse(body).shipments

    # then
    assert [(e.code, e.status) for e in shipment.events] == [
        ("ACCEPTED", "info_received"),
        ("AT_SENDING_DEPOT", "in_transit"),
    ]
    assert shipment.events[1].occurred_at == datetime(
        2024, 5, 21, 18, 30, tzinfo=ZoneInfo("Europe/Paris")
    )


def test_dpd_parse_known_parcel_without_reached_steps_is_pending():
    # given the header and only greyed steps
    body = _answer(_info("ACCEPTED", reached="false", date="", place=""))

    # when
    [shipment] = _adapter().parse(body).shipments

    # then DPD knows the parcel: no event yet, not an error
    assert shipment.events == ()
    assert result_state(shipment).status == "pending"


@pytest.mark.parametrize(
    ("date", "place", "expected"),
    [
        ("12/1/2023 12:05:09 AM", "Mechelen (BE)", "2023-12-01T00:05:09+01:00"),
        ("12/1/2023 12:05:09 PM", "Mechelen (BE)", "2023-12-01T12:05:09+01:00"),
        ("7/4/2024 11:59:59 PM", "London (GB)", "2024-07-04T23:59:59+01:00"),
        ("7/4/2024 8:00:00 AM", "Tallinn (EE)", "2024-07-04T08:00:00+03:00"),
        # no country: DPD Germany's time (DELIS)
        ("7/4/2024 8:00:00 AM", "Depot 0530", "2024-07-04T08:00:00+02:00"),
        ("7/4/2024 8:00:00 AM", "", "2024-07-04T08:00:00+02:00"),
        ("7/4/2024 20:15", "Wien (AT)", "2024-07-04T20:15:00+02:00"),
    ],
)
def test_dpd_parse_dates_are_read_in_the_scan_country(date, place, expected):
    # given one step
    body = _answer(_info("Depot", "At parcel delivery centre.", date=date, place=place))

    # when
    [event] = _adapter().parse(body).shipments[0].events

    # then
    assert event.occurred_at.isoformat() == expected


def test_dpd_parse_delivery_after_a_parcelshop_stop_is_a_pickup_point_delivery():
    # given the parcel left at a Pickup parcelshop, then "Delivered" there
    body = _answer(
        _info("ParcelShop", AT_SHOP, date="5/21/2024 9:00:00 AM", place="Eybens (FR)"),
        _info("Delivered", "The parcel has been delivered.", date="5/23/2024 5:45:00 PM",
              place="Eybens (FR)", current="true"),
    )  # fmt: skip

    # when
    [shipment] = _adapter().parse(body).shipments

    # then
    assert shipment.events[-1].substatus == "delivered.pickup_point"
    assert shipment.pod == PodData(
        delivered_at=datetime(2024, 5, 23, 17, 45, tzinfo=ZoneInfo("Europe/Paris")),
        location_type="pickup_point",
    )


def test_dpd_parse_home_delivery_after_a_new_round_is_not_a_pickup_point_delivery():
    # given a parcelshop stop, then the courier takes it out again and delivers to the letterbox
    body = _answer(
        _info("ParcelShop", AT_SHOP, date="5/21/2024 9:00:00 AM"),
        _info("Courier", ON_ITS_WAY, date="5/22/2024 8:00:00 AM"),
        _info("Delivered", "The parcel has been delivered.", date="5/22/2024 11:00:00 AM"),
    )

    # when
    [shipment] = _adapter().parse(body).shipments

    # then a plain delivery, with its POD date
    assert (result_state(shipment).status, result_state(shipment).substatus) == ("delivered", None)
    assert shipment.pod == PodData(
        delivered_at=datetime(2024, 5, 22, 11, 0, tzinfo=ZoneInfo("Europe/Paris"))
    )


def test_dpd_parse_return_after_delivery_gives_no_pod():
    # given a delivery, then a return delivered to the sender
    body = _answer(
        _info("Delivered", "The parcel has been delivered.", date="5/22/2024 11:00:00 AM"),
        _info("Delivered", "The parcel has been returned to the sender.",
              date="6/2/2024 11:00:00 AM"),
    )  # fmt: skip

    # when
    [shipment] = _adapter().parse(body).shipments

    # then
    assert result_state(shipment).substatus == "exception.returned_to_sender"
    assert pod_standing(shipment.pod, result_state(shipment)) is None  # the record's rule


# --- parse: error bodies --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (
            _number_fault("PARCEL_NOT_FOUND", "No data found for parcel label number 1"),
            "not_found",
            "No data found for parcel label number 1",
        ),
        (
            _number_fault("INVALID_PARCEL_LABEL_NUMBER", "Invalid parcel label number x"),
            "invalid_number",
            "Invalid parcel label number x",
        ),
        (_number_fault("COMMON_7", "Request refused"), "courier_error", "Request refused"),
        (_fault(message="Internal error"), "unavailable", "DPD server fault: Internal error"),
        (_answer(shipment=False), "not_found", "DPD has no data for this parcel label number"),
    ],
)  # fmt: skip
def test_dpd_parse_error_bodies_give_per_number_errors(body, code, message):
    # given / when
    result = _adapter().parse(body)

    # then never an exception, never a shipment
    assert result.shipments == []
    assert result.errors == [TrackingError("", code, message)]


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b"<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'>&lol2;</soap:Envelope>"
)


def _replaced(old: bytes, new: bytes) -> bytes:
    body = _sample(RETURNING)
    assert old in body
    return body.replace(old, new, 1)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"<html><body>Service Unavailable</body></html>", id="html"),
        pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
        pytest.param(lambda: _sample(RETURNING)[:900], id="truncated"),
        pytest.param(b'{"trackingresult": {}}', id="json"),
        pytest.param(BILLION_LAUGHS, id="entity-expansion"),
        pytest.param(
            b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>', id="external"
        ),
        pytest.param(
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
            b"<soap:Body/></soap:Envelope>",
            id="no-result",
        ),
        pytest.param(
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"/>', id="no-body"
        ),
        pytest.param(lambda: _replaced(b"<status>BetweenDepots</status>", b""), id="no-status"),
        pytest.param(
            lambda: _replaced(b"8/17/2021 7:11:26 PM", b"2021-08-17T19:11:26"), id="iso-date"
        ),
        pytest.param(
            lambda: _replaced(b"8/17/2021 7:11:26 PM", b"8/17/2021 13:11:26 PM"), id="bad-hour"
        ),
        pytest.param(
            lambda: _replaced(b"8/17/2021 7:11:26 PM", b"13/32/2021 7:11:26 PM"), id="bad-day"
        ),
        pytest.param(
            lambda: _replaced(b"<statusHasBeenReached>true", b"<statusHasBeenReached>yes"),
            id="not-bool",
        ),
        pytest.param(
            lambda: _replaced(
                b"<date>\n                  <content>8/17/2021 7:11:26 PM</content>", b"<date><x>"
            ).replace(b"</date>", b"</x></date>", 1),
            id="reached-without-date",
        ),
        pytest.param(b"<trackingresult/>", id="not-an-envelope"),
    ],
)
def test_dpd_parse_malformed_body_raises_payload_error(body):
    body = body() if callable(body) else body  # built lazily: the sample may be absent
    # given a body that is not a getTrackingData answer (or is an XML attack)
    # when / then
    with pytest.raises(CarrierPayloadError):
        _adapter().parse(body)


# --- fetch and track ------------------------------------------------------------------------

LOGIN_HEADERS = matchers.header_matcher(
    {
        "Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": '"http://dpd.com/common/service/types/LoginService/2.1/getAuth"',
    }
)
TRACKING_HEADERS = matchers.header_matcher(
    {
        "Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": '"http://dpd.com/common/service/types/ParcelLifeCycleService/2.0/'
        'getTrackingData"',
    }
)


@responses.activate
def test_dpd_track_logs_in_once_and_names_each_answer(carrier_client):
    # given a login answer, and two numbers: one known, one unknown to DPD
    login = responses.post(LOGIN_URL, match=[LOGIN_HEADERS], body=_login())
    adapter = _adapter()
    first = responses.post(
        TRACKING_URL,
        match=[
            TRACKING_HEADERS,
            matchers.body_matcher(adapter.tracking_request(NUMBER, "TOKEN-1")),
        ],
        body=_sample(RETURNING),
    )
    second = responses.post(
        TRACKING_URL,
        match=[matchers.body_matcher(adapter.tracking_request("09980000020034", "TOKEN-1"))],
        status=500,
        body=_number_fault("PARCEL_NOT_FOUND", "No data found"),
    )

    # when
    result, answers = adapter.track([NUMBER, "09980000020034"], client=carrier_client)

    # then one login for both, the token in the Authentication/2.0 header, answers named
    assert login.call_count == 1
    assert first.call_count == 1 and second.call_count == 1
    sent_login = _sent(login.calls[0])
    assert "<delisId>KD1234</delisId><password>secret&amp;1</password>" in sent_login
    assert "<messageLanguage>en_EN</messageLanguage>" in sent_login
    sent = _sent(first.calls[0])
    assert 'xmlns:ns="http://dpd.com/common/service/types/Authentication/2.0"' in sent
    assert (
        "<ns:authentication><delisId>KD1234</delisId><authToken>TOKEN-1</authToken>"
        "<messageLanguage>en_EN</messageLanguage></ns:authentication>"
    ) in sent
    assert f"<parcelLabelNumber>{NUMBER}</parcelLabelNumber>" in sent
    assert "secret" not in sent  # the password only goes to the login service
    assert len(answers) == 2
    assert [s.tracking_number for s in result.shipments] == [NUMBER]
    assert result.errors == [TrackingError("09980000020034", "not_found", "No data found")]


@responses.activate
def test_dpd_track_reuses_the_token_until_it_nearly_expires(carrier_client):
    # given a token valid until 2020-05-08 13:02 Berlin time (11:02 UTC)
    clock = Clock(datetime(2020, 5, 7, 12, 0, tzinfo=UTC))
    adapter = _adapter(clock)
    login = responses.post(LOGIN_URL, body=_login())
    tracking = responses.post(TRACKING_URL, body=_sample(RETURNING))

    # when tracked twice the same day, then once within the renewal margin
    adapter.track([NUMBER], client=carrier_client)
    clock.now = datetime(2020, 5, 8, 10, 50, tzinfo=UTC)
    adapter.track([NUMBER], client=carrier_client)
    assert login.call_count == 1
    clock.now = datetime(2020, 5, 8, 10, 58, tzinfo=UTC)
    adapter.track([NUMBER], client=carrier_client)

    # then
    assert login.call_count == 2
    assert tracking.call_count == 3


@responses.activate
def test_dpd_track_refused_token_is_replaced_once(carrier_client):
    # given DPD revoked the cached token: the first tracking call is refused
    responses.post(LOGIN_URL, body=_login("OLD"))
    responses.post(LOGIN_URL, body=_login("NEW"))
    adapter = _adapter()
    refused = responses.post(
        TRACKING_URL,
        match=[matchers.body_matcher(adapter.tracking_request(NUMBER, "OLD"))],
        status=500,
        body=_sample(AUTH_FAULT),
    )
    accepted = responses.post(
        TRACKING_URL,
        match=[matchers.body_matcher(adapter.tracking_request(NUMBER, "NEW"))],
        body=_sample(RETURNING),
    )

    # when
    result, _ = adapter.track([NUMBER], client=carrier_client)

    # then
    assert refused.call_count == 1 and accepted.call_count == 1
    assert [s.tracking_number for s in result.shipments] == [NUMBER]


@responses.activate
def test_dpd_track_token_refused_twice_raises_auth_error(carrier_client):
    # given DPD refuses every token it hands out
    login = responses.post(LOGIN_URL, body=_login())
    tracking = responses.post(TRACKING_URL, status=500, body=_sample(AUTH_FAULT))

    # when / then one retry, then the courier is in fault
    with pytest.raises(CarrierAuthError):
        _adapter().track([NUMBER], client=carrier_client)
    assert login.call_count == 2
    assert tracking.call_count == 2


@responses.activate
def test_dpd_track_wrong_password_raises_auth_error(carrier_client):
    # given getAuth refuses delisId/password (HTTP 500 authenticationFault)
    responses.post(LOGIN_URL, status=500, body=_sample(AUTH_FAULT))
    tracking = responses.post(TRACKING_URL, body=_sample(RETURNING))

    # when / then
    with pytest.raises(CarrierAuthError, match="check delisId and password"):
        _adapter().track([NUMBER], client=carrier_client)
    assert tracking.call_count == 0


@pytest.mark.parametrize(
    ("url", "status", "body", "fault"),
    [
        (TRACKING_URL, 500, b"<html>Gateway error</html>", CarrierUnavailable),
        (TRACKING_URL, 500, _fault(message="Internal server error"), CarrierUnavailable),
        (LOGIN_URL, 500, _fault(message="Internal server error"), CarrierUnavailable),
        (LOGIN_URL, 500, b"<html>Gateway error</html>", CarrierPayloadError),
        (LOGIN_URL, 200, _login(token=""), CarrierPayloadError),
        (LOGIN_URL, 200, _login(expires="tomorrow"), CarrierPayloadError),
        (TRACKING_URL, 200, b"<soap:Envelope", CarrierPayloadError),
    ],
)
@responses.activate
def test_dpd_track_server_faults_become_carrier_faults(url, status, body, fault, carrier_client):
    # given one of DPD's services failing (the other answering normally)
    if url != LOGIN_URL:
        responses.post(LOGIN_URL, body=_login())
    if url != TRACKING_URL:
        responses.post(TRACKING_URL, body=_sample(RETURNING))
    responses.post(url, status=status, body=body)

    # when / then
    with pytest.raises(fault):
        _adapter().track([NUMBER], client=carrier_client)


@responses.activate
def test_dpd_fetch_sends_the_label_number_without_check_character_and_escaped(carrier_client):
    # given a number with its printed check character, and one carrying XML (upper-cased as
    # every number is)
    responses.post(LOGIN_URL, body=_login())
    route = responses.post(TRACKING_URL, body=_sample(RETURNING))

    # when
    _adapter().fetch([f"{NUMBER}Z", "<x>"], client=carrier_client)

    # then
    assert f"<parcelLabelNumber>{NUMBER}</parcelLabelNumber>" in _sent(route.calls[0])
    assert "<parcelLabelNumber>&lt;X&gt;</parcelLabelNumber>" in _sent(route.calls[1])


def test_dpd_auth_token_is_fetched_once_by_concurrent_threads(monkeypatch, carrier_client):
    # given a login that keeps its caller inside until another thread comes in (or a second
    # passes), shared by eight threads: without the lock, several threads log in
    adapter = _adapter()
    login = ContendedSection()
    start = threading.Barrier(8)

    def slow_login(_client):
        number = login.enter()
        return f"TOKEN-{number}", datetime(2020, 5, 8, 0, 0, tzinfo=UTC)

    monkeypatch.setattr(adapter, "_login", slow_login)
    tokens = []

    def worker():
        start.wait()
        tokens.append(adapter.auth_token(carrier_client))

    threads = [threading.Thread(target=worker) for _ in range(8)]

    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert login.entries == 1
    assert tokens == ["TOKEN-1"] * 8


def test_dpd_auth_token_refused_is_not_reused_but_a_newer_one_is(monkeypatch, carrier_client):
    # given a cached token
    adapter = _adapter()
    issued = iter(["A", "B"])
    expiry = datetime(2020, 5, 8, tzinfo=UTC) + timedelta(hours=1)
    monkeypatch.setattr(adapter, "_login", lambda _client: (next(issued), expiry))
    assert adapter.auth_token(carrier_client) == "A"

    # when "A" is refused, then a new one; a thread still holding "A" gets "B" without a login
    assert adapter.auth_token(carrier_client, refused="A") == "B"
    assert adapter.auth_token(carrier_client, refused="A") == "B"


# --- identity -------------------------------------------------------------------------------


def test_dpd_identity_patterns_and_url():
    # given
    adapter = _adapter()

    # when / then
    assert (adapter.slug, adapter.name, adapter.batch_size) == ("dpd", "DPD", 1)
    assert (adapter.delis_id, adapter.password) == ("KD1234", "secret&1")
    assert adapter.matches(NUMBER)
    assert adapter.matches(f"{NUMBER}Z")
    assert not adapter.matches("0530880141005")
    assert not adapter.matches("D5308801410058")
    assert adapter.tracking_url(NUMBER) == (
        f"https://www.dpdgroup.com/nl/mydpd/my-parcels/track?lang=en&parcelNumber={NUMBER}"
    )


# --- Answers other projects published (../shared), read as a person reading them would -------
# Through the operators' command, which shows what ingest would conclude (status derived from
# the events, the POD as it stands): per parcel (number, status, substatus, events, last event
# code, signatory; None without a POD), and per error (number, kind).


@pytest.mark.parametrize(
    ("name", "shipments", "errors"),
    [
        pytest.param(
            "dpd/karrio-1.xml",
            [("", "in_transit", None, 2, "BetweenDepots", None)],
            [],
            id="karrio-1.xml",
        ),  # at the dispatch centre; names no number
    ],
)
def test_dpd_published_answer_reads_as_a_person_would(capsys, name, shipments, errors):
    # given an answer published by karrio, saved as a file
    path = external_payload(name)

    # when the operators' command parses it
    call_command("tracking", "parse", "--carrier", "dpd", str(path))

    # then every parcel has the status a reader concludes, and every error its kind
    assert published_reading(json.loads(capsys.readouterr().out)) == (shipments, errors)
