"""The photo pipeline: check an uploaded image, clean it, re-encode it and make its thumbnail.

A pure function, bytes in and bytes out: `process` knows nothing of storage,
products or users. Pillow and pillow-heif are imported on first use, so a cold
start that serves no upload does not pay for them.

- **Accepted:** JPEG, PNG, WebP and HEIC, recognised by their first bytes; a
  file's name and declared type are never looked at.
- **Refused before decoding:** more than `max_bytes` (413 `photo_too_large`),
  another format (415 `unsupported_image_type`), more than `max_pixels` as the
  header states it (422 `too_many_pixels`, so a small file cannot make the
  server decode a gigapixel image). A truncated or corrupt image is a 422
  `corrupt_image`.
- **Cleaned:** the EXIF orientation is applied to the pixels, and every
  metadata block (EXIF with GPS, XMP, comments, colour profile) is dropped. An
  image with a colour profile other than sRGB (Display P3, Adobe RGB...) is
  converted to sRGB first, the space a screen assumes when there is no profile,
  so it looks the same on every client.
- **Re-encoded:** JPEG stays JPEG and WebP stays WebP; PNG stays PNG, losslessly
  and with its transparency; HEIC becomes JPEG, which every client can show.
  The thumbnail is a WebP whose long side is `thumbnail_px`; a smaller image is
  not enlarged.
"""

import functools
import hashlib
import io
from dataclasses import dataclass

from productinfo.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed

THUMBNAIL_PX = 320
ACCEPTED = "JPEG, PNG, WebP or HEIC"
# What each accepted format is stored as: HEIC is not shown by every client.
OUTPUT_FORMAT = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "HEIF": "JPEG"}
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# Quality 85 is where JPEG and WebP artefacts stop showing on a phone screen; a thumbnail
# is seen small, so it can give more away.
SAVE_OPTIONS = {"JPEG": {"quality": 85}, "PNG": {}, "WEBP": {"quality": 85}}
THUMBNAIL_OPTIONS = {"quality": 75}
# Brands of HEIF files holding HEVC images (ISO/IEC 23008-12), as iPhones write them.
# A bare `mif1` may hold AVIF or JPEG images, which are not accepted.
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
# What Pillow and pillow-heif raise on a truncated or malformed file (pillow-heif catches
# the same list from libheif).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, RuntimeError)


@dataclass(frozen=True)
class EncodedImage:
    """An image ready to store: its bytes, content type and size in pixels."""

    data: bytes
    content_type: str
    width: int
    height: int

    @property
    def size(self) -> int:
        """Return the size in bytes."""
        return len(self.data)


@dataclass(frozen=True)
class ProcessedPhoto:
    """An upload made safe to publish: the full-size image, its thumbnail, the upload's hash."""

    original: EncodedImage
    thumbnail: EncodedImage
    sha256: str  # of the bytes as uploaded, to recognise the same upload again


def process(
    data: bytes, *, max_bytes: int, max_pixels: int, thumbnail_px: int = THUMBNAIL_PX
) -> ProcessedPhoto:
    """Check an uploaded image, strip its metadata, re-encode it and make its thumbnail."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"The photo is {len(data):,} bytes; the limit is {max_bytes:,}.",
            code="photo_too_large",
        )
    kind = sniff(data)
    if kind is None:
        raise UnsupportedMediaType(
            f"This file is not a photo this service accepts. Send {ACCEPTED}.",
            code="unsupported_image_type",
        )
    image = _decode(data, kind, max_pixels)
    output = OUTPUT_FORMAT[kind]
    thumbnail = _shrink(_for_webp(image), thumbnail_px)
    return ProcessedPhoto(
        original=_encode(image, output, SAVE_OPTIONS[output]),
        thumbnail=_encode(thumbnail, "WEBP", THUMBNAIL_OPTIONS),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def sniff(data: bytes) -> str | None:
    """Name an image's format from its first bytes, as Pillow does: JPEG, PNG, WEBP or HEIF."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp":
        # The `ftyp` box: its size, "ftyp", the major brand, a version, compatible brands.
        end = min(int.from_bytes(data[:4], "big"), 64)
        brands = {data[i : i + 4] for i in range(8, end, 4)}
        if brands & HEIC_BRANDS:
            return "HEIF"
    return None


def _too_many_pixels(max_pixels: int) -> ValidationFailed:
    return ValidationFailed(
        f"The photo has more than {max_pixels:,} pixels. Send a smaller one.",
        code="too_many_pixels",
    )


def _corrupt() -> ValidationFailed:
    return ValidationFailed("The photo is truncated or corrupt.", code="corrupt_image")


