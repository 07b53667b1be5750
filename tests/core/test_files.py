"""Uploads are what they claim and carry no location (core.files)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.files import IMAGE_KINDS, PDF_KIND, NotTheFileItClaims, clean_upload
from tests.support.images import (
    EXIF_GPS,
    EXIF_ORIENTATION,
    FAKE_JPEG,
    FAKE_PNG,
    photo,
    truncated,
)

POD_KINDS = IMAGE_KINDS | {PDF_KIND}
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.mark.parametrize(("kind", "mime"), [("JPEG", "image/jpeg"), ("PNG", "image/png"),
                                            ("WEBP", "image/webp")])  # fmt: skip
def test_clean_upload_strips_exif_and_gps_from_photos(kind, mime):
    # given a phone photo whose EXIF says who took it, with what, and where (GPS)
    original = photo(kind)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(EXIF_GPS)
    # when it is cleaned
    clean = clean_upload(SimpleUploadedFile("IMG_0042.HEIC.jpg", original), allowed=IMAGE_KINDS)
    # then the stored image has the same pixels and no metadata at all
    stored = Image.open(io.BytesIO(clean.content.read()))
    assert (clean.kind, stored.format, stored.size) == (mime, kind, (64, 48))
    assert dict(stored.getexif()) == {}
    assert not {"exif", "xmp", "XML:com.adobe.xmp"} & set(stored.info)
    assert clean.content.name.endswith({"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}[kind])


def test_clean_upload_keeps_a_photo_upright_when_its_orientation_tag_goes():
    # given a photo stored sideways with "rotate 90°" in its EXIF (how phones save portraits)
    original = photo("JPEG", size=(64, 48), orientation=6)
    # when cleaned
    clean = clean_upload(SimpleUploadedFile("portrait.jpg", original), allowed=IMAGE_KINDS)
    # then the pixels are turned as the tag said, and the tag is gone
    stored = Image.open(io.BytesIO(clean.content.read()))
    assert stored.size == (48, 64)
    assert EXIF_ORIENTATION not in stored.getexif()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(FAKE_PNG, id="png-signature-then-zeros"),
        pytest.param(FAKE_JPEG, id="jpeg-signature-then-zeros"),
        pytest.param(truncated(photo("PNG")), id="truncated-png"),
        pytest.param(truncated(photo("JPEG")), id="truncated-jpeg"),
        pytest.param(b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 32, id="webp-header-only"),
        pytest.param(b"GIF89a" + b"\x00" * 32, id="gif"),
        pytest.param("Bon de livraison signé".encode(), id="text"),
    ],
)
def test_clean_upload_refuses_what_does_not_decode_as_an_image(data):
    with pytest.raises(NotTheFileItClaims):
        clean_upload(SimpleUploadedFile("pod.png", data), allowed=POD_KINDS)


def test_clean_upload_refuses_a_png_that_is_really_a_jpeg_inside():
    # given bytes that start like a PNG but whose body is a JPEG
    data = b"\x89PNG\r\n\x1a\n" + photo("JPEG")
    with pytest.raises(NotTheFileItClaims):
        clean_upload(SimpleUploadedFile("x.png", data), allowed=IMAGE_KINDS)


def test_clean_upload_refuses_a_decompression_bomb():
    # given a tiny PNG of 8000 × 8000 pixels (64 megapixels in a few kilobytes)
    out = io.BytesIO()
    Image.new("1", (8000, 8000)).save(out, format="PNG")
    with pytest.raises(NotTheFileItClaims, match="more than a photo"):
        clean_upload(SimpleUploadedFile("bomb.png", out.getvalue()), allowed=IMAGE_KINDS)


def test_clean_upload_keeps_a_pdf_byte_for_byte():
    clean = clean_upload(SimpleUploadedFile("bon.pdf", PDF), allowed=POD_KINDS)
    assert (clean.kind, clean.content.read()) == (PDF_KIND, PDF)


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.4\n" + b"0" * 64, PDF[:20], b"%PDF-" + b"\x00" * 2000 + b"%%EOF" + b"\x00" * 2000],
)
def test_clean_upload_refuses_a_pdf_without_its_trailer(data):
    with pytest.raises(NotTheFileItClaims, match="%%EOF"):
        clean_upload(SimpleUploadedFile("bon.pdf", data), allowed=POD_KINDS)


def test_clean_upload_refuses_a_pdf_where_only_images_go():
    with pytest.raises(NotTheFileItClaims):
        clean_upload(SimpleUploadedFile("photo.pdf", PDF), allowed=IMAGE_KINDS)
