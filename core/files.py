"""What an uploaded file really is, and what of it we keep.

    upload -> sniffed_kind (first bytes: a quick "which parser") -> clean_upload:
        image: decoded whole by Pillow (a PNG signature followed by zeros is not an image),
               re-encoded from its pixels: EXIF (GPS, camera, owner), XMP and text chunks gone
        PDF:   "%PDF-" header and "%%EOF" trailer, kept byte for byte
    -> CleanUpload(kind, content) saved in place of what the client sent

Never the file's name or declared content type, which are both the client's word.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import PurePath

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_KINDS = frozenset({"image/png", "image/jpeg", "image/webp"})
PDF_KIND = "application/pdf"

_SIGNATURES = {
    b"%PDF-": PDF_KIND,
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}
_PILLOW_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", PDF_KIND: ".pdf"}
# A 48-megapixel phone camera is the largest photo people send; more pixels in a small file is
# a decompression bomb (a few kB that decode to gigabytes).
MAX_IMAGE_PIXELS = 50_000_000
# A PDF ends with "%%EOF", possibly followed by a newline or a few bytes of padding.
_PDF_TRAILER_WINDOW = 1024
JPEG_QUALITY = 90  # re-encoding a photo: no visible loss at this quality


class NotTheFileItClaims(ValueError):
    """The upload is not a (whole, decodable) file of an allowed kind; the message says why."""


@dataclass(frozen=True)
class CleanUpload:
    kind: str
    content: ContentFile

    @property
    def size(self) -> int:
        return self.content.size


def sniffed_kind(upload: UploadedFile, *, allowed: frozenset[str]) -> str | None:
    """The file's type when it is one of ``allowed``, else None. Leaves the file at its start."""
    head = upload.read(16)
    upload.seek(0)
    kind = next((k for signature, k in _SIGNATURES.items() if head.startswith(signature)), None)
    if kind is None and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        kind = "image/webp"
    return kind if kind in allowed else None


def clean_upload(upload: UploadedFile, *, allowed: frozenset[str]) -> CleanUpload:
    """The upload proven to be what its bytes say, as we store it: images re-encoded without
    their metadata (no location), PDFs unchanged. NotTheFileItClaims otherwise."""
    kind = sniffed_kind(upload, allowed=allowed)
    if kind is None:
        raise NotTheFileItClaims("not a file of an accepted kind")
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    name = str(PurePath(upload.name or "upload").with_suffix(EXTENSIONS[kind]).name)
    if kind == PDF_KIND:
        _check_pdf(data)
        return CleanUpload(kind=kind, content=ContentFile(data, name=name))
    return CleanUpload(kind=kind, content=ContentFile(_clean_image(data, kind), name=name))


def _check_pdf(data: bytes) -> None:
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-_PDF_TRAILER_WINDOW:]:
        raise NotTheFileItClaims("a PDF starts with %PDF- and ends with %%EOF; this one does not")


def _clean_image(data: bytes, kind: str) -> bytes:
    expected = _PILLOW_FORMATS[kind]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format != expected:
                    raise NotTheFileItClaims(
                        f"its bytes start as {kind} but decode as {probe.format}"
                    )
                width, height = probe.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise NotTheFileItClaims(f"{width}×{height} pixels is more than a photo has")
                probe.verify()  # the structure: chunks, checksums
            with Image.open(io.BytesIO(data)) as image:
                image.load()  # every pixel: a truncated or zero-filled image fails here
                # EXIF's orientation is applied to the pixels before EXIF goes, so that a phone
                # photo taken upright stays upright.
                upright = ImageOps.exif_transpose(image)
                return _encoded(upright, expected, icc_profile=image.info.get("icc_profile"))
    except NotTheFileItClaims:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:  # fmt: skip
        raise NotTheFileItClaims(f"it does not decode as an image ({exc})") from None


def _encoded(image: Image.Image, pillow_format: str, *, icc_profile: bytes | None) -> bytes:
    """The pixels alone in a new file: no exif=, xmp= or pnginfo= is passed, so none is written.
    The colour profile (no personal data) is kept so colours look the same."""
    options: dict = {"icc_profile": icc_profile} if icc_profile else {}
    if pillow_format == "JPEG":
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        options.update(quality=JPEG_QUALITY, optimize=True)
    elif pillow_format == "WEBP":
        options.update(quality=JPEG_QUALITY)
    out = io.BytesIO()
    image.save(out, format=pillow_format, **options)
    return out.getvalue()
