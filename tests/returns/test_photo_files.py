"""Return photos are images (decoded whole) and are stored without EXIF: the buyer's home
position in a phone photo's GPS tags is never kept."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.errors import ApplicationError
from returns.models import ReturnPhoto
from returns.services import ItemChoice, return_request_create
from tests.returns.factories import delivered_order
from tests.support.images import EXIF_GPS, FAKE_PNG, photo, truncated

pytestmark = pytest.mark.django_db


@pytest.fixture
def lamp_order(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    order, lamp, _shade = delivered_order()
    return order, lamp


def _create(order, lamp, photos):
    return return_request_create(
        order=order, items=[ItemChoice(order_item_id=lamp.id, quantity=1, condition="like_new")],
        reason="wrong_size", description="Trop grande pour le salon.", resolution="refund",
        photos=photos,
    )  # fmt: skip


def test_return_photos_are_stored_without_exif_or_gps(lamp_order):
    # given a buyer's phone photos (JPEG and WebP) with their GPS position in EXIF
    order, lamp = lamp_order
    photos = [SimpleUploadedFile("IMG_2041.jpg", photo("JPEG")),
              SimpleUploadedFile("IMG_2042.webp", photo("WEBP"))]  # fmt: skip
    # when the return is requested
    request = _create(order, lamp, photos)
    # then every stored photo decodes, at its size, with no metadata left
    stored = [Image.open(io.BytesIO(p.file.read())) for p in ReturnPhoto.objects.filter(
        request=request).order_by("id")]  # fmt: skip
    assert [(s.format, s.size) for s in stored] == [("JPEG", (64, 48)), ("WEBP", (64, 48))]
    assert all(dict(s.getexif()) == {} and not s.getexif().get_ifd(EXIF_GPS) for s in stored)
    sizes = list(ReturnPhoto.objects.filter(request=request).order_by("id")
                 .values_list("size_bytes", flat=True))  # fmt: skip
    assert sizes == [
        p.file.size for p in ReturnPhoto.objects.filter(request=request).order_by("id")
    ]


@pytest.mark.parametrize(
    "data", [pytest.param(FAKE_PNG, id="png-signature-then-zeros"),
             pytest.param(truncated(photo("PNG")), id="truncated-png")],
)  # fmt: skip
def test_return_photo_that_does_not_decode_is_refused_and_nothing_is_stored(lamp_order, data):
    order, lamp = lamp_order
    with pytest.raises(ApplicationError) as refused:
        _create(order, lamp, [SimpleUploadedFile("photo.png", data)])
    assert (refused.value.code, refused.value.field) == ("unsupported_file", "photos")
    assert not ReturnPhoto.objects.exists()
