import base64
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import responses
from django.core.management import call_command
from responses import matchers

from tests.support.shared_data import (
    carrier_sample,
    external_payload,
    published_reading,
    read_carrier_sample,
)
from tracking.carriers import get_adapter
from tracking.carriers.base import (
    CarrierAuthError,
    CarrierEvent,
    CarrierPayloadError,
    Location,
    PodData,
    TrackingError,
)
from tracking.carriers.dhlexpress import (
    SAMPLE_CODES,
    SERVICE_AREA_ZONES,
    STATUS_MAP,
    DhlExpressAdapter,
)
from tracking.status import Status, Substatus, pod_standing, result_state

BASE_URL = "https://express.api.dhl.test/mydhlapi"
CEST = timezone(timedelta(hours=2))  # Barcelona, Leipzig, Bergamo, Milan in August
HKT = timezone(timedelta(hours=8))  # Singapore and Hong Kong
JAMAICA = timezone(timedelta(hours=-5))
EST = timezone(timedelta(hours=-5))  # New York in January
PST = timezone(timedelta(hours=-8))  # Los Angeles in January

# The codes DHL lists for Express (status_1.csv "express" rows), besides the samples'.
DHL_EXPRESS_LIST = [
    "AD",
    "AF",
    "AR",
    "BA",
    "BN",
    "BR",
    "CA",
    "CC",
    "CD",
    "CM",
    "CR",
    "CS",
    "DD",
    "DF",
    "DS",
    "FD",
    "HP",
    "IC",
    "MC",
    "MD",
    "MS",
    "ND",
    "NH",
    "OH",
    "OK",
    "PD",
    "PL",
    "PU",
    "RD",
    "RR",
    "RT",
    "SA",
    "SC",
    "SS",
    "TP",
    "TR",
    "UD",
    "WC",
]
# Codes the brief lists besides DHL's own list (karrio's tables and the samples).
OTHER_CODES = ["HI", "HO", "IA", "OF", "PO", "RW"]


def _sample(name: str) -> bytes:
    return read_carrier_sample(name)


def _adapter(**credentials) -> DhlExpressAdapter:
    credentials = credentials or {"username": "merchant", "password": "s3cret"}
    return DhlExpressAdapter(base_url=BASE_URL, **credentials)


def _event(
    code: str,
    description: str = "",
    *,
    day: str = "2024-05-20",
    time: str = "10:00:00",
    offset: str | None = "+02:00",
    area: tuple[str, str] = ("PAR", "Paris-FR"),
    signed_by: str = "",
) -> dict:
    event = {"date": day, "time": time, "typeCode": code, "description": description}
    if offset is not None:
        event["GMTOffset"] = offset
    event["serviceArea"] = [{"code": area[0], "description": area[1]}]
    event["signedBy"] = signed_by
    return event


def _body(*events: dict, **fields) -> bytes:
    """A MyDHL answer; events given newest first, as MyDHL lists them."""
    shipment = {"shipmentTrackingNumber": "1234567890", "events": list(events), **fields}
    return json.dumps({"shipments": [shipment]}).encode()


def _parse_one(body: bytes):
    result = _adapter().parse(body)
    assert result.errors == []
    [shipment] = result.shipments
    return shipment


def _events(rows, zone) -> tuple[CarrierEvent, ...]:
    """(local time, status, substatus, code, message, city, country) rows as events."""
    return tuple(
        CarrierEvent(
            datetime.fromisoformat(stamp).replace(tzinfo=zone),
            status,
            substatus,
            code,
            message,
            Location(city=city, country=country),
        )
        for stamp, status, substatus, code, message, city, country in rows
    )


T, D = Status.IN_TRANSIT, Status.DELIVERED


# --- parse: the samples ---------------------------------------------------------------------


