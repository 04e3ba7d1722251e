"""Deterministic little JPEGs for the sample profile."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw

JPEG_QUALITY = 85


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randrange(256), rng.randrange(256), rng.randrange(256))


def write_jpeg(path: Path, seed: int, *, size: tuple[int, int] = (96, 72)) -> None:
    """Draw a small real JPEG at ``path``, determined entirely by ``seed``.

    The picture is a background colour with a few random rectangles, ellipses and
    lines. It is saved with a fixed quality and no EXIF or timestamps, so the same
    seed gives the same bytes on every run. Parent folders are created.
    """
    rng = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size, _colour(rng))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(3, 6)):
        x0, x1 = sorted((rng.randrange(width), rng.randrange(width)))
        y0, y1 = sorted((rng.randrange(height), rng.randrange(height)))
        kind = rng.choice(("rectangle", "ellipse", "line"))
        if kind == "rectangle":
            draw.rectangle((x0, y0, x1, y1), fill=_colour(rng))
        elif kind == "ellipse":
            draw.ellipse((x0, y0, x1, y1), fill=_colour(rng))
        else:
            draw.line((x0, y0, x1, y1), fill=_colour(rng), width=rng.randint(1, 4))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="JPEG", quality=JPEG_QUALITY, optimize=False, progressive=False)
