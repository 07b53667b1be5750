import re
from datetime import datetime, timedelta, timezone

import pytest
import responses
from responses import matchers

from tests.support.shared_data import read_carrier_sample
from tracking.carriers.base import (
    CarrierEvent,
    CarrierPayloadError,
    CarrierUnavailable,
    Location,
    PodData,
    TrackingError,
)
from tracking.carriers.chronopost import STATUS_MAP, ChronopostAdapter, soap_request
from tracking.status import pod_standing, result_state

BASE_URL = "https://ws.chronopost.test"
ENDPOINT = f"{BASE_URL}/tracking-cxf/TrackingServiceWS"
CEST = timezone(timedelta(hours=2))
CET = timezone(timedelta(hours=1))


def _sample(name: str) -> bytes:
    return read_carrier_sample(name)


def _adapter() -> ChronopostAdapter:
    return ChronopostAdapter(base_url=BASE_URL + "/", account="19869502", password="255562")


def _at(day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2022, 6, day, hour, minute, second, tzinfo=CEST)


def _answer(*events: tuple[str, str, str], number: str = "XS123456785FR", info: str = "") -> bytes:
    """A trackSkybillV2 answer with events (code, label, eventDate) at a French depot."""
    rendered = "".join(
        f"<events><code>{code}</code><eventDate>{when}</eventDate>"
        f"<eventLabel>{label}</eventLabel><highPriority>false</highPriority><NPC>75</NPC>"
        f"<officeLabel>PARIS CHRONOPOST</officeLabel><zipCode>75015</zipCode>{info}</events>"
        for code, label, when in events
    )
    return (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        '<ns2:trackSkybillV2Response xmlns:ns2="http://cxf.tracking.soap.chronopost.fr/">'
        f"<return><errorCode>0</errorCode><listEventInfoComp>{rendered}"
        f"<skybillNumber>{number}</skybillNumber></listEventInfoComp></return>"
        "</ns2:trackSkybillV2Response></soap:Body></soap:Envelope>"
    ).encode()


# --- parse: the real samples ----------------------------------------------------------------


def test_chronopost_parse_delivered_sample_gives_the_full_normalised_shipment():
    # given the real answer for skybill 89108749065090 (events oldest first)
    body = _sample("chronopost_trackskybillv2_delivered.xml")

    # when
    result = _adapter().parse(body)

    # then every event, with its offset, code, label and depot
    assert result.errors == []
    [shipment] = result.shipments
    assert shipment.tracking_number == "89108749065090"
    arras = Location("ARRAS", "62223", "FR")
    assert shipment.events == (
        CarrierEvent(
            _at(19, 13, 47, 53),
            "info_received",
            None,
            "DC",
            "Shipment in preparation to be shipped",
            Location(),  # "Web Services": data received, not a place
        ),
        CarrierEvent(
            _at(20, 16, 54, 13),
            "in_transit",
            None,
            "DB",
            "Shipment handed over by shipper",
            Location("AMBOISE", "37400", "FR"),
        ),
        CarrierEvent(
            _at(20, 16, 57),
            "in_transit",
            None,
            "DY",
            "Parcel Registered by the post office",
            Location("AMBOISE", "37400", "FR"),
        ),
        CarrierEvent(
            _at(21, 19, 16, 6),
            "in_transit",
            None,
            "SC",
            "Sorted at departure location",
            Location("TOURS", "37000", "FR"),
        ),
        CarrierEvent(
            _at(21, 23, 36, 6),
            "in_transit",
            None,
            "TS",
            "Shipment in transit",
            Location("CHILLY MAZARIN", "91090", "FR"),
        ),
        CarrierEvent(_at(22, 2, 43, 25), "in_transit", None, "TS", "Shipment in transit", arras),
        CarrierEvent(
            _at(22, 2, 44), "in_transit", None, "SD", "Sorted at delivery location", arras
        ),
        CarrierEvent(
            _at(22, 7, 12, 5),
            "out_for_delivery",
            None,
            "TA",
            "Shipment in delivery to the consignee",
            arras,
        ),
        CarrierEvent(_at(22, 8, 30), "delivered", "delivered.signed", "D", "Delivered", arras),
    )
    assert [e.occurred_at.isoformat() for e in shipment.events][-2:] == [
        "2022-06-22T07:12:05+02:00",
        "2022-06-22T08:30:00+02:00",
    ]
    # and the POD: the consignee's name from infoCompList; no EDD in this operation
    assert shipment.pod == PodData(delivered_at=_at(22, 8, 30), signed_by="SOLVAREA")
    assert shipment.pod.as_dict() == {
        "signed_by": "SOLVAREA",
        "delivered_at": "2022-06-22T08:30:00+02:00",
        "location_type": "",
        "documents": [],
    }
    assert shipment.estimated_delivery is None
    assert shipment.estimated_delivery_end is None
    assert (result_state(shipment).status, result_state(shipment).substatus) == (
        "delivered",
        "delivered.signed",
    )