def test_dhlexpress_parse_xmlpi_multi_awb_sample_gives_the_three_full_shipments():
    # given the legacy XML-PI answer for three waybills (local times, no offsets)
    body = _sample("dhl_express_xmlpi_delivered_multi_awb.xml")

    # when
    result = _adapter().parse(body)

    # then every checkpoint, oldest first, read in its service area's zone (summer time)
    assert result.errors == []
    delivered, singapore, hong_kong = result.shipments
    assert delivered.tracking_number == "3180831640"
    assert delivered.events == _events(
        [
            ("2009-08-28T13:26:00", T, None, "PU", "Shipment picked up", "Barcelona", "ES"),
            ("2009-08-28T19:27:00", T, None, "PO", "Departing origin", "Barcelona", "ES"),
            ("2009-08-28T19:27:00", T, None, "RW", "", "Barcelona", "ES"),
            (
                "2009-08-28T20:39:01",
                *(T, None, "PL", "Processed at Location Barcelona - Spain"),
                *("Barcelona", "ES"),
            ),
            (
                "2009-08-28T21:17:57",
                *(T, None, "AF", "Arrived at DHL facility in Barcelona - Spain"),
                *("Barcelona", "ES"),
            ),
            (
                "2009-08-28T22:01:00",
                *(T, None, "DF", "Departed from DHL facility in Barcelona - Spain"),
                *("Barcelona", "ES"),
            ),
            (
                "2009-08-29T00:32:16",
                *(T, None, "AF", "Arrived at DHL facility in Leipzig - Germany"),
                *("Leipzig", "DE"),
            ),
            (
                "2009-08-29T01:05:03",
                *(T, None, "PL", "Processed at Location Leipzig - Germany"),
                *("Leipzig", "DE"),
            ),
            (
                "2009-08-29T05:52:19",
                *(T, None, "DF", "Departed from DHL facility in Leipzig - Germany"),
                *("Leipzig", "DE"),
            ),
            (
                "2009-08-30T19:43:22",
                *(T, None, "AF", "Arrived at DHL facility in Bergamo - Italy"),
                *("Bergamo", "IT"),
            ),
            (
                "2009-08-30T23:30:00",
                *(T, None, "PL", "Processed at Location Bergamo - Italy"),
                *("Bergamo", "IT"),
            ),
            (
                "2009-08-31T02:06:00",
                *(T, None, "DF", "Departed from DHL facility in Bergamo - Italy"),
                *("Bergamo", "IT"),
            ),
            (
                "2009-08-31T06:23:00",
                *(T, None, "DF", "Departed from DHL facility in Milan - Italy"),
                *("Milan", "IT"),
            ),
            (
                "2009-08-31T08:59:00",
                *(T, None, "AR", "Arrived at DHL facility in Milan - Italy"),
                *("Milan", "IT"),
            ),
            (
                "2009-08-31T09:19:00",
                *(Status.OUT_FOR_DELIVERY, None, "WC", "With delivery courier"),
                *("Milan", "IT"),
            ),
            (
                "2009-08-31T10:09:00",
                *(D, Substatus.DELIVERED_SIGNED, "OK", "Shipment delivered"),
                *("Milan", "IT"),
            ),
        ],
        CEST,
    )
    assert delivered.events[0].occurred_at.isoformat() == "2009-08-28T13:26:00+02:00"
    # the POD is the OK checkpoint's signatory; the account number on PU is nobody
    assert delivered.pod == PodData(
        delivered_at=datetime(2009, 8, 31, 10, 9, tzinfo=CEST), signed_by="CAMPAGNA"
    )
    assert delivered.estimated_delivery is None
    assert (result_state(delivered).status, result_state(delivered).substatus) == (
        D,
        "delivered.signed",
    )

    assert singapore.tracking_number == "7740842550"
    assert singapore.events == _events(
        [("2009-08-26T10:00:00", T, None, "PU", "Shipment picked up", "Singapore", "SG")], HKT
    )
    assert (singapore.pod, singapore.estimated_delivery) == (None, None)

    # the reweigh's "Signatory" is the new weight (21.20), not a person: no POD, in transit
    assert hong_kong.tracking_number == "1815115363"
    assert hong_kong.events == _events(
        [
            ("2009-08-13T23:58:00", T, None, "PU", "Shipment picked up", "Hong Kong", "HK"),
            ("2009-08-14T02:19:50", T, None, "RW", "", "Hong Kong", "HK"),
        ],
        HKT,
    )
    assert (hong_kong.pod, hong_kong.estimated_delivery) == (None, None)
    assert result_state(hong_kong).status == T


