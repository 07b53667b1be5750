"""Hostile input: every courier parser, fed random bytes and damaged real payloads, either
parses or raises its own CarrierPayloadError — never KeyError, TypeError, IndexError…"""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.shared_data import CARRIERS_DIR, EXTERNAL_PAYLOADS_DIR
from tracking.carriers import ADAPTER_CLASSES
from tracking.carriers.base import CarrierPayloadError, ParseResult

OWN_FIXTURES = Path(__file__).resolve().parent.parent.parent / "fixtures" / "carriers"


def _samples(folder: Path) -> list[Path]:
    """Courier bodies under ``folder`` (none when it is absent): code tables and detection data
    are not courier answers."""
    return sorted(
        p for p in folder.rglob("*") if p.suffix in {".json", ".xml"} and "tracking_number_data"
        not in p.parts and not p.name.endswith(("codes.json", "vocabulary.json"))
    )  # fmt: skip


# Our own fixtures always; other projects' answers too when ../shared is beside the clone (they
# are read in place, never copied).
SAMPLES = _samples(OWN_FIXTURES) + _samples(CARRIERS_DIR) + _samples(EXTERNAL_PAYLOADS_DIR)
SAMPLE_BODIES = [p.read_bytes() for p in SAMPLES]
ADAPTERS = {slug: cls(base_url="https://courier.test") for slug, cls in ADAPTER_CLASSES.items()}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_refuse(slug: str, body: bytes) -> None:
    try:
        result = ADAPTERS[slug].parse(body)
    except CarrierPayloadError:
        return
    assert isinstance(result, ParseResult)
    for shipment in result.shipments:
        for event in shipment.events:
            assert event.occurred_at.utcoffset() is not None


@pytest.mark.parametrize("slug", sorted(ADAPTERS))
@FUZZ
@given(body=st.binary(max_size=2048))
def test_parser_survives_random_bytes(slug, body):
    parse_or_refuse(slug, body)


@pytest.mark.parametrize("slug", sorted(ADAPTERS))
@FUZZ
@given(
    sample=st.sampled_from(SAMPLE_BODIES),
    cut=st.floats(min_value=0, max_value=1),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6),
)
def test_parser_survives_damaged_real_payloads(slug, sample, cut, flips):
    # given a real courier payload (any courier's: wrong-courier bodies are hostile input too),
    # truncated and with a few bytes changed
    body = bytearray(sample[: int(len(sample) * cut)])
    for position, value in flips:
        if body:
            body[int(position * (len(body) - 1))] = value
    # then the parser parses it or refuses it in its own words
    parse_or_refuse(slug, bytes(body))


@pytest.mark.parametrize("slug", sorted(ADAPTERS))
@FUZZ
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=12), children, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_parser_survives_well_formed_json_of_the_wrong_shape(slug, value):
    import json

    parse_or_refuse(slug, json.dumps(value).encode())
