import copy
import json
from datetime import date, datetime, timedelta, timezone

import pytest
import responses
from responses import matchers

from tests.support.shared_data import read_carrier_sample, read_external_payload
from tracking.carriers.base import (
    CarrierAuthError,
    CarrierEvent,
    CarrierPayloadError,
    CarrierRateLimited,
    CarrierUnavailable,
    Location,
    PodData,
    TrackingError,
)
from tracking.carriers.laposte import STATUS_MAP, LaPosteAdapter
from tracking.status import result_state

BASE_URL = "https://api.laposte.test"
CET = timezone(timedelta(hours=1))
CEST = timezone(timedelta(hours=2))
NO_PLACE = Location()


def _sample(name: str) -> bytes:
    return read_carrier_sample(name)


def _delivered_envelope() -> dict:
    """The delivered sample's single envelope, to derive variants from."""
    return copy.deepcopy(json.loads(_sample("laposte_suivi_v2_delivered.json"))[0])


def _envelope_with_events(*events: tuple[str, str, str], **shipment_fields) -> dict:
    """An envelope whose events are (code, label, date), given newest first as La Poste does."""
    envelope = _delivered_envelope()
    shipment = envelope["shipment"]
    shipment["event"] = [{"code": c, "label": label, "date": d} for c, label, d in events]
    for key in ("deliveryDate", "estimDate"):
        shipment.pop(key)
    shipment.update(shipment_fields)
    return envelope


def _adapter() -> LaPosteAdapter:
    return LaPosteAdapter(base_url=BASE_URL + "/", api_key="okapi-test-key")


def _at(day: int, month: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2023, month, day, hour, minute, second, tzinfo=CET)


# --- parse: the real samples ----------------------------------------------------------------


def test_laposte_parse_delivered_sample_gives_the_full_normalised_shipment():
    # given the real Colissimo FR -> BR answer (an array, events newest first)
    body = _sample("laposte_suivi_v2_delivered.json")

    # when
    result = _adapter().parse(body)

    # then every event is there, oldest first, with its offset, status, code and label
    assert result.errors == []
    [shipment] = result.shipments
    assert shipment.tracking_number == "EW112720413FR"
    transit = "Votre colis est en transit sur nos plateformes logistiques."
    assert shipment.events == (
        CarrierEvent(
            _at(17, 2, 14, 41),
            "info_received",
            None,
            "DR1",
            "Votre Colissimo va bientôt nous être confié ! "
            "Il est en cours de préparation chez votre expéditeur.",
            NO_PLACE,
        ),
        CarrierEvent(
            _at(17, 2, 14, 43),
            "in_transit",
            None,
            "PC1",
            "Votre colis a été déposé dans un point postal.",
            NO_PLACE,
        ),
        CarrierEvent(_at(17, 2, 23, 13, 12), "in_transit", None, "ET1", transit, NO_PLACE),
        CarrierEvent(_at(18, 2, 7, 34, 12), "in_transit", None, "ET1", transit, NO_PLACE),
        CarrierEvent(
            _at(18, 2, 12, 27),
            "in_transit",
            None,
            "ET2",
            "Votre colis est prêt à partir de son territoire d’expédition. "
            "Il va être remis au transporteur pour son acheminement.",
            NO_PLACE,
        ),
        CarrierEvent(
            _at(22, 2, 16, 23),
            "in_transit",
            None,
            "ET3",
            "Votre colis est arrivé dans le pays du destinataire.",
            NO_PLACE,
        ),
        CarrierEvent(
            _at(8, 3, 16, 25),
            "in_transit",
            None,
            "ET1",
            "Votre colis est en cours d'acheminement.",
            NO_PLACE,
        ),
        CarrierEvent(
            _at(9, 3, 9, 1),
            "out_for_delivery",
            None,
            "MD2",
            "Votre colis est dans le site de livraison qui dessert votre adresse. "
            "Nous le préparons pour le mettre en livraison.",
            NO_PLACE,
        ),
        CarrierEvent(
            _at(9, 3, 9, 38), "delivered", None, "DI1", "Votre colis est livré.", NO_PLACE
        ),
    )
    assert [e.occurred_at.isoformat() for e in shipment.events] == [
        "2023-02-17T14:41:00+01:00",
        "2023-02-17T14:43:00+01:00",
        "2023-02-17T23:13:12+01:00",
        "2023-02-18T07:34:12+01:00",
        "2023-02-18T12:27:00+01:00",
        "2023-02-22T16:23:00+01:00",
        "2023-03-08T16:25:00+01:00",
        "2023-03-09T09:01:00+01:00",
        "2023-03-09T09:38:00+01:00",
    ]
    # and the EDD, the honest POD (a date, no signatory, no document) and the state
    assert shipment.estimated_delivery == _at(9, 3, 9, 38)
    assert shipment.estimated_delivery_end is None
    assert shipment.pod == PodData(delivered_at=_at(9, 3, 9, 38))
    assert shipment.pod.as_dict() == {
        "signed_by": "",
        "delivered_at": "2023-03-09T09:38:00+01:00",
        "location_type": "",
        "documents": [],
    }
    assert result_state(shipment).status == "delivered"
    assert result_state(shipment).delivered_at == _at(9, 3, 9, 38)


