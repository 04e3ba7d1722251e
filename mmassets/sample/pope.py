"""Sample POPE and CHAIR objects: ``pope/coco_pope_{random,popular,adversarial}.json`` and
``pope/coco_ground_truth_segmentation.json``, in the JSON-lines formats of AoiDragon/POPE.

The POPE questions are about a few COCO val2014 images of this generator's own, with COCO ids below
``MAX_OWN_ID`` (the COCO sample draws its ids from 100000 up, the VQAv2 sample from 50000 up), whose
JPEGs it writes under ``coco/val2014/``. The object file lists those images and the COCO sample's
val2014 images (restval, val and test of its Karpathy file; read from ``coco/dataset_coco.json``
when the COCO sample is already there, else regenerated for the same seed), with objects taken from
their captions. One Karpathy val image has an empty object list and one test image is left out, as
the real data has images without objects.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Any

from mmassets.sample.coco import write_coco
from mmassets.sample.images import write_jpeg

SPLITS = ("random", "popular", "adversarial")
POPE_IMAGES = 3
MAX_OWN_ID = 50000
SAMPLES_PER_IMAGE = 3
IMAGE_SIZE = (48, 36)

#: COCO categories, most frequent first (the order POPE's "popular" negatives follow).
CATEGORIES = (
    "person", "dining table", "chair", "car", "cup", "bottle", "bowl", "handbag", "truck", "backpack",
    "bench", "book", "couch", "cell phone", "bed", "tv", "clock", "sink", "bus", "bicycle", "oven",
    "dog", "umbrella", "potted plant", "traffic light", "pizza", "laptop", "remote", "vase", "cat",
    "motorcycle", "knife", "fork", "spoon", "orange", "train", "surfboard", "kite", "horse", "bird",
    "boat", "skateboard", "sports ball", "tennis racket", "toilet", "banana", "giraffe", "elephant",
    "zebra", "cow", "sheep", "teddy bear", "frisbee", "fire hydrant", "stop sign", "apple", "carrot",
)
#: Words of the COCO sample's captions and the categories they show.
_CAPTION_OBJECTS = {
    "man": ("person",), "woman": ("person",), "boy": ("person",), "girl": ("person",), "child": ("person",),
    "person": ("person",), "people": ("person",), "skateboarder": ("person", "skateboard"),
    "surfer": ("person", "surfboard"), "dog": ("dog",), "cat": ("cat",), "horse": ("horse",), "bird": ("bird",),
    "cow": ("cow",), "giraffe": ("giraffe",), "elephant": ("elephant",), "zebra": ("zebra",),
    "teddy bear": ("teddy bear",), "bus": ("bus",), "train": ("train",), "motorcycle": ("motorcycle",),
    "truck": ("truck",), "bicycle": ("bicycle",), "bench": ("bench",), "fire hydrant": ("fire hydrant",),
    "frisbee": ("frisbee",), "parking lot": ("car",), "living room": ("couch",), "kitchen counter": ("sink",),
}


def _article(name: str) -> str:
    return "an" if name[0] in "aeiou" else "a"


def _coco_sample(raw_dir: Path, seed: int) -> list[dict[str, Any]]:
    """The images of the COCO sample's Karpathy file for ``seed``."""
    path = raw_dir / "coco" / "dataset_coco.json"
    if not path.is_file():
        with tempfile.TemporaryDirectory() as tmp:
            write_coco(Path(tmp), seed)
            return json.loads((Path(tmp) / "coco" / "dataset_coco.json").read_text(encoding="utf-8"))["images"]
    return json.loads(path.read_text(encoding="utf-8"))["images"]


def _caption_objects(captions: list[str]) -> list[str]:
    text = " ".join(c.lower() for c in captions)
    found: list[str] = []
    for word, categories in _CAPTION_OBJECTS.items():
        if f" {word}" in f" {text}":
            found += [c for c in categories if c not in found]
    return found


def _questions(image: str, cocoid: int, objects: list[str], negatives: list[str], start: int) -> list[dict]:
    """POPE's lines for one image: the positives ("yes") first, then the negatives ("no")."""
    asked = [(o, "yes") for o in objects] + [(o, "no") for o in negatives]
    return [{"question_id": start + n, "image": image, "image_id": cocoid,
             "text": f"Is there {_article(name)} {name} in the image?", "label": label}
            for n, (name, label) in enumerate(asked)]


def _negatives(split: str, objects: list[str], co_occur: Counter, rng: random.Random) -> list[str]:
    absent = [c for c in CATEGORIES if c not in objects]
    if split == "random":
        return rng.sample(absent, SAMPLES_PER_IMAGE)
    if split == "popular":
        return absent[:SAMPLES_PER_IMAGE]
    score = {c: sum(co_occur[frozenset((c, o))] for o in objects) for c in absent}
    return sorted(absent, key=lambda c: (-score[c], CATEGORIES.index(c)))[:SAMPLES_PER_IMAGE]


def write_pope(raw_dir: Path, seed: int = 0) -> None:
    """Write the three POPE question files, the object file and the JPEGs of POPE's own images."""
    rng = random.Random(f"pope-{seed}")
    raw_dir = Path(raw_dir)
    pope_dir = raw_dir / "pope"
    pope_dir.mkdir(parents=True, exist_ok=True)

    # the object file: the COCO sample's val2014 images (objects from captions) and POPE's own images
    lines: list[dict[str, Any]] = []
    coco_images = [img for img in _coco_sample(raw_dir, seed) if img["filepath"] == "val2014"]
    empty = rng.choice([img["filename"] for img in coco_images if img["split"] == "val"])
    left_out = rng.choice([img["filename"] for img in coco_images if img["split"] == "test"])
    for img in coco_images:
        if img["filename"] != left_out:
            objects = [] if img["filename"] == empty else _caption_objects([s["raw"] for s in img["sentences"]])
            lines.append({"image": img["filename"], "objects": objects})
    own = []
    for cocoid in sorted(rng.sample(range(1, MAX_OWN_ID), POPE_IMAGES)):
        filename = f"COCO_val2014_{cocoid:012d}.jpg"
        objects = rng.sample(CATEGORIES[:30], rng.randint(SAMPLES_PER_IMAGE, SAMPLES_PER_IMAGE + 2))
        own.append((filename, cocoid, objects))
        lines.append({"image": filename, "objects": objects})
        write_jpeg(raw_dir / "coco" / "val2014" / filename, seed * 1_000_003 + cocoid, size=IMAGE_SIZE)
    rng.shuffle(lines)
    _write_lines(pope_dir / "coco_ground_truth_segmentation.json", lines)

    co_occur = Counter(frozenset(pair) for line in lines for pair in combinations(line["objects"], 2))
    for split in SPLITS:
        questions: list[dict] = []
        for filename, cocoid, objects in own:
            positives = rng.sample(objects, SAMPLES_PER_IMAGE)
            negatives = _negatives(split, objects, co_occur, rng)
            questions += _questions(filename, cocoid, positives, negatives, len(questions))
        _write_lines(pope_dir / f"coco_pope_{split}.json", questions)


def _write_lines(path: Path, records: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
