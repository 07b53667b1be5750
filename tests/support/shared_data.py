"""Courier answers that other projects recorded or published, read where they are.

They live in ``../shared/`` beside the clone (``carriers/`` and ``external-payloads/``) and
belong to their authors: the project keeps no copy. A test that reads them skips, saying why,
when the folder is absent (a clone on its own); CI has it beside the clone.

``PARCELLE_SHARED_DIR`` points elsewhere when the folder is not beside the clone.
"""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_DIR = Path(os.environ.get("PARCELLE_SHARED_DIR") or REPO.parent / "shared")
CARRIERS_DIR = SHARED_DIR / "carriers"
EXTERNAL_PAYLOADS_DIR = SHARED_DIR / "external-payloads"


def _require(path: Path) -> Path:
    if not path.exists():
        # allow_module_level: test modules also read samples while collecting (parametrize
        # lists built from a sample); there the whole module skips with this reason, in a test
        # only that test does.
        pytest.skip(
            f"needs other projects' courier data at {path} (../shared beside the clone, or "
            "PARCELLE_SHARED_DIR): it belongs to its authors and is not committed here",
            allow_module_level=True,
        )
    return path


def carrier_sample(name: str) -> Path:
    """A file of ``../shared/carriers/`` (skips when the folder is absent)."""
    return _require(CARRIERS_DIR / name)


def external_payload(name: str) -> Path:
    """A file of ``../shared/external-payloads/``, e.g. ``"fedex/omniship-1.json"``."""
    return _require(EXTERNAL_PAYLOADS_DIR / name)


def read_carrier_sample(name: str) -> bytes:
    return carrier_sample(name).read_bytes()


def read_external_payload(name: str) -> bytes:
    return external_payload(name).read_bytes()


def published_reading(out: dict) -> tuple[list[tuple], list[tuple]]:
    """What ``manage.py tracking parse`` concluded from a published answer, in the shape the
    couriers' tests compare with what a person reading it concludes: per parcel (number, status,
    substatus, events, last event code, signatory or None without a POD), per error (number,
    kind)."""
    shipments = [
        (
            s["tracking_number"],
            s["status"],
            s["substatus"],
            len(s["events"]),
            s["events"][-1]["code"] if s["events"] else None,
            s["pod"]["signed_by"] if s["pod"] else None,
        )
        for s in out["shipments"]
    ]
    return shipments, [(e["tracking_number"], e["code"]) for e in out["errors"]]
