"""Issue 14, item 7: every API list has a bounded page size, and a limit or offset no database
column can hold is a 400, not a 500."""

import pytest

from core.api.pagination import MAX_PAGE_SIZE
from tests.sellers.factories import OrderFactory
from tests.tracking.factories import ShipmentFactory

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/shipments/",
    "/api/v1/events/",
    "/api/v1/orders/",
    "/api/v1/payouts/",
    "/api/v1/cs/exceptions/",
]


def test_paging_a_huge_limit_returns_at_most_one_bounded_page(marketplace_api):
    # given more parcels than a page holds
    order = OrderFactory()
    ShipmentFactory.create_batch(MAX_PAGE_SIZE + 5, order=order)

    # when a client paging by offset asks for every row at once
    response = marketplace_api.get("/api/v1/shipments/?offset=0&limit=9223372036854775807")

    # then it gets one bounded page and a link to the next
    assert response.status_code == 200
    assert response.json()["count"] == MAX_PAGE_SIZE + 5
    assert len(response.json()["results"]) == MAX_PAGE_SIZE
    assert "offset=200" in response.json()["next"]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    "query",
    [
        "limit=99999999999999999999",
        "offset=99999999999999999999",
        "offset=9223372036854775808",
        "limit=%C2%B2",
        "offset=-1",
        "limit=abc",
    ],
)
def test_paging_an_out_of_range_or_non_integer_value_is_a_400(marketplace_api, path, query):
    marketplace_api.raise_request_exception = False

    response = marketplace_api.get(f"{path}?{query}")

    assert response.status_code == 400, response.content
    name = query.split("=")[0]
    assert name in response.json()


def test_paging_the_largest_bigint_offset_is_an_empty_page(marketplace_api):
    ShipmentFactory()

    response = marketplace_api.get("/api/v1/shipments/?offset=9223372036854775807")

    assert response.status_code == 200
    assert response.json()["results"] == []