def test_dhlexpress_parse_xmlpi_picked_up_sample_gives_the_estimate_with_its_offset():
    # given the real in-transit XML-PI answer with EstDlvyDate "… GMT-04:00"
    body = _sample("dhl_express_xmlpi_picked_up.xml")

    # when
    result = _adapter().parse(body)

    # then Kingston's scan in Jamaica's time (-05:00, no summer time), the estimate at the
    # destination's own offset, and no POD
    assert result.errors == []
    [shipment] = result.shipments
    assert shipment.tracking_number == "9053283201"
    assert shipment.events == _events(
        [("2021-05-05T09:42:00", T, None, "PU", "Shipment picked up", "KINGSTON", "JM")],
        JAMAICA,
    )
    assert shipment.events[0].occurred_at.isoformat() == "2021-05-05T09:42:00-05:00"
    assert shipment.estimated_delivery == datetime(
        2021, 5, 7, 23, 59, tzinfo=timezone(timedelta(hours=-4))
    )
    # the same instant as EstDlvyDateUTC
    assert shipment.estimated_delivery == datetime(2021, 5, 8, 3, 59, tzinfo=UTC)
    assert shipment.estimated_delivery_end is None
    assert shipment.pod is None
    assert result_state(shipment).status == T


def test_dhlexpress_parse_mydhl_sample_gives_the_full_normalised_shipment():
    # given karrio's synthetic MyDHL answer (no GMTOffset, US service areas without country)
    body = _sample("dhl_mydhl_express_delivered_synthetic.json")

    # when
    result = _adapter().parse(body)

    # then oldest first, each time in its service area's zone ("Los Angeles, CA" -> Pacific,
    # "New York, NY" -> Eastern), the estimate in the delivering area's zone
    assert result.errors == []
    [shipment] = result.shipments
    assert shipment.tracking_number == "9356579890"
    assert shipment.events == (
        CarrierEvent(
            datetime(2024, 1, 15, 8, 0, tzinfo=PST),
            T,
            None,
            "PU",
            "Shipment picked up",
            Location(city="Los Angeles", country="US"),
        ),
        CarrierEvent(
            datetime(2024, 1, 15, 17, 0, tzinfo=EST),
            D,
            None,
            "OK",
            "Shipment delivered",
            Location(city="New York", country="US"),
        ),
    )
    assert [e.occurred_at.isoformat() for e in shipment.events] == [
        "2024-01-15T08:00:00-08:00",
        "2024-01-15T17:00:00-05:00",
    ]
    assert shipment.estimated_delivery == datetime(2024, 1, 15, 17, 0, tzinfo=EST)
    # delivered without a signatory: a POD with no name, not delivered.signed
    assert shipment.pod == PodData(delivered_at=datetime(2024, 1, 15, 17, 0, tzinfo=EST))
    assert (result_state(shipment).status, result_state(shipment).substatus) == (D, None)


@pytest.mark.parametrize(
    "name",
    [
        "dhl_express_xmlpi_delivered_multi_awb.xml",
        "dhl_express_xmlpi_picked_up.xml",
        "dhl_mydhl_express_delivered_synthetic.json",
    ],
)
def test_dhlexpress_parse_command_reads_every_sample(capsys, name):
    # when the operators' command parses the sample
    call_command("tracking", "parse", "--carrier", "dhlexpress", str(carrier_sample(name)))
    out = json.loads(capsys.readouterr().out)

    # then it says what the adapter says, times with their offsets
    expected = _adapter().parse(_sample(name))
    assert out["carrier"] == "dhlexpress"
    assert out["errors"] == []
    assert [s["tracking_number"] for s in out["shipments"]] == [
        s.tracking_number for s in expected.shipments
    ]
    for shipment, parsed in zip(out["shipments"], expected.shipments, strict=True):
        assert shipment["status"] == result_state(parsed).status
        assert [e["occurred_at"] for e in shipment["events"]] == [
            e.occurred_at.isoformat() for e in parsed.events
        ]
        assert all(e["occurred_at"][-6] in "+-" for e in shipment["events"])


