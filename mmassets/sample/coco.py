"""Sample MSCOCO: a Karpathy-split ``coco/dataset_coco.json`` plus its JPEGs."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

from mmassets.sample.images import write_jpeg

SPLIT_COUNTS: dict[str, int] = {"train": 20, "restval": 8, "val": 6, "test": 6}
CAPTIONS_PER_IMAGE = 5

#: Subjects grouped with adjectives that suit them, as ``(adjectives, nouns)``.
_SUBJECTS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("young", "old", "tall", "happy", "little", "smiling"),
     ("man", "woman", "boy", "girl", "child", "person", "skateboarder", "surfer")),
    (("brown", "small", "large", "white", "black", "spotted", "fluffy", "striped", "grey"),
     ("dog", "cat", "horse", "bird", "cow", "giraffe", "elephant", "zebra", "teddy bear")),
    (("red", "yellow", "blue", "old", "large", "white", "small"),
     ("bus", "train", "motorcycle", "truck", "bicycle")),
)
_ACTIONS = (
    "running along", "sitting on", "standing next to", "walking across", "resting in",
    "parked near", "playing on", "waiting by", "riding down", "looking out over",
    "lying on", "moving through",
)
_PLACES = (
    "sandy beach", "busy city street", "grassy field", "wooden bench", "kitchen counter",
    "dirt road", "snowy hill", "park", "train station", "living room", "parking lot",
    "river bank", "tennis court", "fenced pasture",
)
_PLACE_ADJECTIVES = ("", "", "quiet", "crowded", "wide", "muddy", "sunny", "empty", "green")
_EXTRAS = (
    "", "", "on a sunny day", "near a group of people", "with trees in the background",
    "under a cloudy sky", "at night", "while people watch", "next to a red fire hydrant",
    "in front of an old brick building", "with a frisbee nearby",
)


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _caption(rng: random.Random) -> str:
    """One clean English caption of 8 to 20 words."""
    adjectives, nouns = rng.choice(_SUBJECTS)
    adjective = rng.choice(adjectives)
    place_adjective = rng.choice(_PLACE_ADJECTIVES)
    place = f"{place_adjective} {rng.choice(_PLACES)}".strip()
    words = [_article(adjective), adjective, rng.choice(nouns), rng.choice(_ACTIONS)]
    words += ["the" if rng.random() < 0.3 else _article(place), place]
    extra = rng.choice(_EXTRAS)
    text = " ".join(words)
    if extra or len(text.split()) < 8:
        text += " " + (extra or rng.choice([e for e in _EXTRAS if e]))
    return text[0].upper() + text[1:] + "."


def _add_quirks(raw: str, rng: random.Random) -> str:
    """Give some captions the quirks real raw COCO captions have."""
    if rng.random() < 0.15:
        raw = raw[0].lower() + raw[1:]
    if rng.random() < 0.2:
        raw = raw[:-1]
    if rng.random() < 0.1:
        raw = raw.replace(" ", "  ", 1)
    roll = rng.random()
    if roll < 0.3:
        raw += " "
    elif roll < 0.35:
        raw += "\n"
    return raw


def tokenize(raw: str) -> list[str]:
    """Karpathy-style tokens: lower-cased words without punctuation."""
    return re.findall(r"[a-z0-9]+", raw.lower())


def write_coco(raw_dir: Path, seed: int = 0) -> None:
    """Write ``coco/dataset_coco.json`` and every image it names under ``raw_dir``."""
    rng = random.Random(seed)
    coco_dir = Path(raw_dir) / "coco"
    splits = [split for split, count in SPLIT_COUNTS.items() for _ in range(count)]
    rng.shuffle(splits)
    cocoids = rng.sample(range(100000, 600000), len(splits))
    sentids = rng.sample(range(100000, 900000), len(splits) * CAPTIONS_PER_IMAGE)
    images: list[dict[str, Any]] = []
    for imgid, (split, cocoid) in enumerate(zip(splits, cocoids)):
        filepath = "train2014" if split == "train" else "val2014"
        filename = f"COCO_{filepath}_{cocoid:012d}.jpg"
        ids = sentids[imgid * CAPTIONS_PER_IMAGE:(imgid + 1) * CAPTIONS_PER_IMAGE]
        sentences = []
        for sentid in ids:
            raw = _add_quirks(_caption(rng), rng)
            sentences.append({"tokens": tokenize(raw), "raw": raw, "imgid": imgid, "sentid": sentid})
        images.append({
            "filepath": filepath,
            "sentids": ids,
            "filename": filename,
            "imgid": imgid,
            "split": split,
            "sentences": sentences,
            "cocoid": cocoid,
        })
        write_jpeg(coco_dir / filepath / filename, seed * 1_000_003 + cocoid)
    coco_dir.mkdir(parents=True, exist_ok=True)
    with open(coco_dir / "dataset_coco.json", "w", encoding="utf-8", newline="\n") as f:
        json.dump({"images": images, "dataset": "coco"}, f, ensure_ascii=False)