def test_laposte_parse_invalid_number_sample_gives_a_per_number_error():
    # given the real 400 answer for a malformed number
    body = _sample("laposte_suivi_v2_error_400_invalid_number.json")

    # when
    result = _adapter().parse(body)

    # then
    assert result.shipments == []
    assert result.errors == [
        TrackingError(
            tracking_number="WBZQ03ENZJ6BBBTEELZWITJTAGYKA19WR6OOJ6MIVZARY3OVPSX4A495YOMXBLKC",
            code="invalid_number",
            message="Le numéro que vous avez saisi n’est pas valide. Nous vous invitons à "
            "vérifier votre saisie, en particulier le nombre de caractères.",
        )
    ]


def test_laposte_parse_accepts_a_single_object_as_well_as_an_array():
    # given the delivered envelope alone, as La Poste answers for one number
    body = json.dumps(_delivered_envelope()).encode()

    # when
    result = _adapter().parse(body)

    # then
    assert [s.tracking_number for s in result.shipments] == ["EW112720413FR"]
    assert (
        result.shipments == _adapter().parse(_sample("laposte_suivi_v2_delivered.json")).shipments
    )


def test_laposte_parse_mixed_207_answer_gives_shipments_and_errors():
    # given a multi-number answer: one found, one unknown (404 envelope, returnCode 104 style)
    body = json.dumps(
        [
            _delivered_envelope(),
            {
                "returnCode": 404,
                "returnMessage": "Votre suivi n'est pas encore disponible.",
                "idShip": "6A12345678901",
                "lang": "fr_FR",
                "scope": "open",
            },
            {"returnCode": 104, "idShip": "6A12345678902", "returnMessage": "Indisponible"},
            {"returnCode": 504, "idShip": "6A12345678903"},
        ]
    ).encode()

    # when
    result = _adapter().parse(body)

    # then
    assert [s.tracking_number for s in result.shipments] == ["EW112720413FR"]
    assert result.errors == [
        TrackingError("6A12345678901", "not_found", "Votre suivi n'est pas encore disponible."),
        TrackingError("6A12345678902", "not_found", "Indisponible"),
        TrackingError("6A12345678903", "courier_error", "La Poste returnCode 504"),
    ]


# --- parse: the status table and the rules around it ----------------------------------------


