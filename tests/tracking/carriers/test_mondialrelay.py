import hashlib
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import responses
from responses import matchers

from tests.support.shared_data import read_carrier_sample
from tracking.carriers.base import (
    CarrierAuthError,
    CarrierEvent,
    CarrierPayloadError,
    CarrierUnavailable,
    Location,
    PodData,
    TrackingError,
)
from tracking.carriers.mondialrelay import (
    ERROR_STATS,
    STATUS_MAP,
    MondialRelayAdapter,
    security_key,
)
from tracking.status import result_state

BASE_URL = "https://api.mondialrelay.test"
ENDPOINT = f"{BASE_URL}/Web_Services.asmx"
PARIS = ZoneInfo("Europe/Paris")
IN_PROGRESS = "mondialrelay_wsi2_tracingcolisdetaille_in_progress_stat81.xml"
ERROR_24 = "mondialrelay_wsi2_tracingcolisdetaille_error_stat24.xml"


def _sample(name: str) -> bytes:
    return read_carrier_sample(name)


def _adapter() -> MondialRelayAdapter:
    return MondialRelayAdapter(base_url=BASE_URL + "/", enseigne="BDTEST13", private_key="PrivateK")


def _answer(stat: str, *entries: tuple[str, str, str, str, str, str], relay=("", "")) -> bytes:
    """An answer with Tracing entries (Libelle, Date, Heure, Emplacement, Relais_Num, Pays)."""
    rendered = "".join(
        "<ret_WSI2_sub_TracingColisDetaille>"
        f"<Libelle>{a}</Libelle><Date>{b}</Date><Heure>{c}</Heure><Emplacement>{d}</Emplacement>"
        f"<Relais_Num>{e}</Relais_Num><Relais_Pays>{f}</Relais_Pays>"
        "</ret_WSI2_sub_TracingColisDetaille>"
        for a, b, c, d, e, f in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        '<WSI2_TracingColisDetailleResponse xmlns="http://www.mondialrelay.fr/webservice/">'
        f"<WSI2_TracingColisDetailleResult><STAT>{stat}</STAT><Libelle01 />"
        f"<Relais_Libelle>{relay[0]}</Relais_Libelle><Relais_Num>{relay[1]}</Relais_Num>"
        f"<Libelle02 /><Tracing>{rendered}</Tracing></WSI2_TracingColisDetailleResult>"
        "</WSI2_TracingColisDetailleResponse></soap:Body></soap:Envelope>"
    ).encode()


def _paris(day: int, month: int, hour: int, minute: int, year: int = 2024) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


# --- parse: the real samples ----------------------------------------------------------------


def test_mondialrelay_parse_in_progress_sample_gives_the_full_normalised_shipment():
    # given the STAT 81 answer (15 Tracing slots, 13 of them empty padding)
    body = _sample(IN_PROGRESS)

    # when track knows the number asked (the answer does not say it)
    result = _adapter().parse_for(body, "12345678")

    # then the two real steps, in Paris time, the padding skipped
    assert result.errors == []
    [shipment] = result.shipments
    assert shipment.tracking_number == "12345678"
    assert shipment.events == (
        CarrierEvent(
            _paris(19, 5, 10, 10), "info_received", None, "", "RÉCEPTION DES DONNÉES", Location()
        ),
        CarrierEvent(
            _paris(20, 5, 11, 11),
            "in_transit",
            None,
            "",
            "PRISE EN CHARGE EN AGENCE",
            Location(country="ES"),  # Emplacement "ESPAGNE" is a country, not a town
        ),
    )
    assert [e.occurred_at.isoformat() for e in shipment.events] == [
        "2024-05-19T10:10:00+02:00",
        "2024-05-20T11:11:00+02:00",
    ]
    assert shipment.pod is None
    assert shipment.estimated_delivery is None
    assert (result_state(shipment).status, result_state(shipment).substatus) == ("in_transit", None)


def test_mondialrelay_parse_alone_cannot_name_the_parcel():
    # given the same answer read without knowing what was asked (the operators' parse command)
    # when
    [shipment] = _adapter().parse(_sample(IN_PROGRESS)).shipments

    # then
    assert shipment.tracking_number == ""
    assert len(shipment.events) == 2


def test_mondialrelay_parse_error_sample_gives_the_stat_table_message():
    # given the STAT 24 answer
    body = _sample(ERROR_24)

    # when
    result = _adapter().parse_for(body, "1234")

    # then
    assert result.shipments == []
    assert result.errors == [
        TrackingError("1234", "invalid_number", "Numéro de Colis Mondial Relay invalide")
    ]


