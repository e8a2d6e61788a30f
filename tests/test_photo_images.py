"""The photo pipeline, fed real images made here with Pillow and pillow-heif."""

import hashlib
import random
import struct
import time

import pytest
from PIL import Image, ImageCms

from productinfo.errors import ApiError
from productinfo.photos import images
from productinfo.photos.images import process
from tests.images import (
    HTML,
    P3_COLORANTS,
    RED,
    SVG,
    encode,
    halves,
    opened,
    p3_to_srgb,
    phone_exif,
    png_header,
    rgb_profile,
)

LIMITS = {"max_bytes": 4_000_000, "max_pixels": 50_000_000}


def transparent_corner(mode: str) -> Image.Image:
    image = halves(mode="RGBA")
    image.paste((0, 0, 0, 0), (0, 0, 50, 50))
    if mode == "P":
        image = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
        image.info["transparency"] = image.getpixel((0, 0))
    return image


# (source format, source image, save options, stored content type, stored format)
ACCEPTED = {
    "jpeg": ("JPEG", halves(), {}, "image/jpeg", "JPEG"),
    "grey jpeg": ("JPEG", halves(mode="L"), {}, "image/jpeg", "JPEG"),
    "cmyk jpeg": ("JPEG", halves(mode="CMYK"), {}, "image/jpeg", "JPEG"),
    "png": ("PNG", halves(), {}, "image/png", "PNG"),
    "webp": ("WEBP", halves(), {"quality": 90}, "image/webp", "WEBP"),
    "heic": ("HEIF", halves(), {"quality": 90}, "image/jpeg", "JPEG"),
}


