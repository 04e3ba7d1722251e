"""Decoding and resizing downloaded images, as mBLIP does and in the modes img2dataset users know.

mBLIP (``data/pretrain/download_images.py``): alpha composited on white (a grey image stays
grey); only an image whose longest side exceeds 256 is shrunk so that side is 256 (bicubic) and
padded with white to 256×256, centred (albumentations' ``pad``: the odd pixel goes to the bottom and
right); smaller images are kept as they are; everything is written as JPEG quality 95. mBLIP
decodes with OpenCV, which ignores EXIF orientation, so ``exif_transpose`` is off by default.

VILA's (``data_prepare/coyo/coyo_downloader.py``), ``vila``: converted to RGB (alpha dropped, not
composited), the short side shrunk to the size (336 there) when it is larger, the long side
``int(size * long / short)``; VILA saves at Pillow's default JPEG quality, 75. ``rgb``: converted
to RGB the same way and not resized (llm-jp's own Step-1 downloads).

img2dataset's modes: ``border`` (mBLIP's, but smaller images are also padded to the square),
``keep_ratio`` (longest side to the size, no padding; mBLIP's rule for larger images), ``center_crop``
(shortest side to the size, then the centre square), ``no`` (as decoded).

Output sizes are computed from the image's own size, whatever its format: a large JPEG is decoded
at a reduced scale (``Image.draft``: 1/2, 1/4 or 1/8) only in the modes that shrink it anyway
(``mblip``, ``border``, ``keep_ratio``, ``center_crop``, ``vila``), only when that scale still
leaves at least the pixels the output needs on both sides, and then resized to the size the full
image would give; ``no`` and ``rgb`` always decode at full size, so a JPEG keeps its size as a PNG does.

The body is untrusted: Pillow's decompression-bomb check is on, and an image over ``max_pixels``
is refused before it is decoded. Nothing here touches the network or the file system.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image, ImageOps

MODES = ("mblip", "border", "keep_ratio", "center_crop", "no", "vila", "rgb")
SHRINKING = ("mblip", "border", "keep_ratio", "center_crop", "vila")
"""The modes that scale an image down to ``size``, and so may decode a large JPEG at a reduced scale."""
ORIENTATION = 0x0112
SWAPPING_ORIENTATIONS = (5, 6, 7, 8)
"""EXIF orientations whose transposition swaps width and height."""
WHITE = 255


class ImageRejected(ValueError):
    """A body that is not an image we take: undecodable, truncated, too many pixels, or empty."""


@dataclass(frozen=True)
class ResizeSettings:
    mode: str = "mblip"
    size: int = 256
    quality: int = 95
    max_pixels: int = 100_000_000
    """Refuse larger images before decoding (a decompression bomb is a few KB on the wire)."""
    exif_transpose: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown resize mode {self.mode!r}; expected one of {', '.join(MODES)}")
        if self.size < 1 or not 1 <= self.quality <= 100 or self.max_pixels < 1:
            raise ValueError("resize size, quality (1-100) and max_pixels must be positive")


@dataclass(frozen=True)
class Resized:
    jpeg: bytes
    width: int
    height: int
    original_width: int
    original_height: int


def _decode(body: bytes) -> Image.Image:
    if not body:
        raise ImageRejected("empty body")
    try:
        return Image.open(io.BytesIO(body))
    except Image.DecompressionBombError as exc:
        raise ImageRejected(f"decompression bomb: {exc}") from None
    except Image.UnidentifiedImageError:
        raise ImageRejected("not an image (no image format recognised)") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageRejected(f"not an image ({type(exc).__name__}: {exc})") from None


def _draft(image: Image.Image, settings: ResizeSettings) -> bool:
    """Set a large JPEG to decode at a reduced scale where the mode shrinks it anyway: the smallest
    JPEG scale (1/2, 1/4, 1/8) that still leaves the side the mode resizes by (the longest, or the
    shortest for center_crop and vila) at least ``size``. False where the drafted size would be
    smaller than the output on either side (the caller then decodes at full size)."""
    width, height = image.size
    if image.format != "JPEG" or settings.mode not in SHRINKING:
        return True
    side = min(width, height) if settings.mode in ("center_crop", "vila") else max(width, height)
    if side <= 2 * settings.size:
        return True
    target = scaled_size(settings.mode, settings.size, width, height)
    wanted = (math.ceil(settings.size * width / side), math.ceil(settings.size * height / side))
    image.draft(image.mode if image.mode in ("L", "RGB") else None, wanted)
    return target is None or (image.width >= target[0] and image.height >= target[1])


def _open(body: bytes, settings: ResizeSettings) -> tuple[Image.Image, tuple[int, int], tuple[int, int]]:
    """The decoded image (a large JPEG perhaps at a reduced scale, ``_draft``), the size of the full
    image the output is computed from (transposed with ``exif_transpose``), and its size as published."""
    image = _decode(body)
    width, height = image.size
    if width * height > settings.max_pixels:
        raise ImageRejected(f"{width}x{height} is over the {settings.max_pixels:,}-pixel limit")
    if not _draft(image, settings):
        image = _decode(body)  # never decode smaller than the output: full size instead
    try:
        image.load()
    except Image.DecompressionBombError as exc:
        raise ImageRejected(f"decompression bomb: {exc}") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageRejected(f"truncated or corrupt ({type(exc).__name__}: {exc})") from None
    full = (width, height)
    if settings.exif_transpose:
        if image.getexif().get(ORIENTATION) in SWAPPING_ORIENTATIONS:
            full = (height, width)
        image = ImageOps.exif_transpose(image)
    return image, full, (width, height)


def flatten(image: Image.Image) -> Image.Image:
    """RGB, or L for a grey image; transparency composited on white."""
    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("1", "I", "I;16", "F"):
        return image.convert("L")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode == "LA":
        background = Image.new("L", image.size, WHITE)
        background.paste(image.getchannel("L"), mask=image.getchannel("A"))
        return background
    if image.mode in ("RGBA", "RGBa", "PA"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (WHITE, WHITE, WHITE))
        background.paste(image.convert("RGB"), mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def _pad(image: Image.Image, size: int) -> Image.Image:
    canvas = Image.new(image.mode, (size, size), WHITE if image.mode == "L" else (WHITE, WHITE, WHITE))
    canvas.paste(image, ((size - image.width) // 2, (size - image.height) // 2))
    return canvas


def _longest(size: int, width: int, height: int) -> tuple[int, int]:
    scale = size / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def scaled_size(mode: str, size: int, width: int, height: int) -> tuple[int, int] | None:
    """The size ``mode`` scales a ``width``×``height`` image to, before padding (mblip, border) or
    cropping (center_crop); None where it keeps the image's size."""
    if mode in ("no", "rgb"):
        return None
    if mode in ("mblip", "keep_ratio"):
        return None if max(width, height) <= size else _longest(size, width, height)
    if mode == "border":
        return None if max(width, height) == size else _longest(size, width, height)
    if mode == "vila":
        if min(width, height) <= size:
            return None
        return (int(size * width / height), size) if height < width else (size, int(size * height / width))
    scale = size / min(width, height)  # center_crop
    return max(size, round(width * scale)), max(size, round(height * scale))