# --- the code tables ------------------------------------------------------------------------


def test_mondialrelay_tables_cover_every_stat_of_the_vocabulary_file():
    # given Mondial Relay's STAT table
    table = json.loads(_sample("mondialrelay_stat_codes.json"))

    # when / then the tracing STATs are mapped and every error STAT keeps its message
    assert set(STATUS_MAP) == set(table["tracing_stat_codes"])
    assert STATUS_MAP == {
        "80": ("info_received", None),
        "81": ("in_transit", None),
        "82": ("delivered", None),
        "83": ("exception", "exception.other"),
    }
    errors = table["error_stat_codes_relevant_to_tracking"]
    assert set(ERROR_STATS) == set(errors)
    assert {stat: message for stat, (_code, message) in ERROR_STATS.items()} == errors
    assert {stat: code for stat, (code, _message) in ERROR_STATS.items()} == {
        "1": "auth_failed",
        "2": "auth_failed",
        "24": "invalid_number",
        "74": "invalid_request",
        "90": "unavailable",
        "91": "invalid_number",
        "94": "not_found",
        "95": "auth_failed",
        "97": "auth_failed",
        "98": "unavailable",
        "99": "courier_error",
    }


@pytest.mark.parametrize(
    ("stat", "code", "message"),
    [
        ("94", "not_found", "Colis Inexistant"),
        ("97", "auth_failed", "Clé de sécurité invalide"),
        ("098", "unavailable", "Service Indisponible"),
        ("12", "courier_error", "Mondial Relay STAT 12"),
    ],
)
def test_mondialrelay_parse_error_stats(stat, code, message):
    # given an error STAT
    body = _answer(stat)

    # when
    result = _adapter().parse_for(body, "12345678")

    # then a per-number error, never an exception
    assert result.errors == [TrackingError("12345678", code, message)]


@pytest.mark.parametrize(
    ("label", "status", "substatus"),
    [
        ("COLIS EN COURS D'ACHEMINEMENT", "in_transit", None),
        ("COLIS EN COURS DE LIVRAISON", "out_for_delivery", None),
        ("DESTINATAIRE ABSENT", "failed_attempt", "failed_attempt.recipient_absent"),
        ("COLIS DISPONIBLE AU POINT RELAIS", "available_for_pickup", None),
        ("COLIS LIVRÉ EN BOÎTE AUX LETTRES", "delivered", "delivered.mailbox"),
        ("COLIS RÉCUPÉRÉ PAR LE DESTINATAIRE", "delivered", "delivered.pickup_point"),
        ("ADRESSE INCOMPLÈTE", "exception", "exception.address_issue"),
        ("COLIS REFUSÉ PAR LE DESTINATAIRE", "exception", "exception.refused"),
        ("COLIS ENDOMMAGÉ", "exception", "exception.damaged"),
        ("COLIS INTROUVABLE - ENQUÊTE EN COURS", "exception", "exception.lost"),
        (
            "COLIS NON RETIRÉ - RETOUR VERS L'EXPÉDITEUR",
            "exception",
            "exception.returning_to_sender",
        ),
        ("COLIS LIVRÉ À L'EXPÉDITEUR", "exception", "exception.returned_to_sender"),
        ("COLIS EN ANOMALIE", "exception", "exception.other"),
        ("ÉTAPE INCONNUE", "in_transit", None),
    ],
)
def test_mondialrelay_parse_labels_give_the_status(label, status, substatus):
    # given one step with that label while the parcel is still moving (STAT 81)
    body = _answer("81", (label, "02/01/24", "09:05", "LYON", "", ""))

    # when
    [event] = _adapter().parse_for(body, "12345678").shipments[0].events

    # then (in winter, Paris is UTC+1)
    assert (event.status, event.substatus) == (status, substatus)
    assert event.occurred_at.isoformat() == "2024-01-02T09:05:00+01:00"
    assert event.location == Location(city="LYON")


def test_mondialrelay_parse_final_stat_classifies_an_unknown_newest_label():
    # given STAT 82 (delivered) whose newest label the table does not know
    body = _answer(
        "82",
        ("PRISE EN CHARGE EN AGENCE", "20/05/24", "11:11", "LYON", "", ""),
        ("OPÉRATION TERMINÉE", "22/05/24", "15:00", "LYON", "", ""),
    )

    # when
    [shipment] = _adapter().parse_for(body, "12345678").shipments

    # then that step is the delivery; the older unknown-free step is untouched
    assert [(e.status, e.substatus) for e in shipment.events] == [
        ("in_transit", None),
        ("delivered", None),
    ]
    assert shipment.pod == PodData(delivered_at=_paris(22, 5, 15, 0))