def test_dhlexpress_parse_command_gives_the_delivered_pod_and_edd(capsys):
    call_command(
        "tracking",
        "parse",
        "--carrier",
        "dhlexpress",
        str(carrier_sample("dhl_express_xmlpi_delivered_multi_awb.xml")),
    )
    delivered = json.loads(capsys.readouterr().out)["shipments"][0]
    assert delivered["pod"] == {
        "signed_by": "CAMPAGNA",
        "delivered_at": "2009-08-31T10:09:00+02:00",
        "location_type": "",
        "documents": [],
    }
    assert (delivered["status"], delivered["substatus"]) == ("delivered", "delivered.signed")
    call_command(
        "tracking",
        "parse",
        "--carrier",
        "dhlexpress",
        str(carrier_sample("dhl_express_xmlpi_picked_up.xml")),
    )
    picked_up = json.loads(capsys.readouterr().out)["shipments"][0]
    assert picked_up["estimated_delivery"] == "2021-05-07T23:59:00-04:00"


# --- parse: error payloads ------------------------------------------------------------------


XMLPI_NOT_FOUND = b"""<?xml version="1.0" encoding="UTF-8"?>
<res:TrackingResponse xmlns:res="http://www.dhl.com">
  <Response><ServiceHeader><MessageTime>2002-06-25T11:28:56-08:00</MessageTime></ServiceHeader>
  </Response>
  <AWBInfo>
    <AWBNumber/>
    <Status>
      <ActionStatus>No Shipments Found</ActionStatus>
      <Condition><ConditionCode>103</ConditionCode>
        <ConditionData>No Shipments Found for AWBNumber 123456789</ConditionData></Condition>
    </Status>
  </AWBInfo>
</res:TrackingResponse>"""

XMLPI_AUTH_ERROR = b"""<?xml version="1.0" encoding="UTF-8"?>
<req:ShipmentTrackingErrorResponse xmlns:req="http://www.dhl.com">
  <Response>
    <ServiceHeader><MessageTime>2018-06-28T01:12:53+01:00</MessageTime></ServiceHeader>
    <Status>
      <ActionStatus>Failure</ActionStatus>
      <Condition>
        <ConditionCode>111</ConditionCode>
        <ConditionData> Error Parsing incoming request XML
          Error: Datatype error: In element &apos;Password&apos; : Value &apos;testPwd&apos;
          with length &apos;7&apos; is less than minimum length facet of &apos;8&apos;.
        </ConditionData>
      </Condition>
    </Status>
  </Response>
</req:ShipmentTrackingErrorResponse>"""


def test_dhlexpress_parse_xmlpi_not_found_names_the_number_from_the_condition():
    # when
    result = _adapter().parse(XMLPI_NOT_FOUND)

    # then
    assert result.shipments == []
    assert result.errors == [
        TrackingError("123456789", "not_found", "No Shipments Found for AWBNumber 123456789")
    ]


