"""The CS console shows what providers said about a buyer's addresses: on the parcel's page,
and the list of addresses nothing is sent to any more."""

from datetime import UTC, datetime

import pytest

from notifications.models import DeliveryFeedback, Notification
from tests.sellers.factories import OrderFactory
from tests.tracking.factories import ShipmentFactory, cs_agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client):
    client.force_login(cs_agent(username="agent-nantes"))
    return client


def _feedback(**fields):
    defaults = {
        "channel": "email", "event": "bounced", "suppresses": True, "provider": "postmark",
        "description": "smtp;550 5.1.1 user unknown",
        "occurred_at": datetime(2026, 12, 2, 16, 33, tzinfo=UTC),
    }  # fmt: skip
    return DeliveryFeedback.objects.create(**{**defaults, **fields})


def test_shipment_page_shows_the_buyers_bounces_masked(agent_client):
    # given Hélène's email bounced and her SMS number is fine
    order = OrderFactory(buyer_email="helene.lefevre@orange.fr", buyer_phone="+262692123456")
    shipment = ShipmentFactory(order=order)
    Notification.objects.create(
        shipment=shipment, order=order, seller=shipment.seller, trigger="delivered",
        status_key="delivered", status="delivered", channel="sms", recipient="+262692123456",
        state="sent",
    )  # fmt: skip
    _feedback(address="helene.lefevre@orange.fr")
    _feedback(channel="sms", address="+262692123456", event="delivered", suppresses=False,
              provider="twilio", description="Twilio delivered")  # fmt: skip
    _feedback(address="someone.else@web.de")
    # when an agent opens the parcel
    page = agent_client.get(f"/cs/shipments/{shipment.id}/").content.decode()
    # then both of her events are there, the suppression said, the address masked
    section = page[page.index('id="delivery-feedback"') :]
    assert "smtp;550 5.1.1 user unknown" in section and "Twilio delivered" in section
    assert "nothing more is sent to this address" in section
    # (the agent sees the address in the order's header; the log masks it, as the
    # delivery log does)
    assert "helene.lefevre@orange.fr" not in section[: section.index("</section>")]
    assert "someone" not in section


def test_suppression_list_shows_each_address_once_with_its_latest_reason(agent_client):
    _feedback(address="juergen@web.de", event="bounced",
              occurred_at=datetime(2026, 11, 1, tzinfo=UTC))  # fmt: skip
    _feedback(address="juergen@web.de", event="complained", description="spam complaint",
              occurred_at=datetime(2026, 12, 1, tzinfo=UTC))  # fmt: skip
    _feedback(channel="sms", address="+447700900123", provider="twilio", event="failed",
              description="Twilio undelivered, error 30005")  # fmt: skip
    _feedback(address="fine@example.be", suppresses=False, event="deferred")
    page = agent_client.get("/cs/suppressions/").content.decode()
    assert page.count("<tr><td>2026") == 2
    assert "spam complaint" in page and "error 30005" in page
    assert "juergen@web.de" not in page and "fine" not in page


def test_suppression_list_is_for_cs_agents_only(client):
    response = client.get("/cs/suppressions/")
    assert response.status_code == 302
