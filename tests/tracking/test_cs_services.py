"""CS writes: notes, courier correction, agent resync — validated, audited, nothing lost."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from core.errors import ApplicationError
from tests.tracking.factories import ShipmentFactory, TrackingEventFactory, cs_agent
from tracking.models import Shipment, ShipmentAudit, ShipmentNote
from tracking.services.cs import (
    shipment_carrier_correct,
    shipment_note_add,
    shipment_resync_by_agent,
)

pytestmark = pytest.mark.django_db


def test_shipment_carrier_correct_keeps_the_events_and_schedules_a_sync():
    # given a parcel registered with the wrong courier, with a scan and a failing sync
    shipment = ShipmentFactory(carrier="laposte", next_sync_at=None, sync_error_count=3,
                               last_sync_error="unknown number")  # fmt: skip
    TrackingEventFactory(shipment=shipment)
    agent = cs_agent()
    # when
    corrected = shipment_carrier_correct(
        shipment=shipment, carrier="chronopost", actor=agent,
        reason="seller mixed them up",
    )  # fmt: skip
    # then
    assert (corrected.carrier, corrected.sync_error_count, corrected.last_sync_error) == (
        "chronopost", 0, "",
    )  # fmt: skip
    assert corrected.next_sync_at is not None
    assert corrected.events.count() == 1
    audit = ShipmentAudit.objects.get()
    assert (audit.actor, audit.action) == (agent, "carrier_corrected")
    assert audit.detail == {"previous_carrier": "laposte", "carrier": "chronopost",
                            "reason": "seller mixed them up"}  # fmt: skip


@pytest.mark.parametrize(
    ("carrier", "message"),
    [("laposte", "already followed"), ("nope", "Unknown courier"), ("other", "registered by")],
)
def test_shipment_carrier_correct_refuses_bad_couriers_and_changes_nothing(carrier, message):
    shipment = ShipmentFactory(carrier="laposte")
    with pytest.raises(ApplicationError, match=message):
        shipment_carrier_correct(shipment=shipment, carrier=carrier, actor=None)
    assert Shipment.objects.get(pk=shipment.pk).carrier == "laposte"
    assert not ShipmentAudit.objects.exists()


def test_shipment_carrier_correct_refuses_a_duplicate_on_the_same_order():
    shipment = ShipmentFactory(carrier="laposte", tracking_number="6A00000000999")
    ShipmentFactory(order=shipment.order, carrier="dhl", tracking_number="6A00000000999")
    with pytest.raises(ApplicationError, match="already a parcel of this order"):
        shipment_carrier_correct(shipment=shipment, carrier="dhl", actor=None)


def test_shipment_note_add_by_the_crm_names_its_author_and_refuses_too_long_notes():
    shipment = ShipmentFactory()
    note = shipment_note_add(shipment=shipment, body="Ticket 12", actor_label="CRM (Léa)")
    assert (note.author, note.author_label) == (None, "CRM (Léa)")
    with pytest.raises(ApplicationError, match="at most"):
        shipment_note_add(shipment=shipment, body="x" * 4001)
    assert ShipmentNote.objects.count() == 1


def test_shipment_resync_by_agent_refuses_a_courier_without_api():
    shipment = ShipmentFactory(carrier="other", carrier_name="Colis Privé", next_sync_at=None)
    with pytest.raises(ApplicationError, match="no API"):
        shipment_resync_by_agent(shipment=shipment, actor=None)
    assert not ShipmentAudit.objects.exists()


def test_tracking_detect_exceptions_command_prints_what_it_opened():
    out = StringIO()
    call_command("tracking", "detect_exceptions", stdout=out)
    body = json.loads(out.getvalue())
    assert body == {"opened": {"no_first_scan": 0, "stuck": 0, "delayed": 0}, "resolved": 0}


def test_tracking_edd_accuracy_command_refuses_a_bad_share(capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command("tracking", "edd_accuracy", "--train-share", "1.5")
    assert exit_info.value.code == 2
    assert "--train-share" in capsys.readouterr().err
