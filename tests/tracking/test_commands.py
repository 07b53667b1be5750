import json

import pytest
from django.core.management import call_command

from devtools.sandbox.numbers import number_for_scenario
from tests.support.shared_data import carrier_sample, external_payload
from tests.tracking.factories import ShipmentFactory


def run(capsys, *args) -> dict:
    call_command("tracking", *args)
    return json.loads(capsys.readouterr().out)


def run_failing(capsys, *args) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        call_command("tracking", *args)
    return exit_info.value.code, capsys.readouterr().err


def test_tracking_parse_laposte_delivered_sample(capsys):
    out = run(
        capsys,
        "parse",
        "--carrier",
        "laposte",
        str(carrier_sample("laposte_suivi_v2_delivered.json")),
    )
    [shipment] = out["shipments"]
    assert out["carrier"] == "laposte"
    assert out["errors"] == []
    assert (shipment["tracking_number"], shipment["status"]) == ("EW112720413FR", "delivered")
    assert shipment["estimated_delivery"] == "2023-03-09T09:38:00+01:00"
    assert shipment["pod"]["delivered_at"] == "2023-03-09T09:38:00+01:00"
    assert [e["code"] for e in shipment["events"]] == [
        "DR1",
        "PC1",
        "ET1",
        "ET1",
        "ET2",
        "ET3",
        "ET1",
        "MD2",
        "DI1",
    ]
    assert shipment["events"][0]["occurred_at"] == "2023-02-17T14:41:00+01:00"
    assert [e["status"] for e in shipment["events"]][-2:] == ["out_for_delivery", "delivered"]


def test_tracking_parse_laposte_error_lands_in_errors(capsys):
    out = run(
        capsys,
        "parse",
        "--carrier",
        "laposte",
        str(carrier_sample("laposte_suivi_v2_error_400_invalid_number.json")),
    )
    assert out["shipments"] == []
    [error] = out["errors"]
    assert error["code"] == "invalid_number"
    assert error["message"].startswith("Le numéro que vous avez saisi n’est pas valide")


def test_tracking_parse_dhl_samples(capsys):
    spec = run(
        capsys, "parse", "--carrier", "dhl", str(carrier_sample("dhl_unified_spec_example.json"))
    )
    missing = run(
        capsys, "parse", "--carrier", "dhl", str(carrier_sample("dhl_unified_error_404.json"))
    )
    [shipment] = spec["shipments"]
    assert shipment["tracking_number"] == "7777777770"
    assert shipment["status"] == "info_received"  # the example's statusCode is pre-transit
    assert shipment["estimated_delivery"] == "2018-08-03T00:00:00+00:00"
    # the doc example carries a proofOfDelivery block on a pre-transit parcel: not a delivery
    assert shipment["pod"] is None
    assert shipment["events"][0]["location"] == {
        "city": "AMSTERDAM",
        "postcode": "1043 AG",
        "country": "NL",
    }
    assert shipment["events"][0]["occurred_at"] == "2018-03-02T07:53:47+01:00"
    assert missing["errors"] == [
        {
            "tracking_number": "8264715546",
            "code": "not_found",
            "message": "No shipment with given tracking number found.",
        }
    ]


def test_tracking_parse_bad_input_exits_non_zero_with_one_line(capsys, tmp_path):
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    for args in (
        ["parse", "--carrier", "laposte", str(garbage)],
        ["parse", "--carrier", "pigeon", str(garbage)],
        ["parse", "--carrier", "laposte", str(tmp_path / "missing.json")],
    ):
        code, err = run_failing(capsys, *args)
        assert code != 0
        assert err.startswith("error: ") and err.count("\n") == 1


def test_tracking_detect_ranks_candidates(capsys):
    dhl = run(capsys, "detect", "12 3456 7890")
    nothing = run(capsys, "detect", "ZZ")
    assert dhl["tracking_number"] == "1234567890"
    assert [c["carrier"] for c in dhl["candidates"]] == ["dhl"]
    assert set(dhl["candidates"][0]) == {"carrier", "confidence", "checksum_valid"}
    assert nothing == {"tracking_number": "ZZ", "ambiguous": False, "candidates": []}


@pytest.mark.django_db
def test_tracking_sync_by_number_against_the_sandbox(capsys, sandbox, settings):
    # given a registered parcel the sandbox knows
    number = number_for_scenario("laposte", "delivered_mailbox")
    shipment = ShipmentFactory(carrier="laposte", tracking_number=number)
    # when
    out = run(capsys, "sync", number)
    # then
    assert out["shipment"] == shipment.id
    assert out["status"] == "info_received"
    assert out["events"] == 1
    assert out["fault"] is None


@pytest.mark.django_db
def test_tracking_sync_unknown_shipment_fails_cleanly(capsys):
    code, err = run_failing(capsys, "sync", "NOPE123")
    assert code != 0
    assert "no shipment" in err


@pytest.mark.parametrize(
    ("carrier", "name", "code"),
    [
        # bodies that came with an error HTTP status (the README of external-payloads lists it):
        # the live sync never parses them, the operator's command still names the error
        ("laposte", "laposte/debuss-2.json", "invalid_number"),  # 400
        ("laposte", "laposte/debuss-3.json", "auth_failed"),  # 401
        ("laposte", "laposte/debuss-4.json", "not_found"),  # 404
        ("laposte", "laposte/debuss-5.json", "rate_limited"),  # 429
        ("laposte", "laposte/debuss-6.json", "unavailable"),  # 500
        ("laposte", "laposte/debuss-7.json", "unavailable"),  # 503
        ("royalmail", "royalmail/elliotjreed-1.json", "not_found"),  # 404
        ("royalmail", "royalmail/elliotjreed-2.json", "auth_failed"),  # 401
        ("royalmail", "royalmail/elliotjreed-3.json", "unavailable"),  # 503
        ("royalmail", "royalmail/karrio-1.json", "bad_request"),  # 400, header missing
        ("ups", "ups/karrio-4.json", "auth_failed"),  # 401
        ("ups", "ups/omniship-2.json", "not_found"),  # 404
        ("usps", "usps/karrio-1.json", "auth_failed"),  # 401
        ("usps", "usps/omniship-3.json", "not_found"),  # 400, "not yet available"
    ],
)
def test_tracking_parse_names_the_error_of_bodies_sent_with_an_error_status(
    capsys, carrier, name, code
):
    # given a courier's error body saved to a file
    # when
    out = run(capsys, "parse", "--carrier", carrier, str(external_payload(name)))

    # then it lands in errors with its kind, and the command succeeds
    assert out["shipments"] == []
    assert [e["code"] for e in out["errors"]] == [code]
