"""Grounding boxes as DataOptim writes them.

A box is ``[x1, y1, x2, y2]`` divided by the original image's width and height, clamped to
[0, 1] and rounded to three decimals, written with ", " between numbers as Python writes floats:
``[0.0, 0.106, 0.827, 1.0]`` (Shikra itself writes ``[0.000,0.106,...]`` without spaces; DataOptim's
files have the spaces, and its ``expand_to_square.py`` only finds boxes written so).

The expand-to-square space is the one LLaVA-1.5 trains in (``--image_aspect_ratio pad``: the image
padded to a square, centred): DataOptim's ``tools/expand_to_square.py`` takes a written box back to
pixels (``round(x * W)``, ``round(y * H)``), shifts the short axis by ``(long - short) // 2`` and
divides by ``max(W, H)``, rounding to three decimals. ``square`` does the same, from the written
(rounded) box, so that its numbers are DataOptim's to the digit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

SPACES = ("original", "square")
"""Which image a record's boxes are relative to: the original image, or the image padded to a square."""
BOX_TEXT = re.compile(r"\[[0-9.]+, [0-9.]+, [0-9.]+, [0-9.]+\]")
"""A written box, as DataOptim's ``expand_to_square.py`` finds them."""


def xywh_to_xyxy(box: Sequence[float]) -> list[float]:
    """COCO's ``[x, y, w, h]`` as ``[x1, y1, x2, y2]``."""
    x, y, w, h = box
    return [x, y, x + w, y + h]


def normalise(box: Sequence[float], width: int, height: int) -> list[float]:
    """A pixel ``[x1, y1, x2, y2]`` box divided by the image size, clamped to [0, 1], three decimals."""
    if width <= 0 or height <= 0:
        raise ValueError(f"image size {width}x{height} must be positive")
    scale = (width, height, width, height)
    return [round(min(max(v / s, 0.0), 1.0), 3) for v, s in zip(box, scale)]


def square(box: Sequence[float], width: int, height: int) -> list[float]:
    """A normalised box (``normalise``) in the space of the image padded to a square."""
    pixels = [round(box[0] * width), round(box[1] * height), round(box[2] * width), round(box[3] * height)]
    side = max(width, height)
    shift = (side - min(width, height)) // 2
    if width > height:
        pixels = [pixels[0], pixels[1] + shift, pixels[2], pixels[3] + shift]
    elif height > width:
        pixels = [pixels[0] + shift, pixels[1], pixels[2] + shift, pixels[3]]
    return [round(v / side, 3) for v in pixels]


def box_text(box: Sequence[float]) -> str:
    """``[0.0, 0.106, 0.827, 1.0]``: each number as Python writes the float."""
    return "[" + ", ".join(repr(float(v)) for v in box) + "]"


def place(box: Sequence[float], width: int, height: int, space: str) -> list[float]:
    """A pixel ``[x1, y1, x2, y2]`` box normalised in ``space`` (``SPACES``)."""
    if space not in SPACES:
        raise ValueError(f"box space must be one of {', '.join(SPACES)}, not {space!r}")
    box = normalise(box, width, height)
    return box if space == "original" else square(box, width, height)
