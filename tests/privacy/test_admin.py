"""The admin actions on an order: export the buyer's data, erase it (confirmed, permission)."""

import json

import pytest
from django.contrib.auth.models import Permission

from privacy.models import PrivacyRequest
from sellers.models import Order
from tests.sellers.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/admin/sellers/order/"


@pytest.fixture
def siobhan():
    OrderFactory(reference="MAI-20261202-0451", buyer_name="Siobhán O'Connor",
                 buyer_email="siobhan@btinternet.co.uk", buyer_phone="+447700900123",
                 destination_country="GB", destination_postcode="BT1 5GS")  # fmt: skip
    return OrderFactory(
        reference="MAI-20261203-0460", buyer_name="Siobhán O'Connor",
        buyer_email="siobhan@btinternet.co.uk", destination_country="GB",
    )  # fmt: skip


@pytest.fixture
def dpo(client):
    user = UserFactory(username="dpo", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_order", "change_order", "erase_buyer_data", "export_buyer_data"]
        )
    )
    client.force_login(user)
    return user


def test_order_admin_exports_the_buyers_data_as_json(client, dpo, siobhan):
    response = client.post(URL, {"action": "export_buyer_data", "_selected_action": [siobhan.pk]})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert [o["reference"] for o in data["orders"]] == ["MAI-20261202-0451", "MAI-20261203-0460"]
    assert PrivacyRequest.objects.get().actor == dpo


def test_order_admin_erases_only_once_confirmed(client, dpo, siobhan):
    # when the action is chosen, a confirmation page says what goes
    asked = client.post(URL, {"action": "erase_buyer_data", "_selected_action": [siobhan.pk]})
    assert asked.status_code == 200 and b"cannot be undone" in asked.content
    assert Order.objects.filter(buyer_email="siobhan@btinternet.co.uk").count() == 2
    # and once confirmed, both orders of the buyer are erased and audited
    done = client.post(
        URL, {"action": "erase_buyer_data", "_selected_action": [siobhan.pk], "confirm": "yes"}
    )
    assert done.status_code == 302
    assert not Order.objects.exclude(buyer_email="").exists()
    audit = PrivacyRequest.objects.get(kind="erasure")
    assert audit.actor == dpo and audit.counts["orders"] == 2


def test_order_admin_hides_the_privacy_actions_without_their_permissions(client, siobhan):
    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_order", "change_order"])
    )
    client.force_login(clerk)
    page = client.get(URL)
    assert b"erase_buyer_data" not in page.content and b"export_buyer_data" not in page.content
    client.post(URL, {"action": "erase_buyer_data", "_selected_action": [siobhan.pk],
                      "confirm": "yes"})  # fmt: skip
    assert Order.objects.filter(buyer_email="siobhan@btinternet.co.uk").count() == 2
