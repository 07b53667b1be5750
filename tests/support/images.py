"""Real image files for upload tests, made with Pillow: a phone photo with its EXIF (camera,
owner, GPS position of where it was taken), and the forgeries a first-bytes check lets through."""

from __future__ import annotations

import io

from PIL import Image

# Where the photo was taken: a street in Saint-Denis (La Réunion), as a phone writes it.
GPS_SAINT_DENIS = {
    1: "S",  # GPSLatitudeRef
    2: (20.0, 52.0, 44.0),  # GPSLatitude
    3: "E",  # GPSLongitudeRef
    4: (55.0, 26.0, 54.0),  # GPSLongitude
}
EXIF_MAKE, EXIF_MODEL, EXIF_ARTIST, EXIF_ORIENTATION, EXIF_GPS = (
    0x010F,
    0x0110,
    0x013B,
    0x0112,
    0x8825,
)

FAKE_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # a PNG signature followed by zeros
FAKE_JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def _exif(*, orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[EXIF_MAKE] = "Apple"
    exif[EXIF_MODEL] = "iPhone 15"
    exif[EXIF_ARTIST] = "Helene Lefevre"
    exif[EXIF_ORIENTATION] = orientation
    exif.get_ifd(EXIF_GPS).update(GPS_SAINT_DENIS)
    return exif


def photo(kind: str = "JPEG", *, size=(64, 48), gps: bool = True, orientation: int = 1) -> bytes:
    """A small photo (a lamp's red shade on white) in ``kind`` (JPEG, PNG, WEBP)."""
    image = Image.new("RGB", size, "white")
    image.paste((200, 30, 30), (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    options = {"exif": _exif(orientation=orientation)} if gps else {}
    image.save(out, format=kind, **options)
    return out.getvalue()


def png() -> bytes:
    return photo("PNG", gps=False)


def truncated(data: bytes) -> bytes:
    """The file cut in its middle, as a failed upload leaves it."""
    return data[: len(data) // 2]
