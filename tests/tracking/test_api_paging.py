"""Issue 17, item 6: the shipment list and the events feed page by cursor over a unique indexed
key, so a page costs the same at row 1 000 000 as at row 1, a walk sees every row once even while
rows are added, a client's edited cursor is a 400, and offset clients keep their pages."""

import base64
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.api.pagination import MAX_PAGE_SIZE
from tests.sellers.factories import OrderFactory
from tests.tracking.factories import ShipmentFactory, TrackingEventFactory

pytestmark = pytest.mark.django_db


def _walk(client, url, params=None, *, on_page=None):
    """Every row of a list, following ``next`` links; ``on_page(n)`` runs after page n."""
    rows, pages = [], 0
    response = client.get(url, params or {})
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"next", "previous", "results"}  # a cursor page: no count
        rows.extend(body["results"])
        pages += 1
        if on_page:
            on_page(pages)
        if not body["next"]:
            return rows, pages
        response = client.get(body["next"])


def _cursor(**tokens) -> str:
    return base64.b64encode(urlencode(tokens).encode()).decode()


def test_shipments_cursor_walk_returns_every_row_once_newest_first(marketplace_api):
    # given more shipments than three pages hold
    shipments = ShipmentFactory.create_batch(23, order=OrderFactory())

    # when a client walks the list seven at a time
    rows, pages = _walk(marketplace_api, "/api/v1/shipments/", {"limit": 7})

    # then it sees each shipment once, newest first, over four pages
    assert [row["id"] for row in rows] == sorted((s.id for s in shipments), reverse=True)
    assert pages == 4


def test_shipments_cursor_walk_is_unmoved_by_rows_inserted_meanwhile(marketplace_api):
    # given a list being walked
    order = OrderFactory()
    before = ShipmentFactory.create_batch(12, order=order)
    added = []

    # when new shipments are registered after each page
    rows, _ = _walk(
        marketplace_api,
        "/api/v1/shipments/",
        {"limit": 5},
        on_page=lambda n: added.extend(ShipmentFactory.create_batch(3, order=order)),
    )

    # then the walk returns the rows it started with, each once, in order (offset paging would
    # have shifted by three rows a page and repeated them); the new ones head the next walk
    assert [row["id"] for row in rows] == sorted((s.id for s in before), reverse=True)
    first = marketplace_api.get("/api/v1/shipments/", {"limit": 3}).json()["results"]
    assert [row["id"] for row in first] == sorted((s.id for s in added), reverse=True)[:3]


def test_events_feed_walk_gets_events_stored_meanwhile_once_at_the_end(marketplace_api):
    # given a feed being walked, oldest stored first
    shipment = ShipmentFactory()
    before = TrackingEventFactory.create_batch(8, shipment=shipment)
    added = []

    def courier_delivers_more(page_number):
        if page_number <= 2:
            added.extend(TrackingEventFactory.create_batch(2, shipment=shipment))

    # when events arrive while the client walks
    rows, _ = _walk(marketplace_api, "/api/v1/events/", {"limit": 3}, on_page=courier_delivers_more)

    # then it sees every event once, old and new, in the order they were stored
    assert [row["id"] for row in rows] == [e.id for e in [*before, *added]]
    assert rows[0]["shipment"] == shipment.id
    assert rows[0]["tracking_number"] == shipment.tracking_number


def test_shipments_previous_link_walks_back_to_the_first_page(marketplace_api):
    ShipmentFactory.create_batch(9, order=OrderFactory())
    first = marketplace_api.get("/api/v1/shipments/", {"limit": 4}).json()
    second = marketplace_api.get(first["next"]).json()
    third = marketplace_api.get(second["next"]).json()

    back = marketplace_api.get(third["previous"]).json()
    back_to_first = marketplace_api.get(back["previous"]).json()

    assert back["results"] == second["results"]
    assert back_to_first["results"] == first["results"]
    assert first["previous"] is None
    assert third["next"] is None


def test_shipments_cursor_pages_keep_the_filters(seller, other_seller, marketplace_api):
    # given two sellers' shipments, some out for delivery
    mine = ShipmentFactory.create_batch(5, order__seller=seller, status="out_for_delivery")
    ShipmentFactory.create_batch(3, order__seller=seller)
    ShipmentFactory.create_batch(4, order__seller=other_seller, status="out_for_delivery")

    # when the marketplace walks one seller's shipments out for delivery
    rows, pages = _walk(
        marketplace_api,
        "/api/v1/shipments/",
        {"seller": seller.id, "status": "out_for_delivery", "limit": 2},
    )

    # then the next links carried the filters
    assert [row["id"] for row in rows] == sorted((s.id for s in mine), reverse=True)
    assert pages == 3


def test_events_feed_is_scoped_to_the_sellers_own_and_filters(seller, other_seller, seller_api):
    mine = ShipmentFactory(order__seller=seller)
    delivered = TrackingEventFactory(shipment=mine, status="delivered")
    in_transit = TrackingEventFactory(shipment=mine)
    TrackingEventFactory(shipment=ShipmentFactory(order__seller=seller))
    TrackingEventFactory.create_batch(3, shipment=ShipmentFactory(order__seller=other_seller))

    by_shipment, _ = _walk(seller_api, "/api/v1/events/", {"shipment": mine.id, "limit": 1})
    by_status, _ = _walk(seller_api, "/api/v1/events/", {"status": "delivered"})
    everything, _ = _walk(seller_api, "/api/v1/events/")

    assert [row["id"] for row in by_shipment] == [delivered.id, in_transit.id]
    assert [row["id"] for row in by_status] == [delivered.id]
    assert len(everything) == 3  # none of the other seller's


