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


# Display P3's primaries adapted to D50, as its profile states them (Apple's Display P3.icc).
P3_COLORANTS = {
    b"rXYZ": (0.515121, 0.241196, -0.001053),
    b"gXYZ": (0.291977, 0.692245, 0.041885),
    b"bXYZ": (0.157104, 0.066574, 0.784073),
}


def rgb_profile(description: str, colorants: dict | None = None, curve_points: int = 0) -> bytes:
    """An ICC profile made from lcms's sRGB one: another name, other primaries, or other curves.

    `curve_points` replaces the parametric sRGB curves with sampled ones, as the sRGB
    profiles cameras embed (IEC61966-2.1, 1024 points) have them.
    """
    from PIL import ImageCms

    base = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    (count,) = struct.unpack_from(">I", base, 128)
    tags = {}
    for i in range(count):
        signature, offset, size = struct.unpack_from(">4sII", base, 132 + 12 * i)
        tags[signature] = base[offset : offset + size]
    text = description.encode("utf-16-be")
    # One record, English: the header is 16 bytes, the record 12, the text follows at 28.
    record = struct.pack(">III2s2sII", 0, 1, 12, b"en", b"US", len(text), 28)
    tags[b"desc"] = b"mluc" + record + text
    for signature, xyz in (colorants or {}).items():
        tags[signature] = b"XYZ " + struct.pack(">I3i", 0, *(round(v * 65536) for v in xyz))
    if curve_points:
        samples = [_srgb_to_linear(i / (curve_points - 1)) for i in range(curve_points)]
        curve = b"curv" + struct.pack(
            f">II{curve_points}H", 0, curve_points, *(round(v * 65535) for v in samples)
        )
        tags.update({b"rTRC": curve, b"gTRC": curve, b"bTRC": curve})
    table, data = b"", b""
    start = 128 + 4 + 12 * len(tags)
    for signature, body in tags.items():
        table += struct.pack(">4sII", signature, start + len(data), len(body))
        data += body + b"\0" * (-len(body) % 4)
    header = bytearray(base[:128])
    struct.pack_into(">I", header, 0, start + len(data))
    header[84:100] = bytes(16)  # the profile id, an MD5 of the rest: optional, and now wrong
    return bytes(header) + struct.pack(">I", len(tags)) + table + data


def _srgb_to_linear(value: float) -> float:
    """The sRGB transfer function (IEC 61966-2-1), from an encoded value to light."""
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def p3_to_srgb(colour: tuple[int, int, int]) -> tuple[float, float, float]:
    """Convert an 8-bit Display P3 colour to sRGB with the published D65 matrix, no lcms."""
    # Linear light, both D65; from their primaries (IEC 61966-2-1, SMPTE EG 432-1).
    matrix = (
        (1.2249401, -0.2249402, 0.0),
        (-0.0420569, 1.0420571, 0.0),
        (-0.0196376, -0.0786361, 1.0982735),
    )
    light = [_srgb_to_linear(c / 255) for c in colour]
    out = []
    for row in matrix:
        v = min(1.0, max(0.0, sum(m * c for m, c in zip(row, light, strict=True))))
        out.append(255 * (12.92 * v if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055))
    return tuple(out)
