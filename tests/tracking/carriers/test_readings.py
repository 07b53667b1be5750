"""The readings every adapter shares (tracking/carriers/base.py): placeholder signatories, the
courier's own summary beside its scans, and one result kept when a number has several."""

import json
from datetime import UTC, date, datetime

import pytest

from tracking.carriers import ADAPTER_CLASSES
from tracking.carriers.base import (
    CarrierEvent,
    ParseResult,
    TrackingError,
    TrackingResult,
    choose_our_parcels,
    gateway_error,
    signatory,
    with_summary,
)


def _event(day: int, status: str = "in_transit", code: str = "IT") -> CarrierEvent:
    return CarrierEvent(datetime(2024, 8, day, 12, 0, tzinfo=UTC), status, None, code, "")


def _result(number: str, *days: int, shipped_on: date | None = None) -> TrackingResult:
    return TrackingResult(number, tuple(_event(d) for d in days), shipped_on=shipped_on)


# --- signatory ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Signature not required",
        "SIGNATURE NOT REQUIRED",
        "Released without signature",
        "No signature required",
        "Signature waived",
        "N/A",
        "  ",
        "--",
    ],
)
def test_signatory_placeholder_is_nobody(text):
    assert signatory(text) == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [("CREILLY", "CREILLY"), ("..KOSUTOKO", "..KOSUTOKO"), (" John   Doe ", "John Doe")],
)
def test_signatory_a_name_is_kept(text, expected):
    assert signatory(text) == expected


# --- with_summary ---------------------------------------------------------------------------


def test_with_summary_adds_a_later_status_the_scans_stop_short_of():
    # given scans ending in transit and a summary saying delivered a day later
    summary = _event(3, "delivered", "DL")

    # when / then the summary is the last word
    assert with_summary([_event(2), _event(1)], summary) == (_event(1), _event(2), summary)


def test_with_summary_stands_alone_without_scans():
    expired = _event(9, "expired", "Expired_001")
    assert with_summary([], expired) == (expired,)


@pytest.mark.parametrize(
    "summary",
    [
        pytest.param(_event(3, "in_transit", "XX"), id="same-status"),
        pytest.param(_event(2, "delivered", "IT"), id="the-last-scan-itself"),
        pytest.param(_event(1, "delivered", "DL"), id="older-than-the-last-scan"),
        pytest.param(_event(5, "pending", "P"), id="pending-says-nothing"),
        pytest.param(None, id="none"),
    ],
)
def test_with_summary_adds_nothing_the_scans_already_say_or_contradict_later(summary):
    assert with_summary([_event(1), _event(2)], summary) == (_event(1), _event(2))


# --- choose_our_parcels ---------------------------------------------------------------------


def test_choose_our_parcels_drops_a_result_shipped_before_our_order():
    # given a number FedEx used in 2019 and again for our parcel ordered on 14 August 2024
    stale = _result("1", 1, shipped_on=date(2019, 3, 1))
    ours = _result("1", 16, shipped_on=date(2024, 8, 15))

    # when
    chosen = choose_our_parcels(
        ParseResult(shipments=[stale, ours]), courier="FedEx", ours_since={"1": date(2024, 8, 14)}
    )

    # then ours is kept, whatever the order of the answer, and the choice is written down
    assert chosen.shipments == [ours]
    assert chosen.errors == []
    assert chosen.notes == [
        "1: FedEx answered 2 shipments (shipped 2019-03-01, 2024-08-15); kept the one shipped "
        "2024-08-15, the first shipped since our parcel's 2024-08-14"
    ]


def test_choose_our_parcels_keeps_the_first_since_ours_not_a_later_reuse():
    ours = _result("1", 16, shipped_on=date(2024, 8, 15))
    later = _result("1", 20, shipped_on=date(2024, 11, 2))
    chosen = choose_our_parcels(
        ParseResult(shipments=[later, ours]), courier="FedEx", ours_since={"1": date(2024, 8, 14)}
    )
    assert chosen.shipments == [ours]


def test_choose_our_parcels_a_label_printed_the_day_before_in_the_courier_zone_is_ours():
    # the courier's local date may be a day behind ours
    stale = _result("1", 1, shipped_on=date(2023, 1, 5))
    ours = _result("1", 14, shipped_on=date(2024, 8, 13))
    chosen = choose_our_parcels(
        ParseResult(shipments=[ours, stale]), courier="FedEx", ours_since={"1": date(2024, 8, 14)}
    )
    assert chosen.shipments == [ours]


