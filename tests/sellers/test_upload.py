import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import ApplicationError
from sellers.models import TrackingUpload
from sellers.uploads import shipment_confirm, tracking_upload_create, tracking_upload_run
from tests.sellers.factories import OrderFactory, SellerMemberFactory
from tests.tracking.factories import ShipmentFactory
from tracking.models import Shipment

pytestmark = pytest.mark.django_db

UPS_OK = "1Z999AA10123456784"  # a valid UPS number (check digit included)
UPS_BAD_CHECK = "1Z999AA10123456785"
HEADER = b"order,carrier,tracking_number\n"


@pytest.fixture
def member():
    return SellerMemberFactory()


def test_shipment_confirm_checks_the_courier_format_and_check_digit(member):
    order = OrderFactory(seller=member.seller)
    with pytest.raises(ApplicationError) as wrong_format:
        shipment_confirm(order=order, carrier="ups", tracking_number="6A12345678901")
    assert wrong_format.value.code == "tracking_number_format"
    assert "laposte" in wrong_format.value.message
    with pytest.raises(ApplicationError) as bad_digit:
        shipment_confirm(order=order, carrier="ups", tracking_number=UPS_BAD_CHECK)
    assert bad_digit.value.code == "tracking_number_checksum"
    shipment, created = shipment_confirm(order=order, carrier="ups", tracking_number=UPS_OK)
    assert (shipment.tracking_number, created) == (UPS_OK, True)
    assert shipment_confirm(order=order, carrier="ups", tracking_number=UPS_OK)[1] is False


CHRONOPOST_S10 = "XS605592346FR"  # the demo's Chronopost parcel: an international S10 of France


def test_shipment_confirm_accepts_a_chronopost_s10_number_as_chronopost(member):
    # given an S10 number issued in France, which Chronopost and La Poste both issue
    order = OrderFactory(seller=member.seller)
    # when the seller says Chronopost
    shipment, created = shipment_confirm(order=order, carrier="chronopost",
                                         tracking_number="xs 605 592 346 fr")  # fmt: skip
    # then it is registered as Chronopost's, normalised
    assert (shipment.carrier, shipment.tracking_number, created) == (
        "chronopost", CHRONOPOST_S10, True,
    )  # fmt: skip


def test_shipment_confirm_accepts_the_other_operator_of_a_shared_s10_number(member):
    # given / when a seller says La Poste for a French S10 number (its format fits La Poste too)
    shipment, _ = shipment_confirm(order=OrderFactory(seller=member.seller), carrier="laposte",
                                   tracking_number="CC067712918FR")  # fmt: skip
    # then
    assert shipment.carrier == "laposte"


@pytest.mark.parametrize(
    ("number", "hint"),
    [
        ("RB123456785GB", "royalmail"),  # an S10 issued in Great Britain
        ("1Z999AA10123456784", "ups"),
        ("6A12345678901", "laposte"),  # Colissimo domestic: La Poste's, not Chronopost's
    ],
)
def test_shipment_confirm_refuses_for_chronopost_a_number_that_fits_neither(member, number, hint):
    # given / when
    with pytest.raises(ApplicationError) as refused:
        shipment_confirm(order=OrderFactory(seller=member.seller), carrier="chronopost",
                         tracking_number=number)  # fmt: skip
    # then the reason says whose format it fits, and nothing is stored
    assert refused.value.code == "tracking_number_format"
    assert "not a Chronopost tracking number format" in refused.value.message
    assert hint in refused.value.message
    assert not Shipment.objects.exists()


def test_shipment_confirm_refuses_a_chronopost_s10_with_a_wrong_check_digit(member):
    with pytest.raises(ApplicationError) as refused:
        shipment_confirm(order=OrderFactory(seller=member.seller), carrier="chronopost",
                         tracking_number="XS605592347FR")  # fmt: skip
    assert refused.value.code == "tracking_number_checksum"
    assert not Shipment.objects.exists()


def test_tracking_upload_applies_a_chronopost_s10_row(member):
    # given an upload naming Chronopost for its international S10 number
    OrderFactory(seller=member.seller, reference="A")
    row = f"A,chronopost,{CHRONOPOST_S10}\n".encode()
    upload = tracking_upload_create(seller=member.seller, filename="t.csv", data=HEADER + row)
    # when
    result = tracking_upload_run(upload_id=upload.pk)
    # then
    assert (result.applied_rows, result.errors) == (1, [])
    assert Shipment.objects.get().carrier == "chronopost"


def test_shipment_confirm_flags_a_number_used_on_another_order(member):
    first, second = OrderFactory(seller=member.seller), OrderFactory(seller=member.seller)
    shipment_confirm(order=first, carrier="ups", tracking_number=UPS_OK)
    with pytest.raises(ApplicationError) as duplicate:
        shipment_confirm(order=second, carrier="ups", tracking_number=UPS_OK)
    assert duplicate.value.code == "duplicate_tracking_number"
    assert first.reference in duplicate.value.message
    assert Shipment.objects.count() == 1