def test_dhlexpress_parse_xmlpi_request_failure_about_the_password_is_an_auth_error():
    # when
    result = _adapter().parse(XMLPI_AUTH_ERROR)

    # then an account error, for no number
    [error] = result.errors
    assert (error.tracking_number, error.code) == ("", "auth_failed")
    assert error.message.startswith("Error Parsing incoming request XML Error: Datatype error")


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        (
            {
                "instance": "/expressapi/shipments/1234567890/tracking",
                "detail": "No shipment found",
                "title": "Not Found",
                "status": "404",
            },
            TrackingError("1234567890", "not_found", "No shipment found"),
        ),
        (
            {
                "instance": "/expressapi/tracking?shipmentTrackingNumber=12",
                "detail": "Invalid value for shipmentTrackingNumber: 12",
                "title": "Bad Request",
                "status": "400",
            },
            TrackingError("12", "invalid_number", "Invalid value for shipmentTrackingNumber: 12"),
        ),
        (
            # karrio's MyDHL ErrorResponse: a bad request that is about no number
            {
                "instance": "/expressapi/tracking?shipmentReference=ShipReferenceRCS03"
                "&trackingView=shipment-details-only&levelOfDetail=shipment",
                "detail": "Missing mandatory parameters: shipperAccountNumber",
                "title": "Missing parameters",
                "message": "Bad request",
                "status": "400",
            },
            TrackingError(
                "", "invalid_request", "Missing mandatory parameters: shipperAccountNumber"
            ),
        ),
        (
            {"title": "Unauthorized", "detail": "Invalid Credentials", "status": "401"},
            TrackingError("", "auth_failed", "Invalid Credentials"),
        ),
        (
            {"title": "Too Many Requests", "message": "Rate limit exceeded", "status": 429},
            TrackingError("", "rate_limited", "Rate limit exceeded"),
        ),
        (
            {"title": "Bad Gateway", "detail": "Upstream failed", "status": "502"},
            TrackingError("", "unavailable", "Upstream failed"),
        ),
    ],
)
def test_dhlexpress_parse_mydhl_problem_bodies_become_errors(problem, expected):
    # when
    result = _adapter().parse(json.dumps(problem).encode())

    # then
    assert result.shipments == []
    assert result.errors == [expected]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"shipments": {}}',
        b'{"shipments": [{"events": []}]}',
        b'{"shipments": [{"shipmentTrackingNumber": "1", "events": [{"date": "2024-05-20"}]}]}',
        b'{"shipments": [{"shipmentTrackingNumber": "1", "events": [{"typeCode": "PU", '
        b'"date": "yesterday", "time": "10:00"}]}]}',
        b'{"shipments": [{"shipmentTrackingNumber": "1", "events": [{"typeCode": "PU", '
        b'"date": "2024-05-20", "time": "10:00:00", "GMTOffset": "+25:00"}]}]}',
        b'{"status": "404"}',
        b"<html><body>Bad gateway</body></html>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><TrackingResponse/>',
        b"<TrackingResponse><AWBInfo><Status><ActionStatus>success</ActionStatus></Status>"
        b"</AWBInfo></TrackingResponse>",
    ],
)
def test_dhlexpress_parse_malformed_body_raises_payload_error(body):
    with pytest.raises(CarrierPayloadError):
        _adapter().parse(body)


# --- parse: the code table ------------------------------------------------------------------


def test_dhlexpress_status_map_covers_the_samples_and_dhls_express_list():
    # given / when / then: every code DHL lists for Express, the samples' and the brief's
    for code in (*SAMPLE_CODES, *DHL_EXPRESS_LIST, *OTHER_CODES):
        assert code in STATUS_MAP, code
    for status, substatus in STATUS_MAP.values():
        assert status in set(Status)
        assert substatus is None or substatus in set(Substatus)
        assert substatus is None or substatus.startswith(f"{status}.")


@pytest.mark.parametrize(
    ("code", "description", "expected"),
    [
        ("PU", "Shipment picked up", (T, None)),
        ("SA", "Shipment acceptance", (T, None)),
        ("PL", "Processed at PARIS - FRANCE", (T, None)),
        ("AF", "Arrived at DHL Sort Facility PARIS", (T, None)),
        ("DF", "Departed Facility in LEIPZIG", (T, None)),
        ("AR", "Arrived at DHL Delivery Facility", (T, None)),
        ("CR", "Clearance processing complete", (T, None)),
        ("BN", "Customer broker notified", (T, None)),
        ("TP", "Forwarded to third party", (T, None)),
        ("WC", "With delivery courier", (Status.OUT_FOR_DELIVERY, None)),
        ("CC", "Awaiting collection", (Status.AVAILABLE_FOR_PICKUP, None)),
        ("NH", "Recipient not home", (Status.FAILED_ATTEMPT, "failed_attempt.recipient_absent")),
        ("CA", "Closed on arrival", (Status.FAILED_ATTEMPT, "failed_attempt.recipient_absent")),
        ("ND", "Not delivered", (Status.FAILED_ATTEMPT, None)),
        ("BA", "Bad address", (Status.EXCEPTION, "exception.address_issue")),
        ("CM", "Customer moved", (Status.EXCEPTION, "exception.address_issue")),
        ("RD", "Refused delivery", (Status.EXCEPTION, "exception.refused")),
        ("DD", "Delivered damaged", (Status.EXCEPTION, "exception.damaged")),
        ("HP", "Held for payment", (Status.EXCEPTION, "exception.customs")),
        ("CD", "Clearance delay", (Status.EXCEPTION, "exception.customs")),
        ("UD", "Clearance delay", (Status.EXCEPTION, "exception.customs")),
        ("MD", "Missed delivery cycle", (Status.EXCEPTION, "exception.delayed")),
        ("TD", "Transport delay", (Status.EXCEPTION, "exception.delayed")),
        ("MS", "Mis-sort", (Status.EXCEPTION, "exception.delayed")),
        ("OH", "On hold", (Status.EXCEPTION, "exception.other")),
        ("OH", "On hold - shipment could not be located", (Status.EXCEPTION, "exception.lost")),
        ("OH", "Shipment on hold at customs", (Status.EXCEPTION, "exception.customs")),
        ("PD", "Partial delivery", (Status.EXCEPTION, "exception.other")),
        ("RT", "Returned to consignor", (Status.EXCEPTION, "exception.returning_to_sender")),
        ("DS", "Destroyed / disposal", (Status.EXCEPTION, "exception.lost")),
        ("OK", "Delivered", (D, None)),
        ("OK", "Delivered - left in mailbox", (D, "delivered.mailbox")),
        ("OK", "Delivered to neighbour", (D, "delivered.neighbour")),
        ("OK", "Delivered at DHL Service Point", (D, "delivered.pickup_point")),
        (
            "OK",
            "Delivered - returned to shipper",
            (Status.EXCEPTION, "exception.returned_to_sender"),
        ),
        ("ZZ", "A checkpoint DHL adds tomorrow", (T, None)),
    ],
)
def test_dhlexpress_parse_code_and_description_decide(code, description, expected):
    # given one checkpoint
    body = _body(_event(code, description))

    # when
    [event] = _parse_one(body).events

    # then
    assert (event.status, event.substatus) == expected
    assert event.code == code


