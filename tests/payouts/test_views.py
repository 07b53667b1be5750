"""The finance console."""

import csv
import io

import pytest

from payouts.models import Payout, ReleaseBatch
from payouts.services import payout_release
from tests.payouts.factories import OrderFactory, UserFactory
from tests.sellers.factories import SellerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client, finance):
    client.force_login(finance)
    return client


def test_console_needs_the_finance_permission(client):
    # anonymous: sent to log in; staff without the permission: refused
    assert client.get("/finance/").status_code == 302
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/finance/").status_code == 403


def test_console_queue_page_query_count_does_not_grow(
    console, open_payout, django_assert_max_num_queries
):
    # given 30 eligible payouts with two parcels each
    for _ in range(30):
        open_payout(parcels=2)
    # then the eligible queue shows them in a constant number of queries
    with django_assert_max_num_queries(10):
        response = console.get("/finance/?queue=eligible")
    assert response.status_code == 200
    assert response.content.decode().count('name="payout"') == 30


def test_console_filters_by_seller_courier_and_amount(console, open_payout):
    seller = SellerFactory(name="Librairie Dupont")
    wanted = open_payout(seller=seller, total_amount=2500)
    open_payout(total_amount=2500)  # another seller
    open_payout(seller=seller, total_amount=99000)  # too expensive
    response = console.get(
        "/finance/",
        {"queue": "eligible", "seller": seller.pk, "carrier": "laposte", "amount_max": "30.00"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert f'id="payout-{wanted.pk}"' in html
    assert html.count('name="payout"') == 1
    assert "<html" not in html  # an htmx request gets the table partial only
    assert console.get("/finance/", {"queue": "eligible", "carrier": "dhl"}).content.decode(
    ).count('name="payout"') == 0  # fmt: skip


def test_console_csv_export_escapes_formulas(console, open_payout):
    # given a seller whose name a spreadsheet would execute
    seller = SellerFactory(name='=HYPERLINK("http://evil.example","x")')
    payout = open_payout(seller=seller)
    response = console.get("/finance/export.csv", {"queue": "eligible"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["payout_id", "order_reference", "seller"]
    row = next(r for r in rows[1:] if r[0] == str(payout.pk))
    assert row[2] == '\'=HYPERLINK("http://evil.example","x")'
    assert row[6] == "49.90"  # gross in currency units


def test_payout_page_shows_pod_and_audit_trail(console, open_payout, finance):
    payout = open_payout()
    payout_release(payout=payout, actor=finance)
    html = console.get(f"/finance/payouts/{payout.pk}/").content.decode()
    assert "C. MARTIN" in html and "front_door" in html
    assert "https://courier.example/pod/123.png" in html
    assert "Payment received, payout opened" in html and "Released" in html
    audit = b"".join(console.get(f"/finance/payouts/{payout.pk}/audit.csv").streaming_content)
    lines = audit.decode().splitlines()
    assert lines[0].startswith("at,payout_id") and len(lines) == 3


def test_payout_hold_and_unhold_from_the_console(console, open_payout):
    payout = open_payout()
    console.post(f"/finance/payouts/{payout.pk}/hold/", {"reason": "KYC"})
    assert Payout.objects.get(pk=payout.pk).status == "on_hold"
    response = console.post(f"/finance/payouts/{payout.pk}/unhold/", {"reason": ""}, follow=True)
    assert "Say why the hold is lifted." in response.content.decode()
    console.post(f"/finance/payouts/{payout.pk}/unhold/", {"reason": "KYC ok"})
    assert Payout.objects.get(pk=payout.pk).status == "eligible"


def test_override_needs_its_own_permission(console, client, finance_lead):
    order = OrderFactory()
    from payouts.services import payout_open_for_order

    payout, _ = payout_open_for_order(order=order, actor=None)
    console.post(f"/finance/payouts/{payout.pk}/override/", {"reason": "hand delivered"})
    assert Payout.objects.get(pk=payout.pk).status == "held"
    client.force_login(finance_lead)
    client.post(f"/finance/payouts/{payout.pk}/override/", {"reason": "hand delivered"})
    released = Payout.objects.get(pk=payout.pk)
    assert released.status == "released" and released.released_with_override


def test_batch_release_reports_progress_and_refusals(
    console, open_payout, django_q_sync, django_capture_on_commit_callbacks
):
    # given an eligible payout and one still in its claim window
    ok, too_early = open_payout(), open_payout(days_ago=1)
    # when finance releases both as a batch (the job runs inline after commit)
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post("/finance/batches/", {"payout": [ok.pk, too_early.pk]})
    # then one is released, the other refused with its reason, and the status says so
    html = response.content.decode()
    batch = ReleaseBatch.objects.get()
    assert (batch.state, batch.released, batch.failed) == ("finished", 1, 1)
    assert Payout.objects.get(pk=ok.pk).status == "released"
    status = console.get(f"/finance/batches/{batch.pk}/").content.decode()
    assert "1 released, 1 refused" in status and f"Payout #{too_early.pk}" in status
    assert "batch-progress" in html


@pytest.mark.parametrize(
    ("language", "euro", "yen", "dinar"),
    [
        ("fr", "45,00\xa0€", "4\u202f500\xa0JPY", "12,345\xa0KWD"),
        ("en", "€45.00", "¥4,500", "KWD12.345"),
    ],
)
def test_console_shows_each_amount_by_its_currency_in_the_readers_language(
    console, open_payout, language, euro, yen, dinar
):
    # given payouts in euros (Paris), yen (Tokyo) and Kuwaiti dinars, each in minor units
    open_payout(total_amount=4500, currency="EUR")
    open_payout(total_amount=4500, currency="JPY", destination_country="JP")
    open_payout(total_amount=12345, currency="KWD", destination_country="KW")
    # when a finance user reads the console in their language
    html = console.get("/finance/", {"queue": "eligible"}, HTTP_ACCEPT_LANGUAGE=language)
    # then each amount has its currency's digits (no yen divided by 100) and the reader's format
    page = html.content.decode()
    assert euro in page and yen in page and dinar in page
    assert "45.00 JPY" not in page and "123.45 KWD" not in page


def test_console_csv_exports_amounts_with_their_currencys_digits(console, open_payout):
    # given payouts in EUR, JPY and KWD
    payouts = {
        currency: open_payout(total_amount=amount, currency=currency)
        for currency, amount in (("EUR", 4500), ("JPY", 4500), ("KWD", 12345))
    }
    # when the eligible queue is exported by an English reader
    response = console.get("/finance/export.csv", {"queue": "eligible"}, HTTP_ACCEPT_LANGUAGE="en")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header, by_id = rows[0], {row[0]: row for row in rows[1:]}
    gross, shown = header.index("gross"), header.index("gross_shown")
    # then gross is a decimal for accounting imports, gross_shown as the reader writes money
    cells = {c: (by_id[str(p.pk)][gross], by_id[str(p.pk)][shown]) for c, p in payouts.items()}
    assert cells == {
        "EUR": ("45.00", "€45.00"), "JPY": ("4500", "¥4,500"), "KWD": ("12.345", "KWD12.345"),
    }  # fmt: skip


def test_console_amount_filter_reads_each_currency_in_its_own_units(console, open_payout):
    # given 30 euros, 3000 yen and 30 dinars (3000, 3000 and 30000 minor units)
    euro = open_payout(total_amount=3000, currency="EUR")
    yen = open_payout(total_amount=3000, currency="JPY")
    dinar = open_payout(total_amount=30000, currency="KWD")
    # when finance asks for payouts of at most 100 (currency units)
    html = console.get("/finance/", {"queue": "eligible", "amount_max": "100"}).content.decode()
    # then 30 EUR and 30 KWD are in, 3000 JPY is not
    shown = {p.pk for p in (euro, yen, dinar) if f'name="payout" value="{p.pk}"' in html}
    assert shown == {euro.pk, dinar.pk}
