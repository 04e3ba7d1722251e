"""Sample BLIP web captions: ``blip/ccs_synthetic_filtered_large.json`` in BLIP's format (a JSON list
of ``{"url", "caption"}``) and, in ``sample_web/``, the images its URLs stand for, which the
sample's local web server serves (``mmassets.sample.web_server``).

The captions are built so that concept-balanced sampling has work to do: every one of
``SAMPLED`` captions names one of four places ten times over (kept: 10 >= the minimum), its
subject at most five times (skipped); ``UNSAMPLED`` more name neither and fall out of the sample.
The images are of every kind the resize rule distinguishes (larger, smaller, alpha, grey, a large
JPEG that decodes at reduced size), and four URLs misbehave: a 404, a 500, a slow answer and a
corrupt body.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

from PIL import Image, ImageDraw

from mmassets.sample.web_server import SAMPLE_HOST, SERVER_FOLDER
from mmassets.sources.blip import CAPTIONS_FILE

SAMPLED = 40
UNSAMPLED = 6
NOT_FOUND, SERVER_ERROR, SLOW, CORRUPT = 3, 7, 11, 15
"""Positions (in the caption file) of the misbehaving URLs; all are in the sample."""

_PLACES = ("beach", "street", "park", "kitchen")
_SUBJECTS = ("dog", "cat", "man", "woman", "horse", "bicycle", "girl", "boy")
_VERBS = ("standing", "waiting", "resting", "sitting")
_IMAGE_KINDS = ((320, 240, "RGB"), (200, 150, "RGB"), (300, 300, "RGBA"), (180, 120, "L"), (1024, 576, "RGB"))


def _picture(rng: random.Random, width: int, height: int, mode: str) -> bytes:
    image = Image.new("RGBA" if mode == "RGBA" else "RGB", (width, height),
                      (rng.randrange(256), rng.randrange(256), rng.randrange(256), 0 if mode == "RGBA" else 255))
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        x0, x1 = sorted((rng.randrange(width), rng.randrange(width)))
        y0, y1 = sorted((rng.randrange(height), rng.randrange(height)))
        draw.rectangle((x0, y0, x1, y1), fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256), 255))
    out = io.BytesIO()
    if mode == "RGBA":
        image.save(out, format="PNG", optimize=False)
    else:
        image.convert(mode).save(out, format="JPEG", quality=90, optimize=False, progressive=False)
    return out.getvalue()


def _url(position: int) -> str:
    name = f"{position:03d}.jpg"
    if position == NOT_FOUND:
        return f"{SAMPLE_HOST}img/gone-{name}"
    if position == SERVER_ERROR:
        return f"{SAMPLE_HOST}fail/{name}"
    if position == SLOW:
        return f"{SAMPLE_HOST}slow/{name}"
    return f"{SAMPLE_HOST}img/{name}"


def write_web_captions(raw_dir: Path, seed: int) -> None:
    rng = random.Random(seed * 7919 + 12)
    captions = [f"a {_SUBJECTS[(i // 4) % 8]} {_VERBS[i // 32]} on the {_PLACES[i % 4]}" for i in range(SAMPLED)]
    captions += [f"a vase of {colour} flowers" for colour in ("red", "blue", "white", "pink", "yellow", "orange")]
    rng.shuffle(captions)
    # the misbehaving positions must hold sampled captions
    for position in (NOT_FOUND, SERVER_ERROR, SLOW, CORRUPT):
        if "vase" in captions[position]:
            other = next(i for i in range(len(captions) - 1, -1, -1) if "vase" not in captions[i]
                         and i not in (NOT_FOUND, SERVER_ERROR, SLOW, CORRUPT))
            captions[position], captions[other] = captions[other], captions[position]
    folder = raw_dir / SERVER_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for position in range(len(captions)):
        if position == NOT_FOUND:
            continue
        body = b"this is not an image\n" * 20 if position == CORRUPT else \
            _picture(rng, *_IMAGE_KINDS[position % len(_IMAGE_KINDS)])
        (folder / f"{position:03d}.jpg").write_bytes(body)
    records = [{"url": _url(position), "caption": caption} for position, caption in enumerate(captions)]
    path = raw_dir / CAPTIONS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