def test_dhlexpress_parse_ok_with_signer_is_signed_and_gives_the_pod():
    # given a delivery signed for, after the courier's scan
    body = _body(
        _event("OK", "Delivered", time="14:05:00", signed_by="M. MARTIN"),
        _event("WC", "With delivery courier", time="08:10:00"),
    )

    # when
    shipment = _parse_one(body)

    # then
    assert [e.code for e in shipment.events] == ["WC", "OK"]
    assert shipment.events[-1].substatus == Substatus.DELIVERED_SIGNED
    assert shipment.pod == PodData(
        delivered_at=datetime(2024, 5, 20, 14, 5, tzinfo=CEST), signed_by="M. MARTIN"
    )


def test_dhlexpress_parse_return_after_delivery_gives_no_pod():
    # given a delivery, then the parcel sent back
    body = _body(
        _event("RT", "Returned to consignor", day="2024-05-22"),
        _event("OK", "Delivered", signed_by="M. MARTIN"),
    )

    # when
    shipment = _parse_one(body)

    # then the return stands and there is no proof of delivery
    assert result_state(shipment).substatus == Substatus.EXCEPTION_RETURNING_TO_SENDER
    assert pod_standing(shipment.pod, result_state(shipment)) is None  # the record's rule


# --- parse: times, places, estimate ----------------------------------------------------------


def test_dhlexpress_parse_gmt_offset_wins_over_the_service_area():
    # given a scan in Tokyo's service area but stamped +09:00, and one with an offset without colon
    body = _body(
        _event("AF", day="2024-05-21", offset="-0400", area=("JFK", "NEW YORK-USA")),
        _event("PU", offset="+09:00", area=("TYO", "Tokyo-JP")),
    )

    # when
    first, second = _parse_one(body).events

    # then
    assert first.occurred_at.isoformat() == "2024-05-20T10:00:00+09:00"
    assert first.location == Location(city="Tokyo", country="JP")
    assert second.occurred_at.isoformat() == "2024-05-21T10:00:00-04:00"
    assert second.location == Location(city="NEW YORK", country="US")