def test_mondialrelay_parse_collection_at_the_relay_is_a_pickup_point_delivery():
    # given the parcel waiting at relay 048607 (EYBENS), then "livré" there
    body = _answer(
        "82",
        ("COLIS DISPONIBLE AU POINT RELAIS", "21/05/24", "09:00", "", "048607", "FR"),
        ("COLIS LIVRÉ", "23/05/24", "17:45", "", "048607", "FR"),
        relay=("EYBENS", "048607"),
    )

    # when
    [shipment] = _adapter().parse_for(body, "12345678").shipments

    # then the relay's name is the place, and the delivery is at a pickup point
    assert [(e.status, e.substatus, e.location) for e in shipment.events] == [
        ("available_for_pickup", None, Location(city="EYBENS", country="FR")),
        ("delivered", "delivered.pickup_point", Location(city="EYBENS", country="FR")),
    ]
    assert shipment.pod == PodData(delivered_at=_paris(23, 5, 17, 45), location_type="pickup_point")


def test_mondialrelay_parse_return_is_not_a_delivery():
    # given a parcel not collected, sent back and delivered to the sender
    body = _answer(
        "82",
        ("COLIS DISPONIBLE AU POINT RELAIS", "21/05/24", "09:00", "", "048607", "FR"),
        ("COLIS NON RETIRÉ - RETOUR VERS L'EXPÉDITEUR", "05/06/24", "08:00", "LYON", "", ""),
        ("COLIS LIVRÉ À L'EXPÉDITEUR", "08/06/24", "10:00", "PARIS", "", ""),
    )

    # when
    [shipment] = _adapter().parse_for(body, "12345678").shipments

    # then
    assert result_state(shipment).substatus == "exception.returned_to_sender"
    assert shipment.pod is None


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b"<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'>&lol2;</soap:Envelope>"
)


def _replaced(old: bytes, new: bytes) -> bytes:
    body = _sample(IN_PROGRESS)
    assert old in body
    return body.replace(old, new, 1)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"<html><body>Runtime Error</body></html>", id="html"),
        pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
        pytest.param(_sample(IN_PROGRESS)[:700], id="truncated"),
        pytest.param(b'{"STAT": "81"}', id="json"),
        pytest.param(BILLION_LAUGHS, id="entity-expansion"),
        pytest.param(
            b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>', id="external"
        ),
        pytest.param(
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
            b"<soap:Body/></soap:Envelope>",
            id="no-result",
        ),
        pytest.param(_replaced(b"<STAT>81</STAT>", b"<STAT>OK</STAT>"), id="stat-text"),
        pytest.param(_replaced(b"<STAT>81</STAT>", b""), id="no-stat"),
        pytest.param(
            _replaced(b"<Date>19/05/24</Date>", b"<Date>2024-05-19</Date>"), id="iso-date"
        ),
        pytest.param(_replaced(b"<Heure>10:10</Heure>", b"<Heure>25:10</Heure>"), id="bad-hour"),
        pytest.param(_replaced(b"<Date>20/05/24</Date>", b"<Date />"), id="label-without-date"),
        pytest.param(b"<STAT>81</STAT>", id="not-an-envelope"),
    ],
)
def test_mondialrelay_parse_malformed_body_raises_payload_error(body):
    # given a body that is not a WSI2_TracingColisDetaille answer (or is an XML attack)
    # when / then
    with pytest.raises(CarrierPayloadError):
        _adapter().parse(body)


# --- fetch and track ------------------------------------------------------------------------


def test_mondialrelay_security_is_the_upper_case_md5_of_the_parameters_and_key():
    # given / when
    security = security_key("BDTEST13", "12345678", "FR", "PrivateK")

    # then
    expected = hashlib.md5(b"BDTEST1312345678FRPrivateK", usedforsecurity=False).hexdigest()
    assert security == expected.upper()
    assert len(security) == 32


