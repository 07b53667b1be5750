"""Tolerant where the courier is, strict where it matters (issue #16 item 4) for La Poste, UPS,
USPS and Royal Mail: a single object where a list is usual, numbers with or without spaces,
placeholder text where a signatory goes; never a status guessed from free text over a code."""

import copy
import json

import pytest

from tests.support.shared_data import read_carrier_sample
from tracking.carriers.base import courier_number, real_signatory
from tracking.carriers.laposte import LaPosteAdapter
from tracking.carriers.postnl import PostNLAdapter
from tracking.carriers.royalmail import RoyalMailAdapter
from tracking.carriers.ups import UpsAdapter
from tracking.carriers.usps import UspsAdapter


def _json(name: str):
    return copy.deepcopy(json.loads(read_carrier_sample(name)))


def _body(value) -> bytes:
    return json.dumps(value).encode()


UPS = UpsAdapter(base_url="https://ups.test", client_id="i", client_secret="s")
USPS = UspsAdapter(base_url="https://usps.test", client_id="i", client_secret="s")
LAPOSTE = LaPosteAdapter(base_url="https://laposte.test", api_key="k")
ROYALMAIL = RoyalMailAdapter(base_url="https://rm.test", client_id="i", client_secret="s")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Elliot", "Elliot"),
        ("  J.  Smith ", "J. Smith"),
        ("Signature not required", ""),
        ("SIGNATURE NOT REQUIRED.", ""),
        ("string", ""),
        ("N/A", ""),
        ("", ""),
    ],
)
def test_real_signatory_drops_placeholders(value, expected):
    assert real_signatory(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1Z 999 AA1 0123456784", "1Z999AA10123456784"),
        ("ew112720413fr", "EW112720413FR"),
        ("9400 1091 0425 0532 9085 87", "9400109104250532908587"),
        ("string", ""),
    ],
)
def test_courier_number_without_spaces_upper_case_placeholder_empty(value, expected):
    assert courier_number(value) == expected


def test_ups_single_objects_where_lists_are_usual_parse_like_lists():
    # given UPS's delivered sample, and the same with shipment, package and activity as single
    # objects (the brackets dropped around one item)
    listed = _json("ups_track_v1_delivered.json")
    single = copy.deepcopy(listed)
    shipment = single["trackResponse"]["shipment"][0]
    package = shipment["package"][0]
    package["activity"] = package["activity"][0]
    shipment["package"] = package
    single["trackResponse"]["shipment"] = shipment
    expected = copy.deepcopy(listed)
    expected_package = expected["trackResponse"]["shipment"][0]["package"][0]
    expected_package["activity"] = expected_package["activity"][:1]

    # when / then they parse alike
    assert UPS.parse(_body(single)) == UPS.parse(_body(expected))
    assert UPS.parse(_body(single)).shipments[0].events


def test_ups_inquiry_number_with_spaces_is_the_stored_number():
    sample = _json("ups_track_v1_delivered.json")
    shipment = sample["trackResponse"]["shipment"][0]
    shipment["inquiryNumber"] = "1Z 1442 YY7 2290 14688"
    shipment["package"][0]["trackingNumber"] = "1z1442yy 7229014688"

    [result] = UPS.parse(_body(sample)).shipments

    assert result.tracking_number == "1Z1442YY7229014688"


def test_ups_placeholder_received_by_is_no_signatory():
    # given a delivered package whose receivedBy says "Signature not required"
    sample = _json("ups_track_v1_delivered.json")
    package = sample["trackResponse"]["shipment"][0]["package"][0]
    package["deliveryInformation"] = {"receivedBy": "Signature not required"}

    # when
    [result] = UPS.parse(_body(sample)).shipments

    # then delivered, nobody signed
    assert result.pod is not None
    assert result.pod.signed_by == ""
    assert result.events[-1].substatus != "delivered.signed"


def test_ups_code_wins_over_free_text():
    # given a delivered statusCode (011) whose description talks of something else
    sample = _json("ups_track_v1_delivered.json")
    activity = sample["trackResponse"]["shipment"][0]["package"][0]["activity"][0]
    activity["status"] = {"type": "I", "statusCode": "011", "description": "Out for delivery"}

    [result] = UPS.parse(_body(sample)).shipments

    assert result.events[-1].status == "delivered"


def test_usps_single_event_object_and_spaced_number():
    sample = _json("usps_tracking_v3_delivered.json")
    listed = copy.deepcopy(sample)
    listed["trackingEvents"] = sample["trackingEvents"][:1]
    sample["trackingEvents"] = sample["trackingEvents"][0]
    sample["trackingNumber"] = "9400 1091 0425 0532 9085 87"

    [single] = USPS.parse(_body(sample)).shipments
    [expected] = USPS.parse(_body(listed)).shipments

    assert single == expected
    assert single.tracking_number == "9400109104250532908587"


def test_usps_placeholder_signer_is_no_signatory():
    sample = _json("usps_tracking_v3_delivered.json")
    delivered = sample["trackingEvents"][0]
    assert delivered["eventCode"] == "01"
    delivered["name"] = "Signature not required"

    [result] = USPS.parse(_body(sample)).shipments

    assert result.pod is not None
    assert result.pod.signed_by == ""


def test_usps_known_code_wins_over_the_summary():
    # given a latest scan with a code we know (OF) and a summary that says delivered
    sample = _json("usps_tracking_v3_delivered.json")
    sample["trackingEvents"] = sample["trackingEvents"][1:]  # newest is now OF
    sample["statusCategory"] = "Delivered"
    sample["statusSummary"] = "Your item was delivered"

    [result] = USPS.parse(_body(sample)).shipments

    assert result.events[-1].code == "OF"
    assert result.events[-1].status == "out_for_delivery"


def test_laposte_single_event_object_and_spaced_number():
    [envelope] = _json("laposte_suivi_v2_delivered.json")
    listed = copy.deepcopy(envelope)
    listed["shipment"]["event"] = envelope["shipment"]["event"][:1]
    envelope["shipment"]["event"] = envelope["shipment"]["event"][0]
    envelope["shipment"]["idShip"] = "EW 1127 2041 3FR"

    [single] = LAPOSTE.parse(_body(envelope)).shipments
    [expected] = LAPOSTE.parse(_body(listed)).shipments

    assert single == expected
    assert single.tracking_number == "EW112720413FR"


def test_royalmail_placeholder_recipient_is_no_signatory():
    sample = _json("royalmail_tracking_v2_signature.json")
    sample["mailPieces"]["signature"]["recipientName"] = "Signature not required"

    result = ROYALMAIL.parse(_body(sample))

    for shipment in result.shipments:
        assert shipment.pod is None or shipment.pod.signed_by == ""


def test_postnl_barcode_with_spaces_is_the_stored_number():
    sample = _json("postnl_shippingstatus_completestatus_delivered.json")
    plain = PostNLAdapter(base_url="https://postnl.test", api_key="k").parse(_body(sample))
    shipment = sample["CompleteStatus"]["Shipment"]
    shipment = shipment[0] if isinstance(shipment, list) else shipment
    shipment["Barcode"] = " ".join(shipment["Barcode"][i : i + 4] for i in range(0, 15, 4))

    spaced = PostNLAdapter(base_url="https://postnl.test", api_key="k").parse(_body(sample))

    assert spaced == plain
