"""Courier detection from the tracking number (tracking.detection). No database.

Every ``test_numbers`` entry of every definition (upstream tracking_number_data files and our
``parcelle.json``) is a test case of its own.
"""

import json

import pytest

from tracking.detection import (
    NO_ADAPTER_PREFIX,
    all_definitions,
    detect,
    detect_carrier,
    normalise_number,
)
from tracking.detection.checksums import (
    checksum_passes,
    luhn_check,
    mod7_check,
    mod10_check,
    mod_37_36_check,
    s10_check,
    sum_product_check,
)
from tracking.detection.definitions import (
    PARCELLE_FILE,
    UPSTREAM_DIR,
    python_regex,
)
from tracking.detection.engine import match_definition
from tracking.services.shipments import tracking_number_normalise

OUR_SLUGS = {
    "laposte",
    "chronopost",
    "dhl",
    "ups",
    "fedex",
    "dpd",
    "gls",
    "mondialrelay",
    "royalmail",
    "postnl",
    "usps",
}

# An upstream "invalid" number means "not this format", and may be a valid number of a sibling
# format of the same courier: Purolator's alpha format lists a valid Purolator (12) number.
VALID_FOR_A_SIBLING_FORMAT = {("purolator_alpha", "331426749957")}


def _cases(kind: str) -> list:
    return [
        pytest.param(definition, number, id=f"{definition.id}-{number.strip()}")
        for definition in all_definitions()
        for number in dict.fromkeys(getattr(definition, f"{kind}_numbers"))
    ]


# given / when / then: every valid test number ----------------------------------------------


@pytest.mark.parametrize(("definition", "number"), _cases("valid"))
def test_detect_valid_test_number_finds_its_courier(definition, number):
    # given the number matches its own definition (regex, lookups, check digit)
    own = match_definition(definition, normalise_number(number))
    assert own is not None, f"{definition.origin} {definition.id} does not match {number!r}"
    assert own.checksum_valid is (True if definition.checksum else None)
    # when
    result = detect(number)
    # then its courier is a candidate, check digit passing where the format has one
    by_carrier = {c.carrier: c for c in result.candidates}
    assert own.carrier in by_carrier, [c.as_dict() for c in result.candidates]
    candidate = by_carrier[own.carrier]
    if definition.checksum:
        assert candidate.checksum_valid is True
    else:
        assert candidate.checksum_valid is not False
    assert 0.0 < candidate.confidence <= 1.0


@pytest.mark.parametrize(("definition", "number"), _cases("invalid"))
def test_detect_invalid_test_number_is_not_valid_for_its_courier(definition, number):
    # given
    normalised = normalise_number(number)
    # when
    own = match_definition(definition, normalised)
    result = detect(number)
    # then its own format rejects it (no match, or a failing check digit) ...
    assert own is None or own.checksum_valid is False
    # ... and no candidate of that courier claims it with a passing or absent check digit
    if (definition.id, number) in VALID_FOR_A_SIBLING_FORMAT:
        return
    carrier = definition.carrier_for({"CountryCode": normalised[-2:]})
    claimed = [
        c for c in result.candidates if c.carrier == carrier and c.checksum_valid is not False
    ]
    assert claimed == []


def test_every_data_file_contributes_test_numbers():
    # given the data files on disk
    upstream_files = sorted(p.name for p in UPSTREAM_DIR.glob("*.json"))
    ours = json.loads(PARCELLE_FILE.read_text(encoding="utf-8"))
    # when
    origins = {d.origin for d in all_definitions()}
    total = sum(len(d.valid_numbers) + len(d.invalid_numbers) for d in all_definitions())
    # then every file was loaded, and the suite runs well over the 192 upstream valid numbers
    assert origins == {f"upstream/{name}" for name in upstream_files} | {"parcelle.json"}
    assert len(upstream_files) == 18
    assert {c["courier_code"] for c in ours["couriers"]} == {
        "laposte",
        "chronopost",
        "mondialrelay",
        "gls",
        "dpd",
        "postnl",
        "royalmail",
    }
    assert total > 300