def test_laposte_status_map_covers_every_code_of_the_la_poste_table():
    # given La Poste's code table and the unverified codes seen in third-party code
    table = json.loads(_sample("laposte_suivi_v2_event_codes.json"))
    codes = set(table["event_codes"]) | set(
        table["other_codes_seen_in_third_party_code_unverified"]
    )

    # when / then every code has an explicit mapping
    assert codes <= set(STATUS_MAP)
    assert {code: STATUS_MAP[code] for code in sorted(codes)} == {
        "AG1": ("available_for_pickup", None),
        "DI0": ("delivered", None),
        "DI1": ("delivered", None),
        "DI2": ("exception", "exception.returned_to_sender"),
        "DI3": ("exception", "exception.other"),
        "DO1": ("in_transit", None),
        "DO2": ("in_transit", None),
        "DO3": ("exception", "exception.customs"),
        "DR1": ("info_received", None),
        "EP1": ("in_transit", None),
        "ET1": ("in_transit", None),
        "ET2": ("in_transit", None),
        "ET3": ("in_transit", None),
        "ET4": ("in_transit", None),
        "MD1": ("in_transit", None),
        "MD2": ("out_for_delivery", None),
        "ND1": ("failed_attempt", None),
        "PB1": ("exception", "exception.other"),
        "PB2": ("in_transit", None),
        "PC1": ("in_transit", None),
        "PC2": ("in_transit", None),
        "RE1": ("exception", "exception.returning_to_sender"),
    }


def test_laposte_parse_delivered_back_to_sender_is_a_return_without_pod():
    # given a parcel returned and then delivered to the sender (DI2), with a deliveryDate
    envelope = _envelope_with_events(
        ("DI2", "Votre colis a été livré à l'expéditeur.", "2023-03-20T10:00:00+01:00"),
        ("RE1", "Votre colis est retourné à l'expéditeur.", "2023-03-15T10:00:00+01:00"),
        ("MD2", "Votre colis est en livraison.", "2023-03-09T09:01:00+01:00"),
        deliveryDate="2023-03-20T10:00:00+01:00",
    )

    # when
    [shipment] = _adapter().parse(json.dumps(envelope).encode()).shipments

    # then it is a return, never a delivery to the buyer: no POD for the payout gate
    assert [(e.code, e.status, e.substatus) for e in shipment.events] == [
        ("MD2", "out_for_delivery", None),
        ("RE1", "exception", "exception.returning_to_sender"),
        ("DI2", "exception", "exception.returned_to_sender"),
    ]
    assert result_state(shipment).status == "exception"
    assert result_state(shipment).substatus == "exception.returned_to_sender"
    assert shipment.pod is None


def test_laposte_parse_collection_at_the_counter_is_a_pickup_point_delivery():
    # given a parcel waiting at the post office (AG1), then collected (DI1)
    envelope = _envelope_with_events(
        ("DI1", "Votre colis a été remis au destinataire.", "2023-03-12T11:05:00+01:00"),
        (
            "AG1",
            "Votre colis est disponible dans votre bureau de poste.",
            "2023-03-10T08:00:00+01:00",
        ),
        ("ND1", "Destinataire absent. Avis de passage déposé.", "2023-03-09T11:00:00+01:00"),
        deliveryDate="2023-03-12T11:05:00+01:00",
    )

    # when
    [shipment] = _adapter().parse(json.dumps(envelope).encode()).shipments

    # then
    assert [(e.code, e.status, e.substatus) for e in shipment.events] == [
        ("ND1", "failed_attempt", "failed_attempt.recipient_absent"),
        ("AG1", "available_for_pickup", None),
        ("DI1", "delivered", "delivered.pickup_point"),
    ]
    assert shipment.pod == PodData(
        delivered_at=datetime(2023, 3, 12, 11, 5, tzinfo=CET), location_type="pickup_point"
    )