@pytest.mark.parametrize(
    ("area", "location", "utc_offset_hours"),
    [
        (("BCN", "Barcelona - Spain "), Location("Barcelona", "", "ES"), 2),
        (("KIN", "KINGSTON-JAM"), Location("KINGSTON", "", "JM"), -5),
        (("LGA", "SPRINGFIELD GARDENS,NY-USA"), Location("SPRINGFIELD GARDENS", "", "US"), -4),
        (("XYZ", "Denver, CO"), Location("Denver", "", "US"), -6),
        (("BNE", "Brisbane-AU"), Location("Brisbane", "", "AU"), 10),
        (("QQQ", "Clermont-Ferrand-FR"), Location("Clermont-Ferrand", "", "FR"), 2),
        (("QQQ", "Aix-en-Provence"), Location("Aix-en-Provence", "", ""), 0),
        (("QQQ", "Hong Kong - Hong Kong"), Location("Hong Kong", "", "HK"), 8),
    ],
)
def test_dhlexpress_parse_naive_time_is_read_in_the_service_areas_zone(
    area, location, utc_offset_hours
):
    # given a scan without GMTOffset (late May: summer time in the north)
    body = _body(_event("PL", offset=None, area=area))

    # when
    [event] = _parse_one(body).events

    # then the place, and the zone from the code, the US state or the country (UTC if none)
    assert event.location == location
    assert event.occurred_at.utcoffset() == timedelta(hours=utc_offset_hours)


def test_dhlexpress_service_area_zones_are_real_zones():
    from zoneinfo import ZoneInfo

    for name in SERVICE_AREA_ZONES.values():
        ZoneInfo(name)


def test_dhlexpress_parse_estimate_uses_the_receivers_zone_or_a_bare_day():
    # given an estimate without offset and a receiver in Paris, then only a day
    receiver = {
        "postalAddress": {"cityName": "Lyon", "postalCode": "69007", "countryCode": "FR"},
        "serviceArea": [{"code": "LYS", "description": "Lyon-FR"}],
    }
    timed = _body(
        _event("PU", area=("NYC", "New York, NY"), offset=None),
        estimatedTimeOfDelivery="2024-05-22T18:00:00",
        receiverDetails=receiver,
    )
    day_only = _body(_event("PU"), estimatedDeliveryDate="2024-05-22")

    # when / then
    assert _parse_one(timed).estimated_delivery == datetime(2024, 5, 22, 18, 0, tzinfo=CEST)
    assert _parse_one(day_only).estimated_delivery == date(2024, 5, 22)


def test_dhlexpress_parse_shipment_without_events_is_information_received():
    # given a shipment DHL knows but has not picked up yet
    shipper = {
        "postalAddress": {"countryCode": "FR"},
        "serviceArea": [{"code": "PAR", "description": "Paris-FR"}],
    }
    body = _body(shipmentTimestamp="2024-05-19T09:30:00", shipperDetails=shipper)

    # when
    [event] = _parse_one(body).events

    # then one pre-transit event at the shipment's timestamp, in the shipper's zone
    assert event == CarrierEvent(
        datetime(2024, 5, 19, 9, 30, tzinfo=CEST),
        Status.INFO_RECEIVED,
        None,
        "pre-transit",
        "Shipment information received",
        Location(city="Paris", country="FR"),
    )


def test_dhlexpress_parse_shipment_without_events_nor_timestamp_has_no_event():
    assert _parse_one(_body()).events == ()


# --- fetch and track ------------------------------------------------------------------------


def _basic(user: str = "merchant", password: str = "s3cret") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@responses.activate
def test_dhlexpress_fetch_tracks_one_number_on_its_own_path_with_basic_auth(carrier_client):
    # given
    responses.get(
        f"{BASE_URL}/shipments/9356579890/tracking",
        match=[
            matchers.header_matcher({"Authorization": _basic(), "Accept": "application/json"}),
            matchers.query_param_matcher(
                {"trackingView": "all-checkpoints", "levelOfDetail": "shipment"}
            ),
        ],
        body=_sample("dhl_mydhl_express_delivered_synthetic.json"),
    )

    # when
    result, answers = _adapter().track(["9356579890"], client=carrier_client)

    # then
    assert len(answers) == 1
    assert [s.tracking_number for s in result.shipments] == ["9356579890"]
    assert result.errors == []