def test_our_definitions_cite_a_source_and_use_our_slugs():
    for definition in all_definitions():
        if definition.origin == "parcelle.json":
            assert definition.source, definition.id
            assert definition.courier_code in OUR_SLUGS
            assert definition.valid_numbers and definition.invalid_numbers


# checksums on known vectors ----------------------------------------------------------------


def test_mod10_ups_letters_and_odd_positions_doubled():
    # 1Z5R89390357567127: serial after "1Z", check digit 7
    assert mod10_check("5R8939035756712", odds_multiplier=2) == "7"
    assert mod10_check("5R8939035756712", odds_multiplier=2) != "8"


def test_mod10_usps_evens_tripled_and_reversed():
    assert mod10_check("0307179000052348374", evens_multiplier=3) == "1"
    # IMpb "N" walks the serial from its end: 9400111206206406260787
    assert mod10_check("940011120620640626078", evens_multiplier=3, reverse=True) == "7"


def test_mod7_dhl_express():
    assert mod7_check("331881002") == "5"  # 3318810025
    assert mod7_check("7389105114") == "6"  # 73891051146


def test_s10_weights_and_the_two_special_cases():
    assert s10_check("47312482") == "9"  # the UPU worked example
    assert s10_check("12345678") == "5"  # RB123456785GB
    assert s10_check("11272041") == "3"  # EW112720413FR, La Poste sample
    assert s10_check("00000000") == "5"  # 11 - 0 = 11 -> 5
    assert s10_check("00004000") == "0"  # Σ = 12, 11 - 1 = 10 -> 0


def test_sum_product_fedex_express():
    weights = [3, 1, 7, 3, 1, 7, 3, 1, 7, 3, 1]
    assert sum_product_check("98657878885", weightings=weights, modulo1=11, modulo2=10) == "5"
    assert sum_product_check("99657878885", weightings=weights, modulo1=11, modulo2=10) != "5"


def test_luhn_classic_vector():
    assert luhn_check("7992739871") == "3"  # 79927398713
    assert luhn_check("8000328037") == "9"  # Old Dominion 80003280379


def test_mod_37_36_dpd():
    assert mod_37_36_check("09980000020033") == "F"
    assert mod_37_36_check("09980000020034") == "D"
    assert mod_37_36_check("01015026003653") == "C"  # paketda.de's example 01015026003653c


def test_checksum_passes_refuses_a_serial_of_the_wrong_shape():
    spec = {"name": "s10", "weightings": [8, 6, 4, 2, 3, 5, 9, 7], "modulo": 11}
    assert checksum_passes(spec, "12345678", "5") is True
    assert checksum_passes(spec, "1234567", "5") is False  # too short for the weights
    assert checksum_passes({"name": "mod7"}, "ABC", "1") is False


# regex translation --------------------------------------------------------------------------


def test_python_regex_translates_named_groups_and_drops_separators():
    assert python_regex(["(?<A>x)", "(?<=y)(?<!z)"]) == "(?P<A>x)(?<=y)(?<!z)"
    assert python_regex(r"1LS7(?<S>[0-9]{6})-\s*1") == r"1LS7(?P<S>[0-9]{6})\s*1"
    assert python_regex(r"[A-Z]\-") == r"[A-Z]\-"  # class ranges and escapes untouched


# ranking, ambiguity, preferences, normalisation --------------------------------------------


def test_detect_checksum_valid_format_outranks_a_generic_one():
    # given a FedEx Express 12 number, which GLS's 12-digit parcel format also fits
    result = detect("986578788855")
    # then FedEx leads by far and the number is not called ambiguous
    assert [c.carrier for c in result.candidates] == ["fedex", "gls"]
    assert result.candidates[0].confidence > 0.5 > result.candidates[1].confidence
    assert result.ambiguous is False


