import pytest
from django.urls import reverse

from notifications.models import NotificationRule, WebhookDelivery
from notifications.services import rule_keys
from tests.notifications.factories import WebhookEndpointFactory
from tests.support.ingest import courier_says, scan
from tests.tracking.factories import ShipmentFactory


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("admin", "admin@example.fr", "pw-123456")
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_delivery_log_of_an_order_shows_what_was_sent_to_whom_masked(staff_client):
    # given a parcel whose buyer was told by email and SMS, and a webhook endpoint
    shipment = ShipmentFactory(
        order__buyer_email="camille@example.fr", order__buyer_phone="06 12 34 56 78"
    )
    WebhookEndpointFactory(seller=shipment.seller, name="Seller ERP")
    courier_says(shipment, scan("out_for_delivery"))
    # when staff open the order's and the parcel's delivery logs
    order_page = staff_client.get(
        reverse("admin:notifications_delivery_log_order", args=[shipment.order_id])
    )
    parcel_page = staff_client.get(
        reverse("admin:notifications_delivery_log_shipment", args=[shipment.id])
    )
    # then both list the email, the SMS and the webhooks, with masked addresses only
    for page in (order_page, parcel_page):
        html = page.content.decode()
        assert page.status_code == 200
        assert "c***@example.fr" in html and "+33 6** ** ** 78" in html
        assert "camille@example.fr" not in html and "+33612345678" not in html
        assert "Seller ERP" in html and "shipment.out_for_delivery" in html


@pytest.mark.django_db
def test_admin_lists_and_rule_editing(staff_client):
    # given a delivery and the default rules
    shipment = ShipmentFactory()
    WebhookEndpointFactory(seller=shipment.seller)
    courier_says(shipment, scan("delivered"))
    delivery = WebhookDelivery.objects.first()
    # when staff browse every notifications page
    for name in [
        "notification",
        "notificationrule",
        "webhookendpoint",
        "webhookevent",
        "webhookdelivery",
    ]:
        page = staff_client.get(reverse(f"admin:notifications_{name}_changelist"))
        assert page.status_code == 200
    assert (
        staff_client.get(
            reverse("admin:notifications_webhookdelivery_change", args=[delivery.id])
        ).status_code
        == 200
    )
    # and replay a delivery from the admin action
    response = staff_client.post(
        reverse("admin:notifications_webhookdelivery_changelist"),
        {"action": "replay", "_selected_action": [delivery.id]},
    )
    # then it is queued again
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempt_count) == ("pending", 0)
    # one default per trigger, audience and channel (migrations 0002 and 0004)
    assert NotificationRule.objects.filter(seller__isnull=True).count() == len(rule_keys())