def test_chronopost_parse_error_sample_gives_an_error_without_number():
    # given the real errorCode 1 answer: it names no skybill
    body = _sample("chronopost_trackskybillv2_error.xml")

    # when
    result = _adapter().parse(body)

    # then
    assert result.shipments == []
    assert result.errors == [TrackingError("", "courier_error", "System Error")]


def test_chronopost_parse_success_without_events_is_not_found():
    # given errorCode 0 and no event: Chronopost's answer for a number it does not know
    body = _answer(number="XU000000015FR")

    # when
    result = _adapter().parse(body)

    # then
    assert result.shipments == []
    assert result.errors == [
        TrackingError(
            "XU000000015FR", "not_found", "Chronopost has no event for this skybill number"
        )
    ]


# --- the status table and the label rules ---------------------------------------------------


def test_chronopost_status_map_covers_every_code_of_the_real_sample():
    # given the codes of the only real answer (Chronopost publishes no list)
    codes = set(
        re.findall(
            r"<code>(\w+)</code>", _sample("chronopost_trackskybillv2_delivered.xml").decode()
        )
    )

    # when / then the table covers them, explicitly
    assert codes == set(STATUS_MAP)
    assert STATUS_MAP == {
        "DC": ("info_received", None),
        "DB": ("in_transit", None),
        "DY": ("in_transit", None),
        "SC": ("in_transit", None),
        "TS": ("in_transit", None),
        "SD": ("in_transit", None),
        "TA": ("out_for_delivery", None),
        "D": ("delivered", None),
    }


@pytest.mark.parametrize(
    ("label", "status", "substatus"),
    [
        (
            "Consignee absent, a delivery notice has been left",
            "failed_attempt",
            "failed_attempt.recipient_absent",
        ),
        (
            "Destinataire absent, avis de passage déposé",
            "failed_attempt",
            "failed_attempt.recipient_absent",
        ),
        ("Delivery impossible: the address is incomplete", "exception", "exception.address_issue"),
        ("Adresse incomplète", "exception", "exception.address_issue"),
        ("Shipment refused by the consignee", "exception", "exception.refused"),
        ("Shipment damaged", "exception", "exception.damaged"),
        ("Shipment held in customs", "exception", "exception.customs"),
        ("Shipment could not be located, an investigation is open", "exception", "exception.lost"),
        ("Shipment being returned to the sender", "exception", "exception.returning_to_sender"),
        ("Shipment delivered to the sender", "exception", "exception.returned_to_sender"),
        (
            "Shipment available for collection at the Pickup relay point",
            "available_for_pickup",
            None,
        ),
        ("Colis disponible en relais Pickup", "available_for_pickup", None),
        ("Shipment out for delivery", "out_for_delivery", None),
        ("Delivered to the consignee", "delivered", None),
        ("Arrival at the hub", "in_transit", None),
    ],
)
def test_chronopost_parse_unlisted_code_is_read_from_its_label(label, status, substatus):
    # given a code absent from the table
    body = _answer(("ZZ", label, "2022-06-22T10:00:00+02:00"))

    # when
    [event] = _adapter().parse(body).shipments[0].events

    # then
    assert (event.code, event.status, event.substatus) == ("ZZ", status, substatus)


@pytest.mark.parametrize(
    ("label", "substatus", "location_type"),
    [
        ("Delivered in the consignee's letter box", "delivered.mailbox", "mailbox"),
        (
            "Delivered to the consignee at the Pickup relay point",
            "delivered.pickup_point",
            "pickup_point",
        ),
        ("Livré en consigne Pickup Station", "delivered.pickup_point", "pickup_point"),
        ("Delivered to a neighbour", "delivered.neighbour", "neighbour"),
        ("Delivered", None, ""),
    ],
)
def test_chronopost_parse_delivery_place_comes_from_the_label(label, substatus, location_type):
    # given a D event without a consignee's name
    body = _answer(("D", label, "2022-06-22T10:00:00+02:00"))

    # when
    [shipment] = _adapter().parse(body).shipments

    # then
    assert shipment.events[0].substatus == substatus
    assert shipment.pod == PodData(
        delivered_at=datetime(2022, 6, 22, 10, 0, tzinfo=CEST), location_type=location_type
    )


