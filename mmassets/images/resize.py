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

The body is untrusted: Pillow's decompression-bomb check is on, and an image over ``max_pixels``
is refused before it is decoded. Nothing here touches the network or the file system.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image, ImageOps

MODES = ("mblip", "border", "keep_ratio", "center_crop", "no", "vila", "rgb")
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


def _open(body: bytes, settings: ResizeSettings) -> tuple[Image.Image, tuple[int, int]]:
    """The decoded image (a large JPEG decoded at a reduced scale that keeps at least ``size``
    pixels on the side the mode resizes by) and its size as published."""
    if not body:
        raise ImageRejected("empty body")
    try:
        image = Image.open(io.BytesIO(body))
    except Image.DecompressionBombError as exc:
        raise ImageRejected(f"decompression bomb: {exc}") from None
    except Image.UnidentifiedImageError:
        raise ImageRejected("not an image (no image format recognised)") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageRejected(f"not an image ({type(exc).__name__}: {exc})") from None
    width, height = image.size
    if width * height > settings.max_pixels:
        raise ImageRejected(f"{width}x{height} is over the {settings.max_pixels:,}-pixel limit")
    if image.format == "JPEG" and settings.mode != "no":
        # decode at the smallest JPEG scale (1/2, 1/4, 1/8) that still leaves the side the mode
        # resizes by at least ``size``: the longest side, or the shortest for center_crop
        side = min(width, height) if settings.mode in ("center_crop", "vila") else max(width, height)
        if side > 2 * settings.size:
            wanted = (math.ceil(settings.size * width / side), math.ceil(settings.size * height / side))
            image.draft(image.mode if image.mode in ("L", "RGB") else None, wanted)
    try:
        image.load()
    except Image.DecompressionBombError as exc:
        raise ImageRejected(f"decompression bomb: {exc}") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageRejected(f"truncated or corrupt ({type(exc).__name__}: {exc})") from None
    if settings.exif_transpose:
        image = ImageOps.exif_transpose(image)
    return image, (width, height)


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


def _longest_to(image: Image.Image, size: int) -> Image.Image:
    scale = size / max(image.size)
    target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(target, Image.Resampling.BICUBIC, reducing_gap=3.0)


def reshape(image: Image.Image, settings: ResizeSettings) -> Image.Image:
    size = settings.size
    if settings.mode in ("no", "rgb"):
        return image
    if settings.mode in ("mblip", "keep_ratio"):
        if max(image.size) <= size:
            return image
        shrunk = _longest_to(image, size)
        return _pad(shrunk, size) if settings.mode == "mblip" else shrunk
    if settings.mode == "vila":
        if min(image.size) <= size:
            return image
        w, h = image.size
        target = (int(size * w / h), size) if h < w else (size, int(size * h / w))
        return image.resize(target, Image.Resampling.BICUBIC, reducing_gap=3.0)
    if settings.mode == "border":
        return _pad(_longest_to(image, size) if max(image.size) != size else image, size)
    scale = size / min(image.size)  # center_crop
    resized = image.resize((max(size, round(image.width * scale)), max(size, round(image.height * scale))),
                           Image.Resampling.BICUBIC, reducing_gap=3.0)
    left, top = (resized.width - size) // 2, (resized.height - size) // 2
    return resized.crop((left, top, left + size, top + size))


def resize_image(body: bytes, settings: ResizeSettings = ResizeSettings()) -> Resized:
    """Decode ``body`` (untrusted bytes), flatten and reshape it, and encode it as JPEG."""
    image, (width, height) = _open(body, settings)
    out = reshape(image.convert("RGB") if settings.mode in ("vila", "rgb") else flatten(image), settings)
    buffer = io.BytesIO()
    out.save(buffer, format="JPEG", quality=settings.quality)
    return Resized(buffer.getvalue(), out.width, out.height, width, height)
