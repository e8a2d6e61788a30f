"""Images made for the tests with Pillow and pillow-heif, and files that only pretend to be."""

import functools
import io
import random
import struct
import zlib

import pillow_heif
from PIL import Image

RED, BLUE = (220, 20, 20), (20, 20, 220)
GPS_IFD, ORIENTATION = 0x8825, 0x0112


def halves(size=(400, 200), mode="RGB") -> Image.Image:
    """An image red on its left half and blue on its right, to see where it turned."""
    image = Image.new("RGB", size, RED)
    image.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return image.convert(mode)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    if fmt == "HEIF":
        # pillow-heif's own writer, as an iPhone would: Pillow is left as the pipeline finds it.
        pillow_heif.from_pillow(image).save(buffer, **options)
    else:
        image.save(buffer, fmt, **options)
    return buffer.getvalue()


def phone_exif() -> Image.Exif:
    """EXIF as a phone writes it: turn 90° clockwise to show, and where it was taken."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (36.0, 45.0, 12.5), 3: "E", 4: (3.0, 3.0, 30.0)})
    return exif


def png_header(width: int, height: int) -> bytes:
    """A valid PNG signature and header claiming `width`x`height`, with a few bytes of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


HTML = b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)


@functools.cache
def phone_sized_jpeg() -> bytes:
    """A 12 MP JPEG of noise, over 12 MB, as large as a phone photo straight from the camera."""
    size = (4000, 3000)
    image = Image.frombytes("RGB", size, random.Random(12).randbytes(size[0] * size[1] * 3))
    return encode(image, "JPEG", quality=93)
