"""Photo pipeline: `process` on a 12 MP phone photo, against decoding and re-encoding it alone.

    python bench/photo_pipeline.py [--runs 7]

The photo is made here as a phone takes it: 4032x3024, a scene of shapes under
a blur with sensor-like noise so that it compresses like a photo, EXIF
orientation 6 (held sideways) with GPS, and a colour profile. It is timed as a
JPEG (~3 MB at quality 90) with an sRGB profile (as most phones write it, and not
converted), the same JPEG with a Display P3 profile (converted to sRGB), and as a
HEIC with Display P3 (an iPhone's default; making it takes half a minute). The
baseline is the least any pipeline does: decode the upload and encode it as a JPEG.
The runs alternate between the two so that machine noise hits both alike.
"""

import argparse
import io
import random
import statistics
import time

import pillow_heif
from PIL import Image, ImageCms, ImageDraw, ImageFilter
from project import process_photo

from tests.images import P3_COLORANTS, rgb_profile

SIZE = (4032, 3024)
LIMITS = {"max_bytes": 4_000_000, "max_pixels": 50_000_000}


def phone_photo(fmt: str, profile: str = "sRGB") -> bytes:
    """Make a 12 MP photo with a phone's metadata and colour profile, encoded as `fmt`."""
    rng = random.Random(7)
    light = Image.linear_gradient("L").resize(SIZE)
    image = Image.merge("RGB", (light, light.rotate(180), Image.new("L", SIZE, 128)))
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(SIZE[0]), rng.randrange(SIZE[1])
        box = (x, y, x + rng.randrange(100, 1200), y + rng.randrange(100, 900))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape(box, fill=tuple(rng.randrange(256) for _ in range(3)))
    image = Image.blend(
        image.filter(ImageFilter.GaussianBlur(3)), Image.effect_noise(SIZE, 40).convert("RGB"), 0.12
    )
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825).update({1: "N", 2: (36.0, 45.0, 12.5), 3: "E", 4: (3.0, 3.0, 30.0)})
    if profile == "sRGB":
        icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    else:
        icc = rgb_profile("Display P3", P3_COLORANTS)
    buffer = io.BytesIO()
    if fmt == "HEIC":
        # pillow-heif's default quality gives the size an iPhone's HEIC has.
        pillow_heif.from_pillow(image).save(buffer, exif=exif.tobytes(), icc_profile=icc)
    else:
        image.save(buffer, "JPEG", quality=90, exif=exif.tobytes(), icc_profile=icc)
    return buffer.getvalue()


def baseline(data: bytes) -> None:
    """Decode the upload and encode it as a JPEG, nothing more."""
    image = Image.open(io.BytesIO(data))
    image.load()
    image.save(io.BytesIO(), "JPEG", quality=85)


def pipeline(data: bytes) -> None:
    """Run the photo pipeline: check, orient, clean, re-encode and make the thumbnail."""
    process_photo(data, **LIMITS)


def timed(function, data: bytes) -> float:
    start = time.perf_counter()
    function(data)
    return time.perf_counter() - start


def measure(data: bytes, runs: int) -> tuple[float, float]:
    """Return the median seconds of the baseline and of `process` on `data`, runs alternating."""
    samples = {baseline: [], pipeline: []}
    for function in samples:  # warm up: imports, plugin registration, caches
        function(data)
    for _ in range(runs):
        for function, values in samples.items():
            values.append(timed(function, data))
    base, ours = (statistics.median(values) for values in samples.values())
    return base, ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    pillow_heif.register_heif_opener()  # for the baseline; `process` registers it itself

    print(f"{'upload':24} {'baseline':>9} {'process':>9} {'ratio':>6}   ({args.runs} runs each)")
    for fmt, profile in (("JPEG", "sRGB"), ("JPEG", "Display P3"), ("HEIC", "Display P3")):
        data = phone_photo(fmt, profile)
        base, ours = measure(data, args.runs)
        name = f"{fmt} {profile} {len(data) / 1e6:.1f} MB"
        print(f"{name:24} {base * 1000:7.0f}ms {ours * 1000:7.0f}ms {ours / base:5.2f}x")

        photo = process_photo(data, **LIMITS)
        original, thumbnail = photo.original, photo.thumbnail
        print(
            f"  stored {original.content_type} {original.width}x{original.height} "
            f"{original.size / 1e6:.2f} MB; thumbnail {thumbnail.width}x{thumbnail.height} "
            f"{thumbnail.size / 1e3:.1f} kB = {thumbnail.size / original.size:.2%} of the original"
        )


if __name__ == "__main__":
    main()