@pytest.mark.parametrize(
    ("label", "status", "substatus"),
    [
        ("Votre colis n'a pas pu être distribué.", "failed_attempt", None),
        (
            "Destinataire absent, avis de passage.",
            "failed_attempt",
            "failed_attempt.recipient_absent",
        ),
        ("Adresse incomplète ou erronée.", "exception", "exception.address_issue"),
        ("Non livré : l'adresse est incomplète.", "exception", "exception.address_issue"),
        ("L'adresse du destinataire est inconnue.", "exception", "exception.address_issue"),
        (
            "Vous étiez absent lors de notre passage à votre adresse.",
            "failed_attempt",
            "failed_attempt.recipient_absent",
        ),
        ("Le destinataire a refusé le colis.", "exception", "exception.refused"),
        ("Accès impossible au domicile.", "failed_attempt", "failed_attempt.access_issue"),
    ],
)
def test_laposte_parse_not_deliverable_reads_the_reason_from_the_label(label, status, substatus):
    # given an ND1 ("Non distribuable") scan: the code alone does not say why
    envelope = _envelope_with_events(("ND1", label, "2023-03-09T11:00:00+01:00"))

    # when
    [shipment] = _adapter().parse(json.dumps(envelope).encode()).shipments

    # then
    [event] = shipment.events
    assert (event.status, event.substatus) == (status, substatus)


def test_laposte_parse_delivery_without_delivery_date_uses_the_scan_time_for_pod():
    # given a DI1 scan but no deliveryDate field
    envelope = _envelope_with_events(
        ("DI1", "Votre colis est livré.", "2023-03-09T09:38:00+01:00"),
    )

    # when
    [shipment] = _adapter().parse(json.dumps(envelope).encode()).shipments

    # then
    assert shipment.pod == PodData(delivered_at=_at(9, 3, 9, 38))


def test_laposte_parse_in_transit_shipment_has_no_pod_and_reads_the_edd_window():
    # given a parcel on its way, with a bare-day EDD and the documented window end
    envelope = _envelope_with_events(
        ("ET1", "Votre colis est en cours d'acheminement.", "2023-03-08T16:25:00+01:00"),
        estimDate="2023-03-10",
        estimHourMax="2023-03-10T13:00:00+01:00",
        isFinal=False,
    )

    # when
    [shipment] = _adapter().parse(json.dumps(envelope).encode()).shipments

    # then
    assert shipment.estimated_delivery == date(2023, 3, 10)
    assert shipment.estimated_delivery_end == datetime(2023, 3, 10, 13, 0, tzinfo=CET)
    assert shipment.pod is None
    assert result_state(shipment).status == "in_transit"


def test_laposte_parse_unknown_code_counts_as_in_transit():
    # given a code absent from La Poste's published table
    envelope = _envelope_with_events(("ZZ9", "Nouveau statut.", "2023-03-08T16:25:00+01:00"))

    # when
    [shipment] = _adapter().parse(json.dumps(envelope).encode()).shipments

    # then the scan is kept, as in transit, with its own code for agents
    [event] = shipment.events
    assert (event.code, event.status, event.substatus) == ("ZZ9", "in_transit", None)


def _mutated(mutate) -> bytes:
    envelope = _delivered_envelope()
    mutate(envelope)
    return json.dumps([envelope]).encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"<html>Service Unavailable</html>", id="html"),
        pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
        pytest.param(_sample("laposte_suivi_v2_delivered.json")[:400], id="truncated"),
        pytest.param(b"[1, 2]", id="array-of-numbers"),
        pytest.param(b'"just a string"', id="json-string"),
        pytest.param(b'{"message": "Invalid key"}', id="no-returnCode"),
        pytest.param(b'{"returnCode": "200"}', id="returnCode-as-text"),
        pytest.param(b'{"returnCode": 200}', id="200-without-shipment"),
        pytest.param(_mutated(lambda e: e["shipment"].pop("idShip")), id="no-idShip"),
        pytest.param(_mutated(lambda e: e["shipment"].update(event={})), id="event-not-list"),
        pytest.param(
            _mutated(lambda e: e["shipment"]["event"][0].update(date="hier")), id="bad-date"
        ),
        pytest.param(_mutated(lambda e: e["shipment"]["event"][0].pop("date")), id="missing-date"),
        pytest.param(
            _mutated(lambda e: e["shipment"]["event"][0].update(code=None)), id="missing-code"
        ),
        pytest.param(_mutated(lambda e: e["shipment"]["event"].append("DI1")), id="event-str"),
        pytest.param(_mutated(lambda e: e["shipment"].update(estimDate="bientôt")), id="bad-edd"),
    ],
)
def test_laposte_parse_malformed_body_raises_payload_error(body):
    # given a body that is not Suivi v2 JSON
    # when / then the courier fault is raised, never a KeyError/TypeError
    with pytest.raises(CarrierPayloadError):
        _adapter().parse(body)