def output_size(mode: str, size: int, width: int, height: int) -> tuple[int, int]:
    """The size of the image ``mode`` makes of a ``width``×``height`` one: what each mode promises."""
    if mode in ("mblip", "border", "center_crop") and (mode != "mblip" or max(width, height) > size):
        return size, size
    return scaled_size(mode, size, width, height) or (width, height)


def reshape(image: Image.Image, settings: ResizeSettings, full: tuple[int, int] | None = None) -> Image.Image:
    """``image`` as the mode makes it; sizes are computed from ``full`` (the full image's size, when
    ``image`` was decoded at a reduced scale), else from the image itself."""
    size = settings.size
    target = scaled_size(settings.mode, size, *(full or image.size))
    resized = image if target is None else image.resize(target, Image.Resampling.BICUBIC, reducing_gap=3.0)
    if settings.mode == "border" or (settings.mode == "mblip" and target is not None):
        return _pad(resized, size)
    if settings.mode == "center_crop":
        left, top = (resized.width - size) // 2, (resized.height - size) // 2
        return resized.crop((left, top, left + size, top + size))
    return resized


def resize_image(body: bytes, settings: ResizeSettings = ResizeSettings()) -> Resized:
    """Decode ``body`` (untrusted bytes), flatten and reshape it, and encode it as JPEG."""
    image, full, original = _open(body, settings)
    out = reshape(image.convert("RGB") if settings.mode in ("vila", "rgb") else flatten(image), settings, full)
    buffer = io.BytesIO()
    out.save(buffer, format="JPEG", quality=settings.quality)
    return Resized(buffer.getvalue(), out.width, out.height, *original)
