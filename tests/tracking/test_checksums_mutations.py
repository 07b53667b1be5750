"""Check digits of tracking.detection.checksums on concrete serials, each algorithm and each
parameter a definition can set or leave to its default (issue 22: `make mutate` found these
cases untested). Values worked by hand from the algorithms' descriptions in the module."""

import pytest

from tracking.detection.checksums import (
    UnknownChecksum,
    _digit_value,
    _from_spec,
    checksum_passes,
    luhn_check,
    mod7_check,
    mod10_check,
    mod_37_36_check,
    s10_check,
    sum_product_check,
)


def test_digit_value_digits_and_ups_letters():
    assert [_digit_value(c) for c in "09"] == [0, 9]
    # (ord - 3) mod 10: A=62 -> 2, Z=87 -> 7
    assert (_digit_value("A"), _digit_value("Z")) == (2, 7)


def test_mod10_check_weights_evens_and_odds_from_the_left():
    # 1×3 + 2 + 3×3 + 4 + 5×3 + 6 = 39 -> 1
    assert mod10_check("123456", evens_multiplier=3, odds_multiplier=1) == "1"
    # odds weighted instead: 1 + 2×3 + 3 + 4×3 + 5 + 6×3 = 45 -> 5
    assert mod10_check("123456", evens_multiplier=1, odds_multiplier=3) == "5"


def test_mod10_check_reverse_walks_from_the_end():
    # 6×3 + 5 + 4×3 + 3 + 2×3 + 1 = 45 -> 5
    assert mod10_check("123456", evens_multiplier=3, odds_multiplier=1, reverse=True) == "5"


def test_mod10_check_defaults_and_modulo():
    assert mod10_check("123456") == "9"  # 21 -> 10 - 1
    assert mod10_check("123456", modulo=11) == "1"  # 21 mod 11 = 10 -> 11 - 10
    assert mod10_check("0000") == "0"  # a multiple of the modulo gives 0, not 10
    assert mod10_check("999AA1012345678", evens_multiplier=1, odds_multiplier=2) == "4"  # UPS 1Z


def test_mod7_check_is_the_serial_modulo_seven():
    assert mod7_check("1234567890") == "3"
    assert mod7_check("0000000006") == "6"


def test_s10_check_upu_example_and_its_two_special_cases():
    assert s10_check("47312482") == "9"  # 200 mod 11 = 2 -> 9
    assert s10_check("00000000") == "5"  # 11 becomes 5
    assert s10_check("00004000") == "0"  # 4×3 = 12, mod 11 = 1 -> 10 becomes 0
    assert s10_check("12345678", weightings=(1, 1, 1, 1, 1, 1, 1, 1)) == "8"  # 36 mod 11 = 3


def test_sum_product_check_applies_both_moduli():
    assert sum_product_check("1234", weightings=[3, 1, 7, 3], modulo1=11, modulo2=10) == "5"
    # 10 mod 11 = 10, then mod 10 = 0
    assert sum_product_check("1234", weightings=[1, 1, 1, 1], modulo1=11, modulo2=10) == "0"


def test_luhn_check_doubles_from_the_right():
    assert luhn_check("7992739871") == "3"  # the textbook example
    assert luhn_check("5") == "9"  # 5×2 = 10 -> 1
    assert luhn_check("4") == "2"  # 4×2 = 8, no digit-sum
    assert luhn_check("0") == "0"
    assert luhn_check("10") == "9"  # 0×2 + 1 = 1 -> 9: only every second digit is doubled


def test_mod_37_36_check_over_the_alphanumerics():
    assert mod_37_36_check("0") == "2"  # S = 36, P = 72 mod 37 = 35 -> 2
    assert mod_37_36_check("A1B2C3") == "3"
    assert mod_37_36_check("ZZZ") == "M"
    assert mod_37_36_check("01234", alphabet="0123456789") == "3"


@pytest.mark.parametrize(
    ("spec", "serial", "check"),
    [
        ({"name": "mod10"}, "123456", "9"),
        ({"name": "mod10", "evens_multiplier": 3}, "123456", "1"),
        ({"name": "mod10", "evens_multiplier": 3, "odds_multiplier": 1}, "123456", "1"),
        ({"name": "mod10", "odds_multiplier": 3}, "123456", "5"),
        ({"name": "mod10", "evens_multiplier": 3, "reverse": True}, "123456", "5"),
        ({"name": "mod10", "modulo": 11}, "123456", "1"),
        ({"name": "mod7"}, "1234567890", "3"),
        ({"name": "s10"}, "47312482", "9"),
        ({"name": "s10", "weightings": [1, 1, 1, 1, 1, 1, 1, 1]}, "12345678", "8"),
        (
            {
                "name": "sum_product_with_weightings_and_modulo",
                "weightings": [1, 1, 1, 1],
                "modulo1": 11,
                "modulo2": 10,
            },
            "1234",
            "0",
        ),
        (
            {
                "name": "sum_product_with_weightings_and_modulo",
                "weightings": [3, 1, 7, 3],
                "modulo1": 11,
                "modulo2": 10,
            },
            "1234",
            "5",
        ),
        ({"name": "luhn"}, "7992739871", "3"),
        ({"name": "mod_37_36"}, "A1B2C3", "3"),
        ({"name": "mod_37_36", "alphabet": "0123456789"}, "01234", "3"),
    ],
)
def test_checksum_passes_reads_each_definition_parameter(spec, serial, check):
    assert checksum_passes(spec, serial, check)
    wrong = "X" if check != "X" else "Y"
    assert not checksum_passes(spec, serial, wrong)


def test_checksum_passes_refuses_an_unknown_algorithm_by_name():
    with pytest.raises(UnknownChecksum, match=r"^no checksum algorithm named 'crc32'$"):
        checksum_passes({"name": "crc32"}, "123", "1")


def test_checksum_passes_a_serial_of_the_wrong_shape_does_not_pass():
    # a letter where digits are weighted
    assert checksum_passes({"name": "luhn"}, "12A4", "0") is False
    # a serial shorter than the weights, with the digit its truncation would give (S10 of the
    # 7 digits against the first 7 weights: 148 mod 11 = 5 -> 6): refused, not truncated
    assert checksum_passes({"name": "s10"}, "1234567", "6") is False
    spec = {
        "name": "sum_product_with_weightings_and_modulo",
        "weightings": [1, 1, 1, 1],
        "modulo1": 11,
        "modulo2": 10,
    }
    assert checksum_passes(spec, "12", "3") is False
    assert checksum_passes(spec, "123456", "0") is False  # longer than the weights


def test_from_spec_refuses_an_algorithm_it_does_not_implement():
    with pytest.raises(UnknownChecksum, match=r"^no checksum algorithm named 'crc32'$"):
        _from_spec({"name": "crc32"}, "123")