@responses.activate
def test_dhlexpress_fetch_batches_numbers_in_one_get_tracking(carrier_client):
    # given twelve waybills (batch size 10)
    numbers = [f"{serial:09d}{serial % 7}" for serial in range(100000000, 100000012)]
    for _ in range(2):
        responses.get(f"{BASE_URL}/tracking", json={"shipments": []})

    # when
    result, answers = _adapter().track(numbers, client=carrier_client)

    # then two requests, the numbers as repeated shipmentTrackingNumber parameters
    assert len(answers) == 2
    first, second = (call.request for call in responses.calls)
    assert first.params["shipmentTrackingNumber"] == numbers[:10]
    assert second.params["shipmentTrackingNumber"] == numbers[10:]
    assert first.params["trackingView"] == "all-checkpoints"
    assert first.headers["Authorization"] == _basic()
    # and DHL's silence about them is a per-number error each
    assert sorted(e.tracking_number for e in result.errors) == sorted(numbers)
    assert {e.code for e in result.errors} == {"not_returned"}


@responses.activate
def test_dhlexpress_track_gives_a_batch_404_to_each_number_of_its_request(carrier_client):
    # given a batch answer that names no number
    responses.get(
        f"{BASE_URL}/tracking",
        status=404,
        json={"title": "Not Found", "detail": "No shipment found", "status": "404"},
    )

    # when
    result, _answers = _adapter().track(["1000000001", "1000000012"], client=carrier_client)

    # then
    assert sorted((e.tracking_number, e.code) for e in result.errors) == [
        ("1000000001", "not_found"),
        ("1000000012", "not_found"),
    ]


def test_dhlexpress_fetch_without_credentials_raises_auth_error_before_calling(carrier_client):
    with pytest.raises(CarrierAuthError):
        _adapter(username="", password="").track(["9356579890"], client=carrier_client)


# --- identity -------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["3180831640", "9053283201", "1815115363", "9356579890"])
def test_dhlexpress_matches_waybills_with_their_mod7_check_digit(number):
    assert _adapter().matches(number)


@pytest.mark.parametrize("number", ["3180831641", "318083164", "31808316400", "JJD0123456789"])
def test_dhlexpress_does_not_match_other_formats(number):
    assert not _adapter().matches(number)


def test_dhlexpress_is_registered_with_settings_and_a_tracking_url():
    adapter = get_adapter("dhlexpress")
    assert isinstance(adapter, DhlExpressAdapter)
    assert adapter.username and adapter.password
    assert adapter.tracking_url("3180831640").endswith("tracking-id=3180831640")


# --- Answers other projects published (../shared), read as a person reading them would -------
# Through the operators' command, which shows what ingest would conclude (status derived from
# the events, the POD as it stands): per parcel (number, status, substatus, events, last event
# code, signatory; None without a POD), and per error (number, kind).


@pytest.mark.parametrize(
    ("name", "shipments", "errors"),
    [
        pytest.param(
            "dhlexpress/karrio-1.xml",
            [],
            [("", "auth_failed")],
            id="karrio-1.xml",
        ),  # condition 111: the password is refused
        pytest.param(
            "dhlexpress/karrio-2.xml",
            [],
            [("123456789", "not_found")],
            id="karrio-2.xml",
        ),  # 103 No Shipments Found
        pytest.param(
            "dhlexpress/karrio-3.json",
            [("1234567890", "in_transit", None, 1, "PU", None)],
            [],
            id="karrio-3.json",
        ),  # picked up
        pytest.param(
            "dhlexpress/mydhl-openapi-1.json",
            [("1234567890", "delivered", None, 13, "OK", "")],
            [],
            id="mydhl-openapi-1.json",
        ),  # delivered, signedBy empty
        pytest.param(
            "dhlexpress/mydhl-openapi-2.json",
            [],
            [("1251820953", "not_found")],
            id="mydhl-openapi-2.json",
        ),  # 404 No data found
        pytest.param(
            "dhlexpress/mydhl-openapi-3.json",
            [],
            [("", "invalid_request")],
            id="mydhl-openapi-3.json",
        ),  # 400 missing shipperAccountNumber
    ],
)
def test_dhlexpress_published_answer_reads_as_a_person_would(capsys, name, shipments, errors):
    # given an answer published by karrio, MyDHL's OpenAPI, saved as a file
    path = external_payload(name)

    # when the operators' command parses it
    call_command("tracking", "parse", "--carrier", "dhlexpress", str(path))

    # then every parcel has the status a reader concludes, and every error its kind
    assert published_reading(json.loads(capsys.readouterr().out)) == (shipments, errors)
