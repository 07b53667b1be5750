import pytest

from sellers.models import Order, OrderItem

pytestmark = pytest.mark.django_db

PAYLOAD = {"reference": "CMD-ITEMS", "total_amount": 5490, "buyer_email": "a@example.fr"}
LAMP = {"sku": "LAMP-1", "name": "Lampe Arco", "quantity": 2, "unit_amount": 1500}
SHADE = {"sku": "SHADE-1", "name": "Abat-jour", "quantity": 1, "unit_amount": 2000}


def test_orders_create_with_items_records_the_lines(seller_api):
    # given an order of two lines plus 4.90 of shipping
    # when it is created through the API
    response = seller_api.post("/api/v1/orders/", {**PAYLOAD, "items": [LAMP, SHADE]},
                               format="json")  # fmt: skip
    # then the lines are stored and echoed
    assert response.status_code == 201, response.json()
    assert [(i["sku"], i["quantity"], i["unit_amount"]) for i in response.json()["items"]] == [
        ("LAMP-1", 2, 1500), ("SHADE-1", 1, 2000),
    ]  # fmt: skip
    assert OrderItem.objects.filter(order_id=response.json()["id"]).count() == 2


def test_orders_create_without_items_still_works(seller_api):
    response = seller_api.post("/api/v1/orders/", PAYLOAD, format="json")
    assert (response.status_code, response.json()["items"]) == (201, [])


@pytest.mark.parametrize(
    "items",
    [
        [{**LAMP, "unit_amount": 9000}],  # lines above the total
        [LAMP, {**SHADE, "sku": "LAMP-1"}],  # a sku twice
        [{**LAMP, "quantity": 0}],  # no units
    ],
)
def test_orders_create_refuses_bad_items_and_stores_no_order(seller_api, items):
    response = seller_api.post("/api/v1/orders/", {**PAYLOAD, "items": items}, format="json")
    assert response.status_code == 400
    assert not Order.objects.filter(reference="CMD-ITEMS").exists()
