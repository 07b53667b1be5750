"""Reading couriers' SOAP/XML answers safely (Chronopost, Mondial Relay, DPD, DHL Express XML-PI).

Every courier XML is parsed here and only here, through defusedxml: the adapters (and whoever
edits them) get the safe parser without thinking about it. A document that declares a DTD,
entities or external references — the vehicles of entity expansion ("billion laughs"),
external-entity (XXE) reads and DTD fetches — is refused by the parser itself, wherever the
declaration sits and however it is spelt; no courier we speak to sends one.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - the Element type only; parsing is defusedxml's

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from tracking.carriers.faults import CarrierPayloadError


def xml_document(body: bytes, courier: str) -> ET.Element:
    """The parsed XML document with namespaces dropped from tag names.

    Raises CarrierPayloadError for text that is not UTF-8, declares a DTD or entities, or is not
    XML. Leading whitespace before ``<?xml`` is tolerated, as .NET clients do (Mondial Relay's
    answers start with it).
    """
    try:
        text = bytes(body).decode("utf-8")
    except (TypeError, UnicodeDecodeError) as exc:
        raise CarrierPayloadError(f"{courier} answer is not UTF-8 text") from exc
    try:
        # forbid_dtd: even a harmless-looking internal DTD is refused (couriers send none).
        root = fromstring(text.strip(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise CarrierPayloadError(
            f"{courier} answer declares a DTD, entities or external references: refused ({exc})"
        ) from exc
    except ParseError as exc:
        raise CarrierPayloadError(f"{courier} answer is not XML: {exc}") from exc
    for element in root.iter():
        if isinstance(element.tag, str):
            element.tag = element.tag.rsplit("}", 1)[-1]
    return root


def soap_envelope(body: bytes, courier: str) -> ET.Element:
    """The parsed SOAP envelope with namespaces dropped from tag names.

    Couriers (Mondial Relay among them) sometimes answer with the bare response element, without
    ``Envelope``/``Body`` around it. Such an answer is wrapped in an ``Envelope``/``Body`` of our
    own, so every SOAP courier reads ``./Body/<Response>`` alike whatever the courier sent; an
    unrelated element then simply is not the response the caller looks for.

    Raises CarrierPayloadError as ``xml_document`` does.
    """
    root = xml_document(body, courier)
    if root.tag == "Envelope":
        return root
    if root.tag == "Body":
        envelope = ET.Element("Envelope")
        envelope.append(root)
        return envelope
    envelope = ET.Element("Envelope")
    ET.SubElement(envelope, "Body").append(root)
    return envelope


def child_text(parent: ET.Element | None, path: str) -> str:
    """The stripped text at ``path`` under ``parent``; "" when either is missing."""
    if parent is None:
        return ""
    found = parent.find(path)
    return (found.text or "").strip() if found is not None else ""