def test_detect_fourteen_digits_is_ambiguous_and_split():
    # when
    result = detect("89108749065090")  # a real Chronopost skybill
    # then three couriers share the evidence equally
    assert result.ambiguous is True
    assert {c.carrier for c in result.candidates} == {"chronopost", "dhl", "dpd"}
    assert {c.confidence for c in result.candidates} == {0.1}


def test_detect_preferred_carriers_break_ties_only():
    # when
    plain = detect("89108749065090")
    chrono = detect("89108749065090", preferred_carriers=("chronopost",))
    dpd_then_dhl = detect("89108749065090", preferred_carriers=("dpd", "dhl"))
    fedex = detect("986578788855", preferred_carriers=("gls",))
    # then
    assert [c.carrier for c in plain.candidates] == ["chronopost", "dhl", "dpd"]  # by slug
    assert chrono.candidates[0].carrier == "chronopost"
    assert [c.carrier for c in dpd_then_dhl.candidates] == ["dpd", "dhl", "chronopost"]
    assert dpd_then_dhl.ambiguous is True  # preferences order, they do not disambiguate
    assert fedex.candidates[0].carrier == "fedex"  # a preference never beats better evidence


def test_detect_failed_check_digit_reported_only_when_nothing_fits():
    # a DHL Express-shaped number with a wrong check digit: the only hint there is
    [dhl] = detect("3318810010").candidates
    assert (dhl.carrier, dhl.checksum_valid, dhl.confidence) == ("dhl", False, 0.05)
    # a number that is a valid Purolator (12) is not also reported as a mistyped FedEx
    assert "fedex" not in {c.carrier for c in detect("320595463938").candidates}


def test_detect_s10_maps_the_issuing_country():
    assert detect("EW112720413FR").candidates[0].carrier == "laposte"
    assert detect("FQ087430672GB").candidates[0].carrier == "royalmail"
    assert detect("RB123456785NL").candidates[0].carrier == "postnl"
    assert detect("RB123456785DE").candidates[0].carrier == "dhl"
    [other] = detect("RB123456785CV").candidates
    assert other.carrier == f"{NO_ADAPTER_PREFIX}s10:CV"
    assert other.country == "CV"
    assert detect("RB123456785XX").candidates == ()  # no postal operator issues XX


def test_detect_courier_without_adapter_is_prefixed():
    [amazon] = detect("TBA000000000000").candidates
    assert amazon.carrier == "other:amazon"


def test_detect_normalises_spaces_dashes_and_case():
    # when
    number, candidates = detect_carrier("  1z-5r89 3903.5756_7127 ")
    # then
    assert number == "1Z5R89390357567127"
    assert [c.carrier for c in candidates] == ["ups"]
    for raw in ("  1z-5r89 3903.5756_7127 ", "6a 1560-2676 300", "3sdevc/987021270"):
        assert normalise_number(raw) == tracking_number_normalise(raw)


def test_detect_nothing_matches():
    assert detect("ZZ").as_dict() == {"tracking_number": "ZZ", "ambiguous": False, "candidates": []}
    assert detect_carrier("") == ("", [])


def test_detection_result_as_dict_shapes():
    # when
    result = detect("1Z5R89390357567127")
    # then the contract keys, and the additive detail on demand
    assert result.as_dict() == {
        "tracking_number": "1Z5R89390357567127",
        "ambiguous": False,
        "candidates": [{"carrier": "ups", "confidence": 0.95, "checksum_valid": True}],
    }
    [detailed] = result.as_dict(detail=True)["candidates"]
    assert detailed["name"] == "UPS"
    assert detailed["service"] == "UPS United States Ground"  # service type "03"
    assert detailed["country"] is None


def test_detect_service_type_from_the_lookup():
    [ups] = detect("1Z879E930346834440").candidates  # service "03"
    assert ups.service == "UPS United States Ground"
    [gls] = detect("36301917596").candidates  # product 30: a standard parcel
    assert gls.service == "Standard parcel"
