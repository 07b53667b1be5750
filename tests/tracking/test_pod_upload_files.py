"""A seller's POD upload is really an image (decoded) or a PDF (header and trailer), and an
image is stored without its EXIF: no GPS position of the buyer's door is kept."""

import io
from datetime import datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from sellers.models import Order
from tests.support.images import EXIF_GPS, FAKE_PNG, photo, truncated
from tests.tracking.factories import ShipmentFactory
from tracking.models import ProofOfDelivery

pytestmark = pytest.mark.django_db

DELIVERED = "2026-11-20T15:30:00+01:00"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def parcel(seller, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    shipment = ShipmentFactory(order__seller=seller, carrier="other", carrier_name="Colis Privé",
                               next_sync_at=None)  # fmt: skip
    ordered_at = datetime.fromisoformat(DELIVERED) - timedelta(days=2)
    Order.objects.filter(pk=shipment.order_id).update(created_at=ordered_at)
    return shipment


def upload(api, shipment, content, name):
    return api.post(
        f"/api/v1/shipments/{shipment.id}/pod/",
        {"file": SimpleUploadedFile(name, content), "delivered_at": DELIVERED,
         "signed_by": "H. Lefèvre"},
        format="multipart",
    )  # fmt: skip


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP"])
def test_pod_upload_stores_the_photo_without_exif_or_gps(seller_api, parcel, kind):
    # given a phone photo of the signed receipt, with the GPS position where it was taken
    original = photo(kind)
    # when the seller uploads it
    response = upload(seller_api, parcel, original, f"recu.{kind.lower()}")
    # then it is accepted and the stored file is the image without any metadata
    assert response.status_code == 201, response.json()
    stored = Image.open(
        io.BytesIO(ProofOfDelivery.objects.get(shipment=parcel).uploaded_file.read())
    )
    assert (stored.format, stored.size) == (kind, (64, 48))
    assert dict(stored.getexif()) == {} and not stored.getexif().get_ifd(EXIF_GPS)


def test_pod_upload_keeps_a_pdf_as_sent(seller_api, parcel):
    response = upload(seller_api, parcel, PDF, "bon-de-livraison.pdf")
    assert response.status_code == 201, response.json()
    assert ProofOfDelivery.objects.get(shipment=parcel).uploaded_file.read() == PDF


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(FAKE_PNG, id="png-signature-then-zeros"),  # accepted before issue 18
        pytest.param(truncated(photo("JPEG")), id="truncated-jpeg"),
        pytest.param(b"%PDF-1.4\n" + b"0" * 64, id="pdf-without-trailer"),
    ],
)
def test_pod_upload_refuses_what_is_not_an_image_or_a_pdf(seller_api, parcel, content):
    # when the seller uploads bytes that only start like an image or a PDF
    response = upload(seller_api, parcel, content, "pod.png")
    # then a 400 at the file field says so, and no proof is stored
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "unsupported_file"
    assert "must be a PDF, PNG, JPEG or WebP" in body["errors"]["file"][0]
    assert not ProofOfDelivery.objects.filter(shipment=parcel).exists()