# --- fetch and track ------------------------------------------------------------------------


@responses.activate
def test_laposte_fetch_batches_numbers_ten_per_request_with_okapi_headers(carrier_client):
    # given 12 numbers: La Poste takes at most 10 per request
    numbers = [f"6A{index:011d}" for index in range(12)]
    headers = matchers.header_matcher(
        {"X-Okapi-Key": "okapi-test-key", "Accept": "application/json"}
    )
    first = responses.get(
        f"{BASE_URL}/suivi/v2/idships/{','.join(numbers[:10])}",
        match=[headers, matchers.query_param_matcher({"lang": "fr_FR"})],
        json=[],
        status=207,
    )
    second = responses.get(
        f"{BASE_URL}/suivi/v2/idships/{numbers[10]},{numbers[11]}",
        match=[headers, matchers.query_param_matcher({"lang": "fr_FR"})],
        json=[],
    )

    # when
    answers = _adapter().fetch(numbers, client=carrier_client)

    # then two requests, in order, each answer kept whole
    assert first.call_count == 1 and second.call_count == 1
    assert [a.status_code for a in answers] == [207, 200]
    assert answers[1].url == (f"{BASE_URL}/suivi/v2/idships/6A00000000010,6A00000000011?lang=fr_FR")
    assert answers[0].body == b"[]"


@responses.activate
def test_laposte_fetch_keeps_the_400_body_of_an_invalid_number(carrier_client):
    # given La Poste answers HTTP 400 with the per-number error
    responses.get(
        f"{BASE_URL}/suivi/v2/idships/BAD",
        body=_sample("laposte_suivi_v2_error_400_invalid_number.json"),
        status=400,
    )

    # when
    result, answers = _adapter().track(["BAD"], client=carrier_client)

    # then the body is parsed, not raised; the number La Poste echoed differs, so ours is
    # reported as not returned too
    assert [a.status_code for a in answers] == [400]
    assert [(e.tracking_number, e.code) for e in result.errors] == [
        ("WBZQ03ENZJ6BBBTEELZWITJTAGYKA19WR6OOJ6MIVZARY3OVPSX4A495YOMXBLKC", "invalid_number"),
        ("BAD", "not_returned"),
    ]


@responses.activate
def test_laposte_track_reports_numbers_missing_from_the_answer(carrier_client):
    # given three numbers asked; La Poste answers for two of them
    not_found = {"returnCode": 404, "idShip": "6A12345678901", "returnMessage": "Inconnu"}
    responses.get(
        f"{BASE_URL}/suivi/v2/idships/EW112720413FR,6A12345678901,6A12345678902",
        json=[_delivered_envelope(), not_found],
        status=207,
    )

    # when
    result, answers = _adapter().track(
        ["EW112720413FR", "6A12345678901", "6A12345678902"], client=carrier_client
    )

    # then
    assert len(answers) == 1
    assert [s.tracking_number for s in result.shipments] == ["EW112720413FR"]
    assert result.errors == [
        TrackingError("6A12345678901", "not_found", "Inconnu"),
        TrackingError("6A12345678902", "not_returned", "The courier's answer did not mention it"),
    ]