def test_chronopost_parse_french_consignee_name_signs_the_delivery():
    # given a French answer (language fr_FR)
    info = "<infoCompList><name>Nom du destinataire</name><value>M. MARTIN</value></infoCompList>"
    body = _answer(("D", "Livraison effectuée", "2022-12-22T10:00:00+01:00"), info=info)

    # when
    [shipment] = _adapter().parse(body).shipments

    # then
    assert shipment.events[0].substatus == "delivered.signed"
    assert shipment.pod == PodData(datetime(2022, 12, 22, 10, tzinfo=CET), signed_by="M. MARTIN")


def test_chronopost_parse_return_after_delivery_has_no_pod():
    # given a delivery, then the parcel going back and reaching the sender
    body = _answer(
        ("XE", "Shipment delivered to the sender", "2022-06-25T10:00:00+02:00"),
        ("D", "Delivered", "2022-06-22T10:00:00+02:00"),
        ("XR", "Shipment being returned to the sender", "2022-06-23T10:00:00+02:00"),
    )

    # when
    [shipment] = _adapter().parse(body).shipments

    # then events are sorted by time whatever the order in the body, and no POD stands
    assert [e.code for e in shipment.events] == ["D", "XR", "XE"]
    assert result_state(shipment).substatus == "exception.returned_to_sender"
    assert pod_standing(shipment.pod, result_state(shipment)) is None  # the record's rule


def test_chronopost_parse_naive_time_is_read_in_paris():
    # given an eventDate without offset (never seen, but then it is French local time)
    body = _answer(("TS", "Shipment in transit", "2022-12-01T10:00:00"))

    # when
    [event] = _adapter().parse(body).shipments[0].events

    # then
    assert event.occurred_at.isoformat() == "2022-12-01T10:00:00+01:00"


def _mutated(old: str, new: str) -> bytes:
    body = _sample("chronopost_trackskybillv2_delivered.xml").decode()
    assert old in body
    return body.replace(old, new, 1).encode()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b"<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'>&lol2;</soap:Envelope>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'>&x;</soap:Envelope>"
)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"<html><body>Service Unavailable</body></html>", id="html"),
        pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
        pytest.param(_sample("chronopost_trackskybillv2_delivered.xml")[:900], id="truncated"),
        pytest.param(b'{"errorCode": 0}', id="json"),
        pytest.param(BILLION_LAUGHS, id="entity-expansion"),
        pytest.param(EXTERNAL_ENTITY, id="external-entity"),
        pytest.param(
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
            b"<soap:Body/></soap:Envelope>",
            id="no-return",
        ),
        pytest.param(
            _mutated("<errorCode>0</errorCode>", "<errorCode>OK</errorCode>"), id="errorCode-text"
        ),
        pytest.param(_mutated("<errorCode>0</errorCode>", ""), id="no-errorCode"),
        pytest.param(
            _mutated("<skybillNumber>89108749065090</skybillNumber>", ""), id="no-skybill"
        ),
        pytest.param(_mutated("<code>DC</code>", "<code></code>"), id="empty-code"),
        pytest.param(_mutated("2022-06-19T13:47:53+02:00", "19/06/2022 13:47"), id="bad-date"),
        pytest.param(
            _mutated("<eventDate>2022-06-19T13:47:53+02:00</eventDate>", ""), id="no-date"
        ),
        pytest.param(b"<return><errorCode>0</errorCode></return>", id="not-an-envelope"),
        pytest.param(
            _sample("chronopost_trackskybillv2_error.xml")
            .replace(b"<errorMessage>System Error</errorMessage>", b"")
            .replace(b"<errorCode>1</errorCode>", b"<errorCode>0</errorCode>"),
            id="success-without-list",
        ),
    ],
)
def test_chronopost_parse_malformed_body_raises_payload_error(body):
    # given a body that is not a trackSkybillV2 answer (or is an XML attack)
    # when / then the courier fault is raised, never a ParseError/KeyError/ValueError
    with pytest.raises(CarrierPayloadError):
        _adapter().parse(body)


