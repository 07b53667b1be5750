"""Search as people type: accents and case aside, parts of emails and order references, on both
databases (core.textsearch: unaccent on PostgreSQL, a registered function on SQLite)."""

import pytest
from django.db import connection

from core.access import Scope
from core.textsearch import Fold, fold
from cs.selectors import shipment_search
from sellers.models import Order
from tests.sellers.factories import OrderFactory, SellerFactory
from tests.tracking.factories import ShipmentFactory

pytestmark = pytest.mark.django_db


def ids(queryset):
    return {s.id for s in queryset}


@pytest.fixture
def buyers():
    lyon = SellerFactory(name="Épicerie Fine de Lyon")
    koln = SellerFactory(name="Kölner Bücherstube")
    helene_fr = OrderFactory(
        seller=lyon, reference="MAI-20261104-0007", buyer_name="Hélène Lefèvre",
        buyer_email="helene.lefevre@orange.fr", destination_country="FR",
    )  # fmt: skip
    helene_be = OrderFactory(
        seller=koln, reference="MAI-20261105-0112", buyer_name="HÉLÈNE LEFÈVRE",
        buyer_email="h.lefevre@skynet.be", destination_country="BE", destination_postcode="1050",
    )  # fmt: skip
    jurgen = OrderFactory(
        seller=koln, reference="MAI-20261201-0450", buyer_name="Jürgen Weiß",
        buyer_email="client5.weiss@web.de", destination_country="DE", destination_postcode="50667",
    )  # fmt: skip
    siobhan = OrderFactory(
        seller=lyon, reference="MAI-20261202-0451", buyer_name="Siobhán O'Connor",
        buyer_email="siobhan@btinternet.co.uk", destination_country="GB",
    )  # fmt: skip
    return {
        "helene_fr": ShipmentFactory(order=helene_fr),
        "helene_be": ShipmentFactory(order=helene_be),
        "jurgen": ShipmentFactory(order=jurgen),
        "siobhan": ShipmentFactory(order=siobhan),
    }


@pytest.mark.parametrize("typed", ["Helene Lefevre", "helene lefevre", "HÉLÈNE lefèvre", "lefev"])
def test_shipment_search_ignores_accents_and_case_in_buyer_names(buyers, typed):
    found = shipment_search(scope=Scope.marketplace(), query=typed)
    assert ids(found) == {buyers["helene_fr"].id, buyers["helene_be"].id}


def test_shipment_search_ranks_a_whole_name_typed_without_accents_as_exact(buyers):
    found = list(shipment_search(scope=Scope.marketplace(), query="helene lefevre"))
    assert {s.search_rank for s in found} == {0}


def test_shipment_search_folds_letters_unicode_does_not_decompose(buyers):
    # ß is "ss" as German buyers type it without the key
    assert ids(shipment_search(scope=Scope.marketplace(), query="jurgen weiss")) == {
        buyers["jurgen"].id
    }
    assert ids(shipment_search(scope=Scope.marketplace(), query="siobhan o'connor")) == {
        buyers["siobhan"].id
    }


def test_shipment_search_finds_a_part_of_an_email(buyers):
    found = shipment_search(scope=Scope.marketplace(), query="client5")
    assert ids(found) == {buyers["jurgen"].id}
    assert ids(shipment_search(scope=Scope.marketplace(), query="LEFEVRE@orange")) == {
        buyers["helene_fr"].id
    }


def test_shipment_search_finds_a_part_of_an_order_reference(buyers):
    found = shipment_search(scope=Scope.marketplace(), query="MAI-2026110")
    assert ids(found) == {buyers["helene_fr"].id, buyers["helene_be"].id}
    assert ids(shipment_search(scope=Scope.marketplace(), query="mai-20261201")) == {
        buyers["jurgen"].id
    }


def test_shipment_search_finds_a_seller_typed_without_accents(buyers):
    found = shipment_search(scope=Scope.marketplace(), query="kolner buch")
    assert ids(found) == {buyers["helene_be"].id, buyers["jurgen"].id}


def test_shipment_search_treats_like_wildcards_as_text(buyers):
    assert ids(shipment_search(scope=Scope.marketplace(), query="%%%")) == set()
    assert ids(shipment_search(scope=Scope.marketplace(), query="___")) == set()


def test_fold_agrees_between_python_and_the_database():
    # given names as buyers in several countries write them
    names = ["Hélène Lefèvre", "Jürgen Weiß", "Œuvre Çà", "Søren Ærø", "ŁÓDŹ", "Zoë Brontë"]
    for name in names:
        OrderFactory(buyer_name=name)
    # when the database folds them
    folded = Order.objects.annotate(f=Fold("buyer_name")).values_list("buyer_name", "f")
    # then it says what the Python fold says (the SQLite function is that fold; on PostgreSQL
    # it is unaccent), so a search means the same on both databases
    assert {name: f for name, f in folded} == {name: fold(name) for name in names}
    assert fold("Hélène Lefèvre") == "helene lefevre"


def test_shipments_api_search_ignores_accents_and_finds_parts(buyers, marketplace_api):
    url = "/api/v1/shipments/"
    by_name = marketplace_api.get(url, {"q": "Helene Lefevre"}).json()
    by_email = marketplace_api.get(url, {"q": "client5"}).json()
    by_reference = marketplace_api.get(url, {"q": "MAI-2026110"}).json()
    assert {r["id"] for r in by_name["results"]} == {buyers["helene_fr"].id, buyers["helene_be"].id}
    assert [r["id"] for r in by_email["results"]] == [buyers["jurgen"].id]
    assert {r["id"] for r in by_reference["results"]} == {
        buyers["helene_fr"].id,
        buyers["helene_be"].id,
    }


def test_search_function_exists_on_this_database():
    # the migration (PostgreSQL) or the connection hook (SQLite) provided parcelle_fold
    with connection.cursor() as cursor:
        cursor.execute("SELECT parcelle_fold(%s)", ["Éloïse"])
        assert cursor.fetchone()[0] == "eloise"
