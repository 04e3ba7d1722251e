"""POPE (AoiDragon/POPE): the COCO question files and the ground-truth object file CHAIR uses.

Upstream formats, both JSON lines:

- ``pope/coco_pope_{random,popular,adversarial}.json`` (the repository's ``output/coco/``)::

      {"question_id": int, "image": "COCO_val2014_000000548882.jpg", "image_id": int,
       "text": "Is there a dining table in the image?", "label": "yes" | "no"}

- ``pope/coco_ground_truth_segmentation.json`` (the repository's ``segmentation/``), one line
  per COCO val2014 image, ``image`` being its file name::

      {"image": "COCO_val2014_000000131089.jpg", "objects": ["person", "baseball bat"]}

The images are COCO val2014's, ``coco/val2014/<image>`` under the raw root.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

import pandas as pd

from mmassets.sources.validation import RawFormatError, load_jsonl, require, safe_relative_path

SPLITS = ("random", "popular", "adversarial")
POPE_DIR = "pope"
SEGMENTATION_FILE = "pope/coco_ground_truth_segmentation.json"
IMAGE_DIR = "coco/val2014"
HOW_TO_GET = ("Get output/coco/coco_pope_{random,popular,adversarial}.json and "
              "segmentation/coco_ground_truth_segmentation.json from https://github.com/AoiDragon/POPE and put them "
              "in <raw root>/pope/; the images are COCO val2014's (http://images.cocodataset.org/zips/val2014.zip), "
              "unpacked to <raw root>/coco/val2014/.")
QUESTION_COLUMNS = ("question_id", "image", "text", "label")
SEGMENTATION_COLUMNS = ("image", "objects")


def pope_file(split: str) -> str:
    """The question file of one POPE split, relative to the raw root."""
    if split not in SPLITS:
        raise ValueError(f"unknown POPE split {split!r} (expected one of {', '.join(SPLITS)})")
    return f"{POPE_DIR}/coco_pope_{split}.json"


def _records(path: str | Path) -> list[tuple[str, object]]:
    """The file's records with their ``line N`` (blank lines count, as load_jsonl numbers them)."""
    records = load_jsonl(path, HOW_TO_GET)
    with Path(path).open("rb") as handle:
        numbers = [n for n, raw in enumerate(handle, start=1) if raw.strip()]
    return [(f"line {n}", record) for n, record in zip(numbers, records, strict=True)]


def read_questions(path: str | Path) -> pd.DataFrame:
    """One row per question line, in file order: question_id, image (file name), text, and label
    as found (any JSON value; the builder keeps only "yes"/"no")."""
    rows = []
    for where, record in _records(path):
        question_id = require(record, "question_id", int, path, where)
        image = safe_relative_path(require(record, "image", str, path, where), path, where, "image")
        text = require(record, "text", str, path, where)
        label = require(record, "label", object, path, where)
        rows.append((question_id, image, text, label))
    return pd.DataFrame(rows, columns=list(QUESTION_COLUMNS), dtype=object)


def read_segmentation(path: str | Path) -> pd.DataFrame:
    """One row per image line, in file order: image (file name, any folder part dropped) and its
    objects (list of str). An image listed twice is an error naming both lines."""
    rows, seen = [], {}
    for where, record in _records(path):
        image = safe_relative_path(require(record, "image", str, path, where), path, where, "image")
        image = posixpath.basename(image)
        objects = require(record, "objects", list, path, where)
        for k, item in enumerate(objects):
            if not isinstance(item, str):
                raise RawFormatError(path, f"expected a list of str, item {k} is {type(item).__name__}",
                                     record=where, field="objects")
        if image in seen:
            raise RawFormatError(path, f"image {image!r} also on {seen[image]}", record=where, field="image")
        seen[image] = where
        rows.append((image, list(objects)))
    return pd.DataFrame(rows, columns=list(SEGMENTATION_COLUMNS), dtype=object)


def image_path(raw_dir: str | Path, image_id: str) -> Path:
    """Where a COCO val2014 image file lies under the raw root."""
    return Path(raw_dir) / IMAGE_DIR / image_id
