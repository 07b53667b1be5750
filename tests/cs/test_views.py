"""The CS console pages: search (whole page and htmx partial), shipment detail, actions."""

import pytest
from django.utils import timezone

from tests.sellers.factories import OrderFactory, UserFactory
from tests.support.roles import role_group
from tests.tracking.factories import (
    ShipmentExceptionFactory,
    ShipmentFactory,
    TrackingEventFactory,
    cs_agent,
)
from tracking.models import ShipmentAudit, ShipmentNote
from tracking.services.payloads import raw_payload_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client):
    agent = cs_agent(username="agent")
    client.force_login(agent)
    client.agent = agent
    return client


def test_cs_search_page_lists_the_parcels_of_a_buyer_email(agent_client):
    # given
    order = OrderFactory(buyer_email="camille@example.fr", reference="CMD-77")
    shipment = ShipmentFactory(order=order, tracking_number="6A00000000077")
    ShipmentFactory()  # somebody else's
    # when
    response = agent_client.get("/cs/", {"q": "Camille@Example.fr"})
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="shipment-{shipment.id}"' in html
    assert html.count('id="shipment-') == 1
    assert "<html" in html


def test_cs_search_answers_htmx_with_the_results_partial_only(agent_client):
    ShipmentFactory(tracking_number="6A00000000078")
    response = agent_client.get("/cs/", {"q": "6a 0000 0000 078"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="results-table"' in html and "6A00000000078" in html


def test_cs_search_page_queries_stay_bounded(agent_client, django_assert_max_num_queries):
    for _ in range(20):
        ShipmentExceptionFactory(shipment=ShipmentFactory(order=OrderFactory(buyer_name="Léa")))
    # session, user, permissions (2), sellers for the filter, 4 kinds, rows, exceptions
    with django_assert_max_num_queries(12):
        response = agent_client.get("/cs/", {"q": "Léa"})
    assert response.content.decode().count('id="shipment-') == 20


def test_cs_search_page_refuses_finance_and_sellers(client):
    finance = UserFactory(is_staff=True)
    finance.groups.add(role_group("finance lead"))
    client.force_login(finance)
    assert client.get("/cs/").status_code == 403


def test_cs_shipment_detail_shows_events_payload_exceptions_notes_and_payout(agent_client):
    # given a parcel with an event from a stored courier answer, an exception and a note
    shipment = ShipmentFactory()
    payload = raw_payload_build(
        carrier="laposte", kind="poll", body=b'{"shipment": {"idShip": "6A1"}}',
        url="https://api.laposte.fr/suivi/v2/idships/6A1", http_status=200,
        content_type="application/json",
    )  # fmt: skip
    payload.save()
    TrackingEventFactory(
        shipment=shipment, message="Votre colis est en transit", raw_payload=payload
    )
    exception = ShipmentExceptionFactory(shipment=shipment, kind="address_issue")
    ShipmentNote.objects.create(shipment=shipment, body="Buyer called: moving house.")
    from payouts.services import payout_open_for_order

    payout_open_for_order(order=shipment.order, actor=None)
    # when
    response = agent_client.get(f"/cs/shipments/{shipment.id}/")
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Votre colis est en transit" in html
    assert f'id="payload-{payload.id}"' in html and "idShip" in html
    assert f'id="exception-{exception.id}"' in html and "Address problem" in html
    assert "Buyer called: moving house." in html
    assert "Held (payment received)" in html


def test_cs_shipment_detail_of_an_unknown_id_is_404(agent_client):
    assert agent_client.get("/cs/shipments/999999/").status_code == 404


def test_cs_note_form_adds_a_note_and_an_audit_row(agent_client):
    shipment = ShipmentFactory()
    response = agent_client.post(f"/cs/shipments/{shipment.id}/notes/", {"body": " Called. "})
    assert response.status_code == 302
    note = ShipmentNote.objects.get()
    assert (note.body, note.author, note.author_label) == ("Called.", agent_client.agent, "agent")
    assert ShipmentAudit.objects.get().action == "note_added"


def test_cs_note_form_refuses_an_empty_note_and_stores_nothing(agent_client):
    shipment = ShipmentFactory()
    response = agent_client.post(f"/cs/shipments/{shipment.id}/notes/", {"body": "  "}, follow=True)
    assert "Write something in the note." in response.content.decode()
    assert not ShipmentNote.objects.exists()


def test_cs_resolve_form_marks_the_exception_handled(agent_client):
    exception = ShipmentExceptionFactory()
    response = agent_client.post(
        f"/cs/exceptions/{exception.id}/resolve/", {"resolution": "reshipped", "note": "sent again"}
    )
    assert response.status_code == 302
    exception.refresh_from_db()
    assert exception.resolution == "reshipped"
    assert exception.resolved_by == agent_client.agent
    assert exception.resolved_at <= timezone.now()


def test_cs_carrier_form_corrects_the_courier(agent_client):
    shipment = ShipmentFactory(carrier="laposte")
    agent_client.post(f"/cs/shipments/{shipment.id}/carrier/", {"carrier": "chronopost"})
    shipment.refresh_from_db()
    assert shipment.carrier == "chronopost"
    audit = ShipmentAudit.objects.get(action="carrier_corrected")
    assert audit.detail["previous_carrier"] == "laposte"


def test_cs_assign_form_takes_an_exception_and_ignores_outside_redirects(agent_client):
    exception = ShipmentExceptionFactory()
    response = agent_client.post(
        f"/cs/exceptions/{exception.id}/assign/",
        {"assignee": "me", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/cs/exceptions/"
    exception.refresh_from_db()
    assert exception.assigned_to == agent_client.agent


def test_cs_queues_page_counts_each_queue(agent_client, django_assert_max_num_queries):
    for _ in range(3):
        ShipmentExceptionFactory(kind="stuck")
    ShipmentExceptionFactory(kind="customs", assigned_to=agent_client.agent)
    with django_assert_max_num_queries(8):
        response = agent_client.get("/cs/exceptions/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("Take it") == 3
    summaries = {q.kind: q for q in response.context["summaries"]}
    assert (summaries["stuck"].open, summaries["stuck"].unassigned) == (3, 3)
    assert (summaries["customs"].open, summaries["customs"].unassigned) == (1, 0)


def test_cs_shipment_detail_queries_stay_bounded_whatever_the_history(
    agent_client, django_assert_max_num_queries
):
    # given a parcel with many events from many courier answers, notes and exceptions
    shipment = ShipmentFactory()
    for n in range(15):
        payload = raw_payload_build(carrier="laposte", kind="poll", body=b"{}", http_status=200)
        payload.save()
        TrackingEventFactory(shipment=shipment, raw_payload=payload, message=f"courier-scan-{n}")
        ShipmentNote.objects.create(shipment=shipment, body=f"note {n}")
    for kind in ("stuck", "customs", "address_issue"):
        ShipmentExceptionFactory(shipment=shipment, kind=kind)
    # then a fixed number of queries (session, user, permissions, the story, the log, payout,
    # agents), not one per event
    with django_assert_max_num_queries(20):
        response = agent_client.get(f"/cs/shipments/{shipment.id}/")
    assert response.content.decode().count("courier-scan-") == 15