@responses.activate
def test_laposte_fetch_quotes_numbers_so_they_cannot_change_the_path(carrier_client):
    # given a number with a slash (a typo pasted by a seller)
    route = responses.get(f"{BASE_URL}/suivi/v2/idships/6A123%2F..", json=[])

    # when
    _adapter().fetch(["6A123/.."], client=carrier_client)

    # then
    assert route.call_count == 1


# --- identity -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["EW112720413FR", "CC067712918FR", "6A12345678901", "8R12345678901", "87000634002228A"],
)
def test_laposte_matches_s10_and_colissimo_numbers(number):
    # given / when / then
    assert _adapter().matches(number)


@pytest.mark.parametrize(
    "number", ["EW11272041FR", "6A1234567890", "JJD0099999999", "1Z999AA10123456784", "ABC"]
)
def test_laposte_does_not_match_other_formats(number):
    # given / when / then
    assert not _adapter().matches(number)


def test_laposte_tracking_url_points_to_the_public_page():
    # given / when / then
    assert _adapter().tracking_url("EW112720413FR") == (
        "https://www.laposte.fr/outils/suivre-vos-envois?code=EW112720413FR"
    )
    assert (_adapter().slug, _adapter().name, _adapter().batch_size) == (
        "laposte",
        "La Poste / Colissimo",
        10,
    )


# --- answers other projects recorded (../shared/external-payloads/laposte) -------------------


def _external(name: str) -> bytes:
    return read_external_payload(f"laposte/{name}")


def test_laposte_external_debuss_1_colissimo_in_transit():
    # given debuss/lapostesuivi's recorded answer: label declared, then in La Poste's network
    # when
    result = _adapter().parse(_external("debuss-1.json"))

    # then one parcel, in transit, no delivery and so no POD
    assert result.errors == []
    [shipment] = result.shipments
    assert shipment.tracking_number == "6A18987970674"
    assert [(e.occurred_at, e.code, e.status, e.substatus) for e in shipment.events] == [
        (datetime(2020, 7, 3, 15, 5, 47, tzinfo=CEST), "DR1", "info_received", None),
        (datetime(2020, 7, 4, 1, 25, 12, tzinfo=CEST), "ET1", "in_transit", None),
    ]
    assert result_state(shipment).status == "in_transit"
    assert shipment.pod is None
    # the recorded estimDate is what La Poste sent, however far from the scans it is
    assert shipment.estimated_delivery == datetime(2023, 1, 27, tzinfo=CET)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # 400 "your request is incorrect, re-enter it in the right format": the number's format
        pytest.param(
            "debuss-2.json",
            TrackingError(
                "",
                "invalid_number",
                "Votre requête est incorrecte. Veuillez la ressaisir en respectant le format.",
            ),
            id="400-invalid-format",
        ),
        pytest.param(
            "debuss-3.json", TrackingError("", "auth_failed", "Unauthorized"), id="401-key"
        ),
        pytest.param("debuss-4.json", TrackingError("", "not_found", "Not Found"), id="404"),
        # the Okapi gateway's own shape, without returnCode
        pytest.param(
            "debuss-5.json",
            TrackingError(
                "",
                "rate_limited",
                "Rate limited, max quota reached (100 calls per 1s) (TOO_MANY_REQUESTS).",
            ),
            id="429-gateway",
        ),
        pytest.param(
            "debuss-6.json",
            TrackingError("", "unavailable", "Internal Server Error"),
            id="500-in-envelope",
        ),
        pytest.param(
            "debuss-7.json",
            TrackingError(
                "", "unavailable", "The service is currently unavailable (SERVICE_UNAVAILABLE)."
            ),
            id="503-gateway",
        ),
    ],
)
def test_laposte_external_error_answers_name_the_error(name, expected):
    # given an error answer La Poste (or its gateway) sent, as debuss/lapostesuivi recorded it
    # when
    result = _adapter().parse(_external(name))

    # then it is that kind of error, never a shipment nor a generic courier error
    assert result.shipments == []
    assert result.errors == [expected]


