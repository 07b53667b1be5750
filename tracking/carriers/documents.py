"""Proof documents couriers hand out (signature images, proof-of-delivery PDFs, delivery
records): what an adapter's ``fetch_proof_document`` returns, and the one check that a document
is what it claims to be before anything is stored.

    adapter.proof_document_kind(pod)      -> "signature" | ... | None   (pure: is one documented?)
    adapter.fetch_proof_document(...)     -> ProofDocument             (HTTP + the courier's shape)
    validated(document)                   -> ValidDocument             (decoded, sniffed, refused)

The courier's declared type is never trusted: a PDF must parse as a PDF (pypdf), an image must
decode as an image (Pillow), an SVG must be well-formed XML whose root is ``<svg>`` (defusedxml,
so a hostile entity cannot blow up the worker), a delivery record must be a JSON object.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from dataclasses import dataclass

from tracking.carriers.faults import CarrierPayloadError

# A scanned PDF or a signature image is kilobytes; 10 MB is far above any real one and keeps a
# broken or hostile answer from filling the disk.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# Pillow's decompression-bomb guard is for photos; a signature pad is at most a few thousand
# pixels a side.
MAX_IMAGE_PIXELS = 25_000_000

PDF = "application/pdf"
SVG = "image/svg+xml"
JSON = "application/json"
_PILLOW_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
EXTENSIONS = {
    PDF: "pdf",
    SVG: "svg",
    JSON: "json",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
}


class DocumentRefused(CarrierPayloadError):
    """The courier's document is not what it claims to be (or is empty, or too large)."""


class DocumentNotAvailable(CarrierPayloadError):
    """The courier has no such document for this parcel (yet): ask again later."""


@dataclass(frozen=True)
class ProofDocument:
    """A document as the courier sent it, already taken out of its envelope (base64 decoded)."""

    kind: str  # "signature_proof_of_delivery", "signature", "delivery_info"
    content: bytes
    declared_type: str = ""  # what the courier says it is; checked, never trusted


@dataclass(frozen=True)
class ValidDocument:
    kind: str
    content: bytes
    content_type: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


def validated(document: ProofDocument) -> ValidDocument:
    """The document with its real content type and hash. Raises DocumentRefused when it is
    empty, too large, or not a PDF, an image, an SVG or a JSON record."""
    content = document.content
    if not content:
        raise DocumentRefused(f"the {document.kind} document is empty")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise DocumentRefused(f"the {document.kind} document is larger than 10 MB")
    declared = document.declared_type.split(";")[0].strip().lower()
    if content.startswith(b"%PDF-"):
        content_type = _pdf(content)
    elif declared == SVG or content.lstrip()[:5] in {b"<svg ", b"<svg>", b"<?xml"}:
        content_type = _svg(content)
    elif declared == JSON:
        content_type = _json(content)
    else:
        content_type = _image(content)
    if declared == PDF and content_type != PDF:
        raise DocumentRefused(f"the {document.kind} document claims to be a PDF but is not one")
    return ValidDocument(document.kind, content, content_type, hashlib.sha256(content).hexdigest())


def _pdf(content: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    # pypdf warns through logging for every repaired glitch; a refusal below says what matters.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        pages = len(PdfReader(io.BytesIO(content), strict=False).pages)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentRefused(f"not a readable PDF ({exc.__class__.__name__})") from exc
    if pages < 1:
        raise DocumentRefused("the PDF has no page")
    return PDF


def _image(content: bytes) -> str:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            kind = image.format
            # The size is in the header: a decompression bomb is refused before any decoding
            # (checked here rather than through Pillow's process-wide MAX_IMAGE_PIXELS, which
            # would change the limit for every other upload too).
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise DocumentRefused(f"{width}x{height} pixels is more than a signature has")
            image.verify()  # reads the whole file: a truncated or corrupt image fails here
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise DocumentRefused(f"not a PDF nor a readable image ({exc.__class__.__name__})") from exc
    content_type = _PILLOW_TYPES.get(kind or "")
    if content_type is None:
        raise DocumentRefused(f"image format {kind} is not one a browser shows")
    return content_type


def _svg(content: bytes) -> str:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(content)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise DocumentRefused(f"not a well-formed SVG ({exc.__class__.__name__})") from exc
    if root.tag.rsplit("}", 1)[-1] != "svg":
        raise DocumentRefused(f"an XML document whose root is {root.tag!r}, not an SVG")
    return SVG


def _json(content: bytes) -> str:
    try:
        payload = json.loads(content)
    except (UnicodeDecodeError, ValueError) as exc:
        raise DocumentRefused("the delivery record is not JSON") from exc
    if not isinstance(payload, dict) or not payload:
        raise DocumentRefused("the delivery record is not a JSON object")
    return JSON