@pytest.mark.parametrize(
    ("fmt", "image", "options", "content_type", "stored_as"), ACCEPTED.values(), ids=ACCEPTED
)
def test_accepted_formats_are_stored_with_a_webp_thumbnail(
    fmt, image, options, content_type, stored_as
):
    data = encode(image, fmt, **options)
    photo = process(data, **LIMITS)

    original = opened(photo.original.data)
    assert (original.format, photo.original.content_type) == (stored_as, content_type)
    assert original.mode in ("RGB", "L")  # what every client can show
    assert (photo.original.width, photo.original.height) == original.size == (400, 200)
    assert photo.original.size == len(photo.original.data)
    for point in ((50, 100), (350, 100)):  # the same colours in the same places
        expected, stored = (
            image.convert("RGB").getpixel(point),
            original.convert("RGB").getpixel(point),
        )
        assert all(abs(a - b) <= 12 for a, b in zip(expected, stored, strict=True))

    thumbnail = opened(photo.thumbnail.data)
    assert (thumbnail.format, photo.thumbnail.content_type) == ("WEBP", "image/webp")
    assert (photo.thumbnail.width, photo.thumbnail.height) == thumbnail.size == (320, 160)
    assert photo.thumbnail.size == len(photo.thumbnail.data) < photo.original.size
    assert photo.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_orientation_is_applied_and_metadata_removed(fmt):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret place</x:xmpmeta>'
    data = encode(halves(), fmt, exif=phone_exif().tobytes(), icc_profile=icc, xmp=xmp)
    assert b"PhoneMaker" in data

    photo = process(data, **LIMITS)

    for stored in (photo.original, photo.thumbnail):
        image = opened(stored.data)
        assert b"PhoneMaker" not in stored.data and b"secret place" not in stored.data
        assert dict(image.getexif()) == {}
        assert not {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile"} & set(image.info)
        # Turned to stand upright: the left (red) half is now on top.
        assert image.height > image.width
        assert image.convert("RGB").getpixel((image.width // 2, 5))[0] > 150
        assert image.convert("RGB").getpixel((image.width // 2, image.height - 5))[2] > 150


def swapped_profile() -> bytes:
    """An RGB colour profile whose red and blue primaries are swapped: its red is sRGB's blue."""
    icc = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (count,) = struct.unpack_from(">I", icc, 128)
    tags = {bytes(icc[132 + 12 * i : 136 + 12 * i]): 136 + 12 * i for i in range(count)}
    red, blue = tags[b"rXYZ"], tags[b"bXYZ"]  # each entry: signature, offset, size
    icc[red : red + 8], icc[blue : blue + 8] = icc[blue : blue + 8], icc[red : red + 8]
    return bytes(icc)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_colour_profile_is_applied_then_dropped(fmt):
    data = encode(Image.new("RGB", (100, 100), RED), fmt, icc_profile=swapped_profile())
    photo = process(data, **LIMITS)
    for stored in (photo.original, photo.thumbnail):
        image = opened(stored.data)
        assert "icc_profile" not in image.info
        red, green, blue = image.convert("RGB").getpixel((50, 50))
        assert blue > 150 and red < 50  # shown as the profile meant it, on any screen


P3 = rgb_profile("Display P3", P3_COLORANTS)
# An sRGB profile whose curves are sampled at 26 points: converting from it to sRGB moves
# some values by one, so only a photo that is not converted keeps every pixel.
COARSE_SRGB = rgb_profile("sRGB IEC61966-2.1", curve_points=26)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_display_p3_photo_is_converted_to_srgb(fmt):
    colour = (200, 100, 50)
    data = encode(Image.new("RGB", (64, 64), colour), fmt, icc_profile=P3)
    for _ in range(2):  # the second photo with the same profile reuses its transform
        found = opened(process(data, **LIMITS).original.data).convert("RGB").getpixel((32, 32))
        # JPEG compression moves a flat colour by a unit or two.
        assert found == pytest.approx(p3_to_srgb(colour), abs=3 if fmt == "JPEG" else 1)
        assert abs(found[0] - colour[0]) > 10  # converted: as it is, it would look dull


@pytest.mark.parametrize("icc", [COARSE_SRGB, None], ids=["srgb", "no profile"])
def test_srgb_photo_keeps_its_pixels(icc):
    image = Image.frombytes("RGB", (64, 64), random.Random(3).randbytes(64 * 64 * 3))
    data = encode(image, "PNG", **({"icc_profile": icc} if icc else {}))
    stored = opened(process(data, **LIMITS).original.data)
    assert stored.tobytes() == image.tobytes()


SRGB_OR_NOT = {
    "lcms sRGB": (ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(), True),
    "camera sRGB": (rgb_profile("sRGB IEC61966-2.1", curve_points=1024), True),
    "Display P3": (P3, False),
    "P3 named sRGB": (rgb_profile("sRGB IEC61966-2.1", P3_COLORANTS), False),
    "swapped primaries": (swapped_profile(), False),
    "sRGB primaries, another name": (rgb_profile("Linear sRGB"), False),
}


@pytest.mark.parametrize(("icc", "is_srgb"), SRGB_OR_NOT.values(), ids=SRGB_OR_NOT)
def test_only_an_srgb_profile_is_skipped(icc, is_srgb):
    assert (images._transform(icc, "RGB", "RGB") is None) is is_srgb


@pytest.mark.parametrize("mode", ["RGBA", "P"])
def test_png_transparency_is_kept(mode):
    photo = process(encode(transparent_corner(mode), "PNG"), **LIMITS)
    for stored in (photo.original, photo.thumbnail):
        image = opened(stored.data).convert("RGBA")
        assert image.getpixel((5, 5))[3] == 0
        assert image.getpixel((image.width // 4, image.height // 2))[3] == 255


def test_small_photo_is_not_enlarged():
    photo = process(encode(halves((120, 90)), "JPEG"), **LIMITS)
    assert (photo.thumbnail.width, photo.thumbnail.height) == (120, 90)


def test_thumbnail_size_is_a_parameter():
    photo = process(encode(halves((300, 600)), "PNG"), **LIMITS, thumbnail_px=64)
    assert (photo.thumbnail.width, photo.thumbnail.height) == (32, 64)


JPEG = encode(halves((640, 480)), "JPEG")
# (bytes, limits, status, code): names and declared types are never looked at.
REFUSED = {
    "html": (HTML, LIMITS, 415, "unsupported_image_type"),
    "svg": (SVG, LIMITS, 415, "unsupported_image_type"),
    "pdf": (encode(halves(), "PDF"), LIMITS, 415, "unsupported_image_type"),
    "gif": (encode(halves(), "GIF"), LIMITS, 415, "unsupported_image_type"),
    "avif brand": (
        b"\0\0\0\x1cftypavif\0\0\0\0mif1avif" + JPEG,
        LIMITS,
        415,
        "unsupported_image_type",
    ),
    "empty": (b"", LIMITS, 415, "unsupported_image_type"),
    "truncated jpeg": (JPEG[: len(JPEG) // 2], LIMITS, 422, "corrupt_image"),
    "jpeg start, html rest": (JPEG[:3] + HTML, LIMITS, 422, "corrupt_image"),
    "truncated heic": (encode(halves(), "HEIF")[:300], LIMITS, 422, "corrupt_image"),
    "png bad checksum": (encode(halves(), "PNG")[:-20] + b"\0" * 20, LIMITS, 422, "corrupt_image"),
    "too large": (JPEG, {**LIMITS, "max_bytes": len(JPEG) - 1}, 413, "photo_too_large"),
    "too many pixels": (JPEG, {**LIMITS, "max_pixels": 640 * 480 - 1}, 422, "too_many_pixels"),
    # Headers with (almost) no pixel data: decoding would find it corrupt, so the
    # pixel count must have been refused before. Pillow's own limits are at 89 and 179 MP.
    "56 MP header": (png_header(8000, 7000), LIMITS, 422, "too_many_pixels"),
    "90 MP header": (png_header(10000, 9000), LIMITS, 422, "too_many_pixels"),
    "10 GP header": (png_header(100_000, 100_000), LIMITS, 422, "too_many_pixels"),
}


@pytest.mark.parametrize(("data", "limits", "status", "code"), REFUSED.values(), ids=REFUSED)
def test_refused_uploads(data, limits, status, code):
    started = time.perf_counter()
    with pytest.raises(ApiError) as refused:
        process(data, **limits)
    assert (refused.value.status, refused.value.code) == (status, code)
    assert time.perf_counter() - started < 1  # decided from the header, nothing decoded
    if status == 415:
        assert "JPEG, PNG, WebP or HEIC" in refused.value.message