# --- fetch and track ------------------------------------------------------------------------


@responses.activate
def test_chronopost_fetch_posts_one_soap_envelope_per_number(carrier_client):
    # given two numbers: trackSkybillV2 takes one skybill per call
    headers = matchers.header_matcher(
        {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    )
    first = responses.post(
        ENDPOINT,
        match=[headers, matchers.body_matcher(soap_request("89108749065090"))],
        body=_sample("chronopost_trackskybillv2_delivered.xml"),
    )
    second = responses.post(
        ENDPOINT,
        match=[headers, matchers.body_matcher(soap_request("XU000000015FR"))],
        body=_answer(number="XU000000015FR"),
    )

    # when
    result, answers = _adapter().track(["89108749065090", "XU000000015FR"], client=carrier_client)

    # then two POSTs, the real envelope, no credentials in it (the operation takes none)
    assert first.call_count == 1 and second.call_count == 1
    sent = first.calls[0].request.body
    sent = sent.decode() if isinstance(sent, bytes) else sent
    assert "<language>en_GB</language><skybillNumber>89108749065090</skybillNumber>" in sent
    assert "255562" not in sent
    assert [a.status_code for a in answers] == [200, 200]
    assert [s.tracking_number for s in result.shipments] == ["89108749065090"]
    assert result.errors == [
        TrackingError(
            "XU000000015FR", "not_found", "Chronopost has no event for this skybill number"
        )
    ]


@responses.activate
def test_chronopost_track_gives_an_anonymous_error_body_to_the_number_asked(carrier_client):
    # given Chronopost answers "System Error" (no number in the body)
    responses.post(ENDPOINT, body=_sample("chronopost_trackskybillv2_error.xml"))

    # when
    result, _ = _adapter().track(["XS123456785FR"], client=carrier_client)

    # then the error belongs to the number asked, once
    assert result.errors == [TrackingError("XS123456785FR", "courier_error", "System Error")]


@responses.activate
def test_chronopost_fetch_escapes_the_number_in_the_envelope(carrier_client):
    # given a number carrying XML (pasted garbage)
    route = responses.post(ENDPOINT, body=_answer(number="x"))

    # when
    _adapter().fetch(["<a>&"], client=carrier_client)

    # then it stays text inside skybillNumber
    sent = route.calls[0].request.body
    sent = sent.decode() if isinstance(sent, bytes) else sent
    assert "<skybillNumber>&lt;a&gt;&amp;</skybillNumber>" in sent


@responses.activate
def test_chronopost_fetch_soap_fault_500_is_unavailable(carrier_client):
    # given the service answers a SOAP fault with HTTP 500
    responses.post(ENDPOINT, status=500, body=b"<soap:Fault/>")

    # when / then
    with pytest.raises(CarrierUnavailable):
        _adapter().fetch(["XS123456785FR"], client=carrier_client)


# --- identity -------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["XN081879383FR", "EE123456785FR", "89108749065090"])
def test_chronopost_matches_skybill_numbers(number):
    # given / when / then
    assert _adapter().matches(number)


@pytest.mark.parametrize("number", ["XN08187938FR", "EW112720413GB", "8910874906509", "ABC"])
def test_chronopost_does_not_match_other_formats(number):
    # given / when / then
    assert not _adapter().matches(number)


def test_chronopost_identity_and_tracking_url():
    # given
    adapter = _adapter()

    # when / then
    assert (adapter.slug, adapter.name, adapter.batch_size) == ("chronopost", "Chronopost", 1)
    assert (adapter.account, adapter.password) == ("19869502", "255562")
    assert adapter.tracking_url("XN081879383FR") == (
        "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT=XN081879383FR"
    )


def test_chronopost_parse_answer_without_soap_envelope_reads_like_the_enveloped_one():
    # given Chronopost's delivered answer with only the response element (no Envelope/Body);
    # the element declares its own namespace, so it stands alone
    enveloped = _sample("chronopost_trackskybillv2_delivered.xml")
    text = enveloped.decode()
    start = text.index("<ns2:trackSkybillV2Response")
    end = text.index("</ns2:trackSkybillV2Response>") + len("</ns2:trackSkybillV2Response>")
    bare = text[start:end].encode()

    # when / then the same shipment
    assert _adapter().parse(bare) == _adapter().parse(enveloped)
    assert _adapter().parse(bare).shipments[0].events