def test_choose_our_parcels_without_our_dates_keeps_the_most_recent():
    # given no order date to compare (the operators' parse command), undated results use
    # their first scan's date
    older, newer = _result("1", 3), _result("1", 20)
    chosen = choose_our_parcels(ParseResult(shipments=[newer, older]), courier="DHL")
    assert chosen.shipments == [newer]
    assert chosen.notes[0].endswith("the most recent (no order or registration date to compare)")


def test_choose_our_parcels_all_older_than_ours_is_not_found_never_a_stale_parcel():
    stale = [_result("1", 1, shipped_on=date(2019, 3, 1)), _result("1", 2)]
    chosen = choose_our_parcels(
        ParseResult(shipments=stale), courier="FedEx", ours_since={"1": date(2024, 9, 1)}
    )
    assert chosen.shipments == []
    [error] = chosen.errors
    assert (error.tracking_number, error.code) == ("1", "not_found")


def test_choose_our_parcels_leaves_single_results_and_errors_alone():
    single, other = _result("1", 1, shipped_on=date(2019, 3, 1)), _result("2", 2)
    error = TrackingError("3", "not_found", "unknown")
    result = ParseResult(shipments=[single, other], errors=[error])
    chosen = choose_our_parcels(result, courier="FedEx", ours_since={"1": date(2024, 9, 1)})
    assert (chosen.shipments, chosen.errors, chosen.notes) == ([single, other], [error], [])


# --- gateway error bodies -------------------------------------------------------------------

GATEWAY_BODIES = [
    pytest.param(
        {
            "fault": {
                "faultstring": "Rate limit quota violation. Quota limit  exceeded.",
                "detail": {"errorcode": "policies.ratelimit.QuotaViolation"},
            }
        },
        "rate_limited",
        id="apigee-429",
    ),
    pytest.param(
        {
            "fault": {
                "faultstring": "Spike arrest violation. Allowed rate : 10ps",
                "detail": {"errorcode": "policies.ratelimit.SpikeArrestViolation"},
            }
        },
        "rate_limited",
        id="apigee-spike-arrest",
    ),
    pytest.param(
        {
            "fault": {
                "faultstring": "The Service is temporarily unavailable",
                "detail": {"errorcode": "messaging.adaptors.http.flow.ServiceUnavailable"},
            }
        },
        "unavailable",
        id="apigee-503",
    ),
    pytest.param(
        {
            "fault": {
                "faultstring": "Invalid ApiKey",
                "detail": {"errorcode": "oauth.v2.InvalidApiKey"},
            }
        },
        "auth_failed",
        id="apigee-bad-key",
    ),
    pytest.param(
        {"title": "Too Many Requests", "status": 429, "detail": "Too many requests"},
        "rate_limited",
        id="problem-429",
    ),
    pytest.param(
        {"title": "Service Unavailable", "status": 503, "detail": "Try later"},
        "unavailable",
        id="problem-503",
    ),
    pytest.param({"message": "Too Many Requests"}, "rate_limited", id="aws-429"),
    pytest.param({"message": "Internal server error"}, "unavailable", id="aws-500"),
]


@pytest.mark.parametrize("slug", ["aftership", "dhl", "dhlexpress", "dpd", "fedex", "gls"])
@pytest.mark.parametrize(("body", "kind"), GATEWAY_BODIES)
def test_gateway_error_body_is_the_courier_fault_it_says_for_every_adapter(slug, body, kind):
    # given a gateway's own 429/503/401 body in front of the courier's API
    adapter = ADAPTER_CLASSES[slug](base_url="https://courier.test")

    # when
    result = adapter.parse(json.dumps(body).encode())

    # then it is that fault, naming no number (the sync backs the courier off), never a crash
    assert [(e.tracking_number, e.code) for e in result.errors] == [("", kind)]
    assert result.shipments == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"title": "No result found", "status": 404, "detail": "none"}, id="404"),
        pytest.param({"title": "Bad Request", "status": 400, "detail": "bad"}, id="400"),
        pytest.param({"message": "Tracking number not found"}, id="courier-words"),
        pytest.param({"fault": {"faultstring": "Something else"}}, id="other-fault"),
    ],
)
def test_gateway_error_leaves_the_courier_own_errors_to_the_adapter(body):
    assert gateway_error(body) is None