def _decode(data: bytes, kind: str, max_pixels: int):
    """Open the image as `kind` alone, check its pixel count, then decode and orient it."""
    Image, ImageOps = _pillow(kind)
    # Pillow checks the pixel count too, with higher limits: a warning (an error where
    # warnings are errors) past about 89 MP, an error past twice that.
    try:
        image = Image.open(io.BytesIO(data), formats=[kind])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(max_pixels) from None
    except DECODE_ERRORS as error:
        raise _corrupt() from error
    # Opening read the header only: nothing is decoded until this check has passed.
    if image.width * image.height > max_pixels:
        raise _too_many_pixels(max_pixels)
    try:
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
        image = _to_srgb(image)
    except DECODE_ERRORS as error:
        raise _corrupt() from error
    # Only the pixels go on; a palette image keeps its transparent colour.
    image.info = {key: image.info[key] for key in ("transparency",) if key in image.info}
    return image


def _to_srgb(image):
    """Convert an image that carries a colour profile other than sRGB to plain sRGB."""
    icc = image.info.get("icc_profile")
    if not icc:
        return image
    from PIL import ImageCms

    mode = "RGBA" if image.has_transparency_data else "RGB"
    if image.mode not in ("RGB", "RGBA", "L", "CMYK"):
        image = image.convert(mode)
    try:
        transform = _transform(icc, image.mode, mode)
        return image if transform is None else transform.apply(image)
    except ImageCms.PyCMSError:
        # A broken profile, or one that does not fit the pixels: keep them as they are.
        return image


@functools.lru_cache(maxsize=16)
def _transform(icc: bytes, input_mode: str, output_mode: str):
    """Return the transform from a profile to sRGB, built once per profile; None if it is sRGB.

    Phones embed a few profiles only, so a small cache spares nearly every upload the
    parsing and building. An sRGB photo (an Android phone's, a screenshot) is not
    converted at all: converting it to sRGB would change nothing but the time, ~half
    of the pipeline's for a 12 MP photo.
    """
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    if input_mode in ("RGB", "RGBA") and _is_srgb(profile.profile):
        return None
    # The same transform as ImageCms.profileToProfile builds: perceptual intent, no flags.
    return ImageCms.buildTransform(profile, _srgb(), input_mode, output_mode)


# The descriptions of the sRGB profiles cameras and phones embed (IEC 61966-2-1 as HP and
# Apple ship it, its black-scaled variants, Android's and lcms's own).
SRGB_DESCRIPTIONS = {
    "sRGB",
    "sRGB IEC61966-2.1",
    "sRGB IEC61966-2-1 black scaled",
    "sRGB IEC61966-2-1 no black scaling",
    "sRGB built-in",
}


def _is_srgb(profile) -> bool:
    """Tell whether a profile is sRGB: by its name, and by its primaries to 3 decimals.

    The name rules out a linear or otherwise re-curved variant, which has the same
    primaries. The white point is not compared: version 2 profiles state D65, version 4 D50.
    """
    if profile.profile_description not in SRGB_DESCRIPTIONS or not profile.is_matrix_shaper:
        return False
    srgb = _srgb().profile
    for name in ("red_colorant", "green_colorant", "blue_colorant"):
        found, known = getattr(profile, name), getattr(srgb, name)
        if found is None or any(abs(a - b) > 2e-3 for a, b in zip(found[0], known[0], strict=True)):
            return False
    return True


def _for_webp(image):
    """Return the image in a mode WebP stores: RGB, or RGBA when it has transparency."""
    mode = "RGBA" if image.has_transparency_data else "RGB"
    return image if image.mode == mode else image.convert(mode)


def _shrink(image, longest: int):
    """Return the image scaled down so that its long side is at most `longest` pixels."""
    scale = longest / max(image.size)
    if scale >= 1:
        return image
    from PIL import Image

    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # Reducing by whole factors first is much faster and looks the same at this ratio.
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(image, output: str, options: dict) -> EncodedImage:
    """Encode the image without any metadata."""
    if output == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif output == "WEBP":
        image = _for_webp(image)
    buffer = io.BytesIO()
    image.save(buffer, output, **options)
    return EncodedImage(buffer.getvalue(), CONTENT_TYPES[output], image.width, image.height)


@functools.cache
def _pillow(kind: str):
    """Import Pillow, with the HEIF plugin only when a HEIC photo arrives."""
    from PIL import Image, ImageOps

    if kind == "HEIF":
        import pillow_heif

        # The file's own thumbnails, depth maps and auxiliary images are never used.
        pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
    return Image, ImageOps


@functools.cache
def _srgb():
    """Return the sRGB profile, built once."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