def test_tracking_upload_applies_good_orders_and_leaves_a_bad_rows_order_untouched(member):
    # given three orders; order B has one good and one bad row; a number reused across C and D
    a, b, c, d = (OrderFactory(seller=member.seller, reference=r) for r in "ABCD")
    used = ShipmentFactory(order=OrderFactory(seller=member.seller), carrier="laposte",
                           tracking_number="6A99999999999")  # fmt: skip
    text = (
        "order;carrier;tracking_number\n"
        "A;laposte;6A11111111111\n"
        "B;laposte;6A22222222222\n"
        "B;ups;NOT-A-UPS-NUMBER\n"
        "C;laposte;6A99999999999\n"
        '=HYPERLINK("x");laposte;6A33333333333\n'
        "D;laposte;=1+1\n"
        "NOPE;laposte;6A44444444444\n"
    )
    upload = tracking_upload_create(seller=member.seller, filename="t.csv",
                                    data=text.encode("cp1252"))  # fmt: skip
    # when the job runs (twice: the second does nothing)
    result = tracking_upload_run(upload_id=upload.pk)
    tracking_upload_run(upload_id=upload.pk)
    # then only A is applied; every other line has its reason
    assert result.state == "done" and result.applied_rows == 1
    assert Shipment.objects.filter(order=a).count() == 1
    assert not Shipment.objects.filter(order__in=[b, c, d]).exists()
    reasons = {e["line"]: e["error"] for e in result.errors}
    assert "Not applied" in reasons[3] and "tracking number" in reasons[4].lower()
    assert "already the tracking number" in reasons[5]
    assert "no order" in reasons[6]
    assert "formula" in reasons[7]
    assert "no order 'NOPE'" in reasons[8]
    assert used.order.shipments.count() == 1


def test_tracking_upload_refuses_broken_encodings_huge_files_and_missing_columns(member, settings):
    with pytest.raises(ApplicationError, match="neither UTF-8"):
        broken = HEADER + b"A,laposte,\x81\x8d\x8f\x90"
        tracking_upload_create(seller=member.seller, filename="x.csv", data=broken)
    with pytest.raises(ApplicationError, match="binary"):
        tracking_upload_create(seller=member.seller, filename="x.csv", data=b"\x00PK\x03\x04")
    settings.TRACKING_UPLOAD_MAX_BYTES = 100
    with pytest.raises(ApplicationError, match="larger"):
        tracking_upload_create(seller=member.seller, filename="x.csv", data=b"x" * 101)
    settings.TRACKING_UPLOAD_MAX_BYTES = 10**6
    with pytest.raises(ApplicationError, match="columns"):
        tracking_upload_create(seller=member.seller, filename="x.csv", data=b"a,b\n1,2\n")
    settings.TRACKING_UPLOAD_MAX_ROWS = 2
    with pytest.raises(ApplicationError, match="at most 2 rows"):
        three = HEADER + b"A,laposte,6A1\n" * 3
        tracking_upload_create(seller=member.seller, filename="x.csv", data=three)
    assert not TrackingUpload.objects.exists()


def test_upload_page_runs_a_thousand_row_csv_and_shows_progress(
    client, member, django_q_sync, django_capture_on_commit_callbacks
):
    # given a thousand orders and their numbers (utf-8 with BOM, commas)
    lines = ["order,carrier,tracking_number"]
    for i in range(1000):
        OrderFactory(seller=member.seller, reference=f"BULK-{i}")
        lines.append(f"BULK-{i},laposte,6A{i:011d}")
    client.force_login(member.user)
    file = SimpleUploadedFile("bulk.csv", ("\ufeff" + "\n".join(lines)).encode())
    # when uploaded (the job runs inline here)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/seller/upload/", {"upload": "1", "file": file})
    # then the detail page shows it done, and the htmx partial stops polling
    assert response.status_code == 302
    upload = TrackingUpload.objects.get()
    assert (upload.state, upload.applied_rows, upload.errors) == ("done", 1000, [])
    partial = client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert b"1000 of 1000" in partial.content and b"hx-trigger" not in partial.content
    assert Shipment.objects.filter(seller=member.seller).count() == 1000


def test_upload_progress_partial_polls_while_running(client, member):
    upload = TrackingUpload.objects.create(seller=member.seller, content="x", total_rows=10,
                                           processed_rows=4, state="running")  # fmt: skip
    client.force_login(member.user)
    partial = client.get(f"/seller/upload/{upload.pk}/", HTTP_HX_REQUEST="true")
    assert b'hx-trigger="every 1s"' in partial.content and b'aria-valuenow="40"' in partial.content


def test_upload_of_another_seller_is_404(client, member):
    other = TrackingUpload.objects.create(seller=SellerMemberFactory().seller, content="x")
    client.force_login(member.user)
    assert client.get(f"/seller/upload/{other.pk}/").status_code == 404


def test_confirm_form_shows_the_error_at_the_field(client, member):
    OrderFactory(seller=member.seller, reference="R1")
    client.force_login(member.user)
    response = client.post("/seller/upload/", {"confirm": "1", "order": "R1", "carrier": "ups",
                                               "tracking_number": UPS_BAD_CHECK})  # fmt: skip
    assert response.status_code == 200 and b"check digit fails" in response.content
    ok = client.post("/seller/upload/", {"confirm": "1", "order": "R1", "carrier": "ups",
                                         "tracking_number": UPS_OK})  # fmt: skip
    assert ok.status_code == 302 and Shipment.objects.get().tracking_number == UPS_OK


def test_confirm_api_reuses_the_checks_and_hides_other_sellers_orders(seller, seller_api,
                                                                       other_seller):  # fmt: skip
    OrderFactory(seller=seller, reference="API-1")
    OrderFactory(seller=other_seller, reference="THEIRS")
    body = {"order_reference": "API-1", "carrier": "ups", "tracking_number": UPS_OK}
    assert seller_api.post("/api/v1/sellers/shipments/", body, format="json").status_code == 201
    assert seller_api.post("/api/v1/sellers/shipments/", body, format="json").status_code == 200
    bad = seller_api.post("/api/v1/sellers/shipments/",
                          {**body, "tracking_number": UPS_BAD_CHECK}, format="json")  # fmt: skip
    assert bad.status_code == 400
    theirs = seller_api.post("/api/v1/sellers/shipments/",
                             {**body, "order_reference": "THEIRS"}, format="json")  # fmt: skip
    assert theirs.status_code == 404
