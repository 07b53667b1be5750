"""What an uploaded file really is, from its first bytes: never from its name or the declared
content type, which are both the client's word."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile

IMAGE_KINDS = frozenset({"image/png", "image/jpeg", "image/webp"})
PDF_KIND = "application/pdf"

_SIGNATURES = {
    b"%PDF-": PDF_KIND,
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}


def sniffed_kind(upload: UploadedFile, *, allowed: frozenset[str]) -> str | None:
    """The file's type when it is one of ``allowed``, else None. Leaves the file at its start."""
    head = upload.read(16)
    upload.seek(0)
    kind = next((k for signature, k in _SIGNATURES.items() if head.startswith(signature)), None)
    if kind is None and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        kind = "image/webp"
    return kind if kind in allowed else None
