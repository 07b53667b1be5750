"""Order intake (API and admin): buyers' phones by their destination's numbering plan, stored in
E.164; currencies only ISO 4217 codes in circulation. Bad input is a field error, nothing stored."""

import importlib

import pytest
from django.apps import apps

from sellers.admin import OrderAdminForm
from sellers.models import Order
from tests.sellers.factories import OrderFactory, SellerFactory

pytestmark = pytest.mark.django_db

ORDER = {"reference": "CMD-PEOPLE", "total_amount": 4500, "buyer_email": "a@example.fr"}


@pytest.mark.parametrize(
    ("phone", "country", "postcode", "stored"),
    [
        ("06 12 34 56 78", "FR", "75011", "+33612345678"),
        ("0692 12 34 56", "RE", "97400", "+262692123456"),
        ("0692 12 34 56", "FR", "97490", "+262692123456"),
        ("0690 12 34 56", "GP", "97110", "+590690123456"),
        ("0696 12 34 56", "MQ", "97200", "+596696123456"),
        ("0470 12 34 56", "BE", "1000", "+32470123456"),
        ("0151 23456789", "DE", "10115", "+4915123456789"),
        ("07400 123456", "GB", "EC1A 1BB", "+447400123456"),
        ("", "FR", "75011", ""),
    ],
)
def test_orders_create_stores_the_buyer_phone_in_e164(seller_api, phone, country, postcode, stored):
    # given an order whose buyer typed their phone as people do at home
    payload = {**ORDER, "buyer_phone": phone, "destination_country": country,
               "destination_postcode": postcode}  # fmt: skip
    # when it is created through the API
    response = seller_api.post("/api/v1/orders/", payload, format="json")
    # then the number is stored in E.164, in the destination's plan
    assert response.status_code == 201, response.json()
    assert Order.objects.get(id=response.json()["id"]).buyer_phone == stored


@pytest.mark.parametrize(
    ("phone", "country", "why"),
    [
        ("06 12", "FR", "too few digits"),
        ("0692 12 34 56", "FR", "not a number in use in FR"),
        ("0800 CALL ME", "BE", "not"),
        ("+999 12345678", "DE", "calling code does not exist"),
    ],
)
def test_orders_create_refuses_an_impossible_phone_at_its_field(seller_api, phone, country, why):
    # given an order with a number no plan has
    payload = {**ORDER, "buyer_phone": phone, "destination_country": country}
    # when it is posted
    response = seller_api.post("/api/v1/orders/", payload, format="json")
    # then a 400 names the field and says why; nothing is stored
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_phone"
    assert why in body["errors"]["buyer_phone"][0]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("currency", "stored"), [("EUR", "EUR"), ("jpy", "JPY"), ("KWD", "KWD"), ("XPF", "XPF")]
)
def test_orders_create_accepts_iso_4217_currencies(seller_api, currency, stored):
    response = seller_api.post("/api/v1/orders/", {**ORDER, "currency": currency}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["currency"] == stored


@pytest.mark.parametrize("currency", ["XYZ", "XXX", "FRF", "ABC"])
def test_orders_create_refuses_a_currency_that_is_not_iso_4217(seller_api, currency):
    # given a currency no one pays in (made up, the "no currency" code, the franc)
    # when an order is posted in it
    response = seller_api.post("/api/v1/orders/", {**ORDER, "currency": currency}, format="json")
    # then a 400 at the currency field, nothing stored
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_currency"
    assert "ISO 4217" in response.json()["errors"]["currency"][0]
    assert not Order.objects.exists()


def _admin_form(**changes) -> OrderAdminForm:
    seller = SellerFactory()
    data = {
        "seller": seller.id, "reference": "CMD-ADMIN", "buyer_name": "Hélène Lefèvre",
        "buyer_email": "helene@example.fr", "buyer_phone": "", "buyer_locale": "fr",
        "destination_postcode": "97400", "destination_country": "RE", "total_amount": 4500,
        "currency": "EUR", "service_level": "standard", "public_token": "t" * 20,
        **changes,
    }  # fmt: skip
    return OrderAdminForm(data=data)


def test_admin_order_form_stores_the_phone_in_the_destinations_plan():
    form = _admin_form(buyer_phone="0692 12 34 56")
    assert form.is_valid(), form.errors
    assert form.save().buyer_phone == "+262692123456"


def test_admin_order_form_refuses_impossible_phones_and_currencies_at_their_fields():
    form = _admin_form(buyer_phone="0692 12", currency="XYZ")
    assert not form.is_valid()
    assert "too few digits" in form.errors["buyer_phone"][0]
    assert "ISO 4217" in form.errors["currency"][0]
    assert not Order.objects.exists()


def test_phone_migration_normalises_what_it_can_and_lists_the_rest(capsys):
    # given orders stored before the rule, as buyers typed their numbers
    mainland = OrderFactory(buyer_phone="06 12 34 56 78")
    reunion = OrderFactory(buyer_phone="0692 12 34 56", destination_country="FR",
                           destination_postcode="97400")  # fmt: skip
    brussels = OrderFactory(buyer_phone="0470/12.34.56", destination_country="BE",
                            destination_postcode="1000")  # fmt: skip
    typo = OrderFactory(buyer_phone="06 12 34", reference="CMD-TYPO")
    none = OrderFactory(buyer_phone="")
    migration = importlib.import_module("sellers.migrations.0008_normalise_buyer_phones")
    # when the data migration runs
    migration.normalise_buyer_phones(apps, None)
    # then what could be read is in E.164, the rest is untouched and listed
    stored = dict(Order.objects.values_list("id", "buyer_phone"))
    assert stored == {
        mainland.id: "+33612345678", reunion.id: "+262692123456", brussels.id: "+32470123456",
        typo.id: "06 12 34", none.id: "",
    }  # fmt: skip
    out = capsys.readouterr().out
    assert "1 buyer phone number(s) could not be read" in out
    assert f"order {typo.id} (CMD-TYPO)" in out