@responses.activate
def test_mondialrelay_track_posts_one_signed_envelope_per_number_and_names_the_answers(
    carrier_client,
):
    # given two numbers; Mondial Relay answers each without repeating it
    headers = matchers.header_matcher(
        {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '"http://www.mondialrelay.fr/webservice/WSI2_TracingColisDetaille"',
        }
    )
    adapter = _adapter()
    first = responses.post(
        ENDPOINT,
        match=[headers, matchers.body_matcher(adapter.soap_request("12345678"))],
        body=_sample(IN_PROGRESS),
    )
    second = responses.post(
        ENDPOINT,
        match=[headers, matchers.body_matcher(adapter.soap_request("87654321"))],
        body=_answer("94"),
    )

    # when
    result, answers = adapter.track(["12345678", "87654321"], client=carrier_client)

    # then
    assert first.call_count == 1 and second.call_count == 1
    sent = first.calls[0].request.body
    sent = sent.decode() if isinstance(sent, bytes) else sent
    assert (
        "<Enseigne>BDTEST13</Enseigne><Expedition>12345678</Expedition><Langue>FR</Langue>" in sent
    )
    assert f"<Security>{security_key('BDTEST13', '12345678', 'FR', 'PrivateK')}</Security>" in sent
    assert "PrivateK" not in sent  # the key signs, it never travels
    assert len(answers) == 2
    assert [s.tracking_number for s in result.shipments] == ["12345678"]
    assert result.errors == [TrackingError("87654321", "not_found", "Colis Inexistant")]


@pytest.mark.parametrize(("stat", "fault"), [("97", CarrierAuthError), ("1", CarrierAuthError)])
@responses.activate
def test_mondialrelay_track_bad_account_raises_auth_error(stat, fault, carrier_client):
    # given Mondial Relay refuses the enseigne or the security key (HTTP 200, error STAT)
    responses.post(ENDPOINT, body=_answer(stat))

    # when / then the whole courier is in fault, not the number
    with pytest.raises(fault):
        _adapter().track(["12345678"], client=carrier_client)


@responses.activate
def test_mondialrelay_track_service_down_raises_unavailable(carrier_client):
    # given STAT 98 "Service Indisponible"
    responses.post(ENDPOINT, body=_answer("98"))

    # when / then
    with pytest.raises(CarrierUnavailable):
        _adapter().track(["12345678"], client=carrier_client)


@responses.activate
def test_mondialrelay_fetch_escapes_the_number(carrier_client):
    # given a number carrying XML
    route = responses.post(ENDPOINT, body=_answer("24"))

    # when
    _adapter().fetch(["<x>"], client=carrier_client)

    # then
    sent = route.calls[0].request.body
    sent = sent.decode() if isinstance(sent, bytes) else sent
    assert "<Expedition>&lt;x&gt;</Expedition>" in sent


# --- identity -------------------------------------------------------------------------------


def test_mondialrelay_identity_patterns_and_url():
    # given
    adapter = _adapter()

    # when / then
    assert (adapter.slug, adapter.name, adapter.batch_size) == ("mondialrelay", "Mondial Relay", 1)
    assert (adapter.enseigne, adapter.private_key) == ("BDTEST13", "PrivateK")
    assert adapter.matches("12345678")
    assert not adapter.matches("1234567")
    assert not adapter.matches("ABCDEFGH")
    assert adapter.tracking_url("12345678") == (
        "https://www.mondialrelay.fr/suivi-de-colis/?NumeroExpedition=12345678"
    )


def _without_envelope(body: bytes, element: str) -> bytes:
    """The courier's answer as the bare ``element`` (its namespace kept), no SOAP around it."""
    text = body.decode("utf-8")
    start = text.index(f"<{element}")
    end = text.index(f"</{element}>") + len(f"</{element}>")
    return text[start:end].encode("utf-8")


@pytest.mark.parametrize(
    "element", ["WSI2_TracingColisDetailleResponse", "WSI2_TracingColisDetailleResult"]
)
def test_mondialrelay_parse_answer_without_soap_envelope_reads_like_the_enveloped_one(element):
    # given the stat 81 answer as Mondial Relay sometimes sends it: the bare response element
    enveloped = _sample(IN_PROGRESS)
    bare = _without_envelope(enveloped, element)
    assert b"Envelope" not in bare

    # when
    result = _adapter().parse(bare)

    # then the same shipment as with the envelope
    assert result == _adapter().parse(enveloped)
    assert len(result.shipments[0].events) > 0


def test_mondialrelay_parse_bare_error_answer_is_still_an_error():
    # given the stat 24 (unknown parcel) answer without its envelope
    bare = _without_envelope(
        _sample("mondialrelay_wsi2_tracingcolisdetaille_error_stat24.xml"),
        "WSI2_TracingColisDetailleResponse",
    )

    # when / then the same error as enveloped
    enveloped = _adapter().parse(_sample("mondialrelay_wsi2_tracingcolisdetaille_error_stat24.xml"))
    assert _adapter().parse(bare) == enveloped
    assert enveloped.errors


def test_mondialrelay_parse_unrelated_bare_element_is_refused():
    with pytest.raises(CarrierPayloadError):
        _adapter().parse(b"<Something><STAT>81</STAT></Something>")
