"""The CS search box: every kind of identifier, exact matches first, filters, bounded queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.access import Scope
from cs.selectors import SearchFilters, search_kinds, shipment_search
from tests.sellers.factories import OrderFactory, SellerFactory
from tests.tracking.factories import ShipmentExceptionFactory, ShipmentFactory

pytestmark = pytest.mark.django_db


def ids(queryset):
    return [s.id for s in queryset]


@pytest.fixture
def parcels():
    seller = SellerFactory(name="Atelier Lumière")
    other = SellerFactory(name="Maison Verte")
    camille = OrderFactory(
        seller=seller, reference="CMD-1042", buyer_name="Camille Martin",
        buyer_email="Camille.Martin@example.fr", buyer_phone="+33 6 12 34 56 78",
    )  # fmt: skip
    marie = OrderFactory(
        seller=other, reference="CMD-2001", buyer_name="Marie Martinez",
        buyer_email="marie@example.fr", buyer_phone="07 00 00 00 01",
    )  # fmt: skip
    return {
        "camille_1": ShipmentFactory(order=camille, tracking_number="6A12345678901"),
        "camille_2": ShipmentFactory(order=camille, tracking_number="6A12345678902"),
        "marie": ShipmentFactory(order=marie, tracking_number="JJD000390007123456", carrier="dhl"),
    }


def test_shipment_search_finds_a_tracking_number_typed_with_spaces_and_lower_case(parcels):
    # when
    found = shipment_search(scope=Scope.marketplace(), query=" 6a 1234 5678 901 ")
    # then: the exact number first, the parcel whose number it does not start... none other
    assert ids(found)[0] == parcels["camille_1"].id
    assert found[0].search_rank == 0


def test_shipment_search_ranks_the_exact_number_before_the_prefix_matches(parcels):
    # given a fragment that starts both of Camille's numbers
    found = list(shipment_search(scope=Scope.marketplace(), query="6A1234567890"))
    # then both come, neither is exact
    assert {s.id for s in found} == {parcels["camille_1"].id, parcels["camille_2"].id}
    assert {s.search_rank for s in found} == {1}
    # and the whole number is ranked first
    exact = list(shipment_search(scope=Scope.marketplace(), query="6A12345678902"))
    assert [s.id for s in exact][0] == parcels["camille_2"].id
    assert [s.search_rank for s in exact] == [0]


def test_shipment_search_finds_all_the_parcels_of_an_order_by_buyer_email_any_case(parcels):
    found = shipment_search(scope=Scope.marketplace(), query="camille.martin@EXAMPLE.fr")
    assert set(ids(found)) == {parcels["camille_1"].id, parcels["camille_2"].id}
    assert all(s.search_rank == 0 for s in found)


def test_shipment_search_finds_an_order_reference_any_case(parcels):
    found = shipment_search(scope=Scope.marketplace(), query="cmd-2001")
    assert ids(found) == [parcels["marie"].id]


@pytest.mark.parametrize("typed", ["06 12 34 56 78", "+33612345678", "0033 6.12.34.56.78"])
def test_shipment_search_finds_a_buyer_phone_in_any_format(parcels, typed):
    found = shipment_search(scope=Scope.marketplace(), query=typed)
    assert set(ids(found)) == {parcels["camille_1"].id, parcels["camille_2"].id}


def test_shipment_search_ranks_an_exact_buyer_name_before_a_partial_one(parcels):
    # given "Martin" is Camille's surname and a part of "Martinez"
    camille = OrderFactory(buyer_name="Martin")
    exact = ShipmentFactory(order=camille)
    # when
    found = list(shipment_search(scope=Scope.marketplace(), query="martin"))
    # then the exact name comes first, the partial ones after
    assert found[0].id == exact.id and found[0].search_rank == 0
    assert {s.id for s in found[1:]} == {p.id for p in parcels.values()}
    assert {s.search_rank for s in found[1:]} == {1}


def test_shipment_search_finds_a_seller_by_part_of_its_name(parcels):
    found = shipment_search(scope=Scope.marketplace(), query="lumière")
    assert set(ids(found)) == {parcels["camille_1"].id, parcels["camille_2"].id}


def test_shipment_search_filters_by_status_courier_seller_exception_and_date(parcels):
    # given an open address problem on one parcel and a resolved one on another
    ShipmentExceptionFactory(shipment=parcels["camille_2"], kind="address_issue")
    ShipmentExceptionFactory(
        shipment=parcels["camille_1"], kind="address_issue", resolved_at=timezone.now(),
        resolution="handled",
    )  # fmt: skip
    scope = Scope.marketplace()
    # then
    assert ids(shipment_search(scope=scope, filters=SearchFilters(carrier="dhl"))) == [
        parcels["marie"].id
    ]
    by_exception = shipment_search(
        scope=scope, query="Camille", filters=SearchFilters(exception_kind="address_issue")
    )
    assert ids(by_exception) == [parcels["camille_2"].id]
    seller_id = parcels["marie"].seller_id
    assert ids(shipment_search(scope=scope, filters=SearchFilters(seller_id=seller_id))) == [
        parcels["marie"].id
    ]
    assert ids(shipment_search(scope=scope, filters=SearchFilters(status="delivered"))) == []
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert ids(shipment_search(scope=scope, filters=SearchFilters(created_from=tomorrow))) == []
    today = timezone.localdate()
    assert len(shipment_search(scope=scope, filters=SearchFilters(created_to=today))) == 3


def test_shipment_search_in_a_seller_scope_sees_only_that_seller(parcels):
    scope = Scope.for_seller(parcels["marie"].seller_id)
    assert ids(shipment_search(scope=scope, query="martin")) == [parcels["marie"].id]


def test_shipment_search_finds_nothing_for_an_unknown_text(parcels):
    assert ids(shipment_search(scope=Scope.marketplace(), query="zzz-nobody")) == []


def test_search_kinds_reads_the_shape_of_the_query():
    assert search_kinds("a@b.fr") == ["order_reference", "email"]
    assert "phone" in search_kinds("06 12 34 56 78")
    assert search_kinds("Martin") == ["tracking_number", "order_reference", "email",
                                      "buyer_name", "seller_name"]  # fmt: skip
    # two words: never an email
    assert "email" not in search_kinds("Hélène Lefèvre")


def test_shipment_search_queries_stay_bounded_whatever_the_matches(
    parcels, django_assert_max_num_queries
):
    # given many parcels of one buyer name, with exceptions
    for _ in range(30):
        shipment = ShipmentFactory(order=OrderFactory(buyer_name="Camille Dupont"))
        ShipmentExceptionFactory(shipment=shipment)
    # then: one query per kind of match (4 for a name), the rows, their exceptions
    with django_assert_max_num_queries(7):
        found = list(shipment_search(scope=Scope.marketplace(), query="Camille"))
        for shipment in found:
            _ = (shipment.order.reference, shipment.seller.name, shipment.open_exceptions)
    assert len(found) == 32