@pytest.mark.parametrize(
    "cursor",
    [
        "not-base64!!",
        _cursor(p="abc"),  # a position that is no id: the ORM would refuse it with a 500
        _cursor(p="99999999999999999999"),  # beyond a bigint: no cursor of ours
        _cursor(p="-5"),
        _cursor(p="5", o="3"),  # our keys are unique: no cursor of ours carries an offset
        _cursor(p="5", o="x"),
        _cursor(p="5", r="yes"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/shipments/", "/api/v1/events/"])
def test_paging_a_tampered_cursor_is_a_400_with_the_error_body(marketplace_api, path, cursor):
    marketplace_api.raise_request_exception = False
    ShipmentFactory()

    response = marketplace_api.get(path, {"cursor": cursor})

    assert response.status_code == 400, response.content
    assert response.json() == {
        "code": "invalid_cursor",
        "message": "Invalid cursor: pass a page's next or previous link unchanged.",
        "errors": {"cursor": ["Invalid cursor: pass a page's next or previous link unchanged."]},
    }


@pytest.mark.parametrize(
    ("limit", "expected"), [("1", 1), ("0", 50), ("", 50), ("500", MAX_PAGE_SIZE)]
)
def test_cursor_page_size_is_bounded(marketplace_api, limit, expected):
    ShipmentFactory.create_batch(MAX_PAGE_SIZE + 1, order=OrderFactory())

    body = marketplace_api.get("/api/v1/shipments/", {"limit": limit}).json()

    assert len(body["results"]) == expected
    assert body["next"] is not None


def test_offset_clients_keep_the_count_and_the_same_order(marketplace_api):
    # given a list a legacy client pages by offset
    ShipmentFactory.create_batch(7, order=OrderFactory())
    by_cursor, _ = _walk(marketplace_api, "/api/v1/shipments/", {"limit": 3})

    # when it asks with offset, from 0
    first = marketplace_api.get("/api/v1/shipments/", {"offset": 0, "limit": 3}).json()
    second = marketplace_api.get(first["next"]).json()

    # then it gets the old envelope, with count, in the cursor walk's order
    assert first["count"] == 7
    assert parse_qs(urlparse(first["next"]).query)["offset"] == ["3"]
    assert [r["id"] for r in first["results"] + second["results"]] == [
        r["id"] for r in by_cursor[:6]
    ]


def test_paging_cursor_and_offset_together_is_a_400(marketplace_api):
    marketplace_api.raise_request_exception = False

    response = marketplace_api.get("/api/v1/shipments/", {"offset": 5, "cursor": _cursor(p="9")})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "cursor" in response.json()["errors"]


def _page_query_plan(client, url, table: str) -> tuple[str, str]:
    """The SQL of a list's second page that reads ``table``, and PostgreSQL's plan for it.

    The test tables are tiny, where a sequential scan and a sort is the cheaper plan; with
    sequential scans, bitmap scans and sorts priced out, the planner still sorts unless an index
    yields the page's order, which is what a page at row 1 000 000 needs."""
    first = client.get(url).json()
    assert first["next"], "the list needs a second page"
    with CaptureQueriesContext(connection) as queries:
        assert client.get(first["next"]).status_code == 200
    (sql,) = [
        q["sql"] for q in queries.captured_queries
        if f'FROM "{table}"' in q["sql"] and "ORDER BY" in q["sql"]
    ]  # fmt: skip
    with connection.cursor() as cursor:
        # Scans and sorts priced out: the plan sorts only if no index gives the page's order
        # (which plan wins among the rest on tables this small otherwise varies from run to run).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return sql, plan


@pytest.mark.parametrize(
    ("url", "table", "index"),
    [
        ("/api/v1/shipments/?limit=5", "tracking_shipment", "tracking_shipment_pkey"),
        ("/api/v1/shipments/?limit=5&seller={seller}", "tracking_shipment", "shipment_seller_id"),
        ("/api/v1/events/?limit=5", "tracking_trackingevent", "tracking_trackingevent_pkey"),
        ("/api/v1/events/?limit=5&shipment={shipment}", "tracking_trackingevent",
         "event_shipment_id"),
    ],
)  # fmt: skip
def test_cursor_page_is_an_index_range_scan_without_offset(marketplace_api, url, table, index):
    if connection.vendor != "postgresql":
        pytest.skip("the query plan is PostgreSQL's")
    # given rows enough for a second page
    shipment = ShipmentFactory()
    ShipmentFactory.create_batch(9, order=shipment.order)
    TrackingEventFactory.create_batch(9, shipment=shipment)

    # when the second page is read
    sql, plan = _page_query_plan(
        marketplace_api, url.format(seller=shipment.seller_id, shipment=shipment.id), table
    )

    # then it starts from the cursor's key on an index, in the index's order, and skips nothing
    assert "OFFSET" not in sql
    assert "LIMIT 6" in sql  # a page and one row to know whether a next page exists
    assert f"Index Scan Backward using {index}" in plan or f"Index Scan using {index}" in plan
    assert "Sort" not in plan, plan