@pytest.mark.parametrize(
    ("name", "fault"),
    [
        ("debuss-3.json", CarrierAuthError),
        ("debuss-5.json", CarrierRateLimited),
        ("debuss-6.json", CarrierUnavailable),
        ("debuss-7.json", CarrierUnavailable),
    ],
)
@responses.activate
def test_laposte_external_account_errors_back_the_courier_off(name, fault, carrier_client):
    # given La Poste answering a batch with a quota, outage or key error in a 200-accepted body
    responses.get(f"{BASE_URL}/suivi/v2/idships/6A18987970674", body=_external(name), status=200)

    # when / then the whole courier is backed off: no parcel is marked with the error
    with pytest.raises(fault):
        _adapter().track(["6A18987970674"], client=carrier_client)


# --- Colissimo's legacy six-letter codes (../shared/carriers/colissimo_legacy_event_codes.json)

# What a person reading each French label concludes (written from the labels, not from the
# other project's own "anyblok_status" column, which calls a parcel waiting at a post office
# "delivered").
COLISSIMO_LEGACY_EXPECTED = {
    "COMCFM": ("info_received", None),
    "PCHMQT": ("info_received", None),
    **dict.fromkeys(
        [
            "PCHCFM",
            "PCHCEX",
            "AARDVY",
            "AARCFM",
            "RENLNA",
            "RSTNCG",
            "QDICFM",
            "CHGCFM",
            "DCHCFM",
            "DCHDDT",
            "EXPCFM",
        ],
        ("in_transit", None),
    ),
    **dict.fromkeys(["DEPGUI", "RENAVI", "MLVARS", "RSTBRT"], ("available_for_pickup", None)),
    "LIVCFM": ("delivered", None),
    "LIVGAR": ("delivered", None),
    "LIVRTI": ("delivered", "delivered.neighbour"),
    "LIVREO": ("exception", "exception.returned_to_sender"),
    "RENNRV": ("failed_attempt", "failed_attempt.recipient_absent"),
    "RENARV": ("failed_attempt", "failed_attempt.recipient_absent"),
    "RENACP": ("failed_attempt", None),
    "RENAIN": ("exception", "exception.address_issue"),
    "RENCAD": ("exception", "exception.address_issue"),
    **dict.fromkeys(
        ["RENAVA", "RENDIV", "RENSNC", "RENTAR", "RENSRB"], ("exception", "exception.refused")
    ),
    **dict.fromkeys(["RENDIA", "SOLREO", "SOLREI"], ("exception", "exception.returning_to_sender")),
    "ENEMQT": ("exception", "exception.other"),
    **dict.fromkeys(
        [
            "DOUAGV",
            "DOUCOI",
            "DOUCOM",
            "DOUCRR",
            "DOUDDI",
            "DOUDDM",
            "DOUDOU",
            "DOUDVR",
            "DOUEXI",
            "DOUFCI",
            "DOUFCM",
            "DOUIDD",
            "DOUIIR",
            "DOUNIR",
            "DOUPRO",
            "DOURES",
        ],
        ("exception", "exception.customs"),
    ),
}


def test_laposte_colissimo_legacy_codes_map_as_their_labels_read():
    # given every code of Colissimo's legacy table
    table = json.loads(read_carrier_sample("colissimo_legacy_event_codes.json"))
    codes = [row[0] for row in table["event_codes"]]

    # then each one is mapped, to what its label says
    assert sorted(codes) == sorted(COLISSIMO_LEGACY_EXPECTED)
    assert {code: _adapter().map_status(code) for code in codes} == {
        code: COLISSIMO_LEGACY_EXPECTED[code] for code in codes
    }
