"""MSCOCO: the Karpathy split file ``coco/dataset_coco.json`` and the image folders.

Format: ``{"images": [{"filepath", "filename", "split", "cocoid", "sentences": [{"raw", ...}]}]}``;
train images lie in ``coco/train2014``, restval/val/test images in ``coco/val2014``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mmassets.sources.validation import RawFormatError, load_json, require, safe_relative_path

KARPATHY_FILE = "coco/dataset_coco.json"
IMAGE_DIR = "coco"
SPLITS = ("train", "restval", "val", "test")
HOW_TO_GET = ("Get dataset_coco.json from Karpathy's caption_datasets.zip (the 'Deep Visual-Semantic "
              "Alignments' release) and place it at <raw root>/coco/dataset_coco.json.")
COLUMNS = ("cocoid", "split", "filepath", "filename", "captions")


def read_karpathy(path: str | Path) -> pd.DataFrame:
    """One row per image: cocoid, split, filepath, filename and its raw captions (list of str)."""
    data = load_json(path, HOW_TO_GET)
    if not isinstance(data, dict):
        raise RawFormatError(path, f"expected a JSON object with 'images', got a {type(data).__name__}")
    images = require(data, "images", list, path, "top level")
    rows, seen = [], {}
    for i, image in enumerate(images):
        where = f"images[{i}]"
        cocoid = require(image, "cocoid", int, path, where)
        split = require(image, "split", str, path, where)
        if split not in SPLITS:
            raise RawFormatError(path, f"unknown split {split!r} (expected one of {', '.join(SPLITS)})",
                                 record=where, field="split")
        filepath = safe_relative_path(require(image, "filepath", str, path, where), path, where, "filepath")
        filename = safe_relative_path(require(image, "filename", str, path, where), path, where, "filename")
        sentences = require(image, "sentences", list, path, where)
        captions = [require(s, "raw", str, path, f"{where}.sentences[{j}]") for j, s in enumerate(sentences)]
        if cocoid in seen:
            raise RawFormatError(path, f"cocoid {cocoid} also in images[{seen[cocoid]}]", record=where, field="cocoid")
        seen[cocoid] = i
        rows.append((cocoid, split, filepath, filename, captions))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def relative_image(image_id: str) -> str:
    """A COCO image's path under the ``coco`` image root: ``COCO_<folder>_<id>.jpg`` names its folder
    (train2014/val2014), so ``COCO_train2014_x.jpg`` is ``train2014/COCO_train2014_x.jpg``."""
    parts = image_id.split("_")
    folder = parts[1] if len(parts) >= 3 and parts[0] == "COCO" else ""
    return f"{folder}/{image_id}" if folder else image_id


def image_path(raw_dir: str | Path, image_id: str) -> Path:
    """Where a COCO image file lies under the raw root (see ``relative_image``)."""
    return Path(raw_dir) / IMAGE_DIR / relative_image(image_id)


IMAGE_FOLDERS = ("train2014", "val2014")


def image_file_name(cocoid: int, folder: str = "train2014") -> str:
    """COCO 2014's file name of an image: ``COCO_<folder>_%012d.jpg``."""
    return f"COCO_{folder}_{int(cocoid):012d}.jpg"


def find_image(raw_dir: str | Path, cocoid: int) -> str | None:
    """The 2014 file name of COCO image ``cocoid`` that exists under the raw root, train2014 first
    (datasets built on COCO 2017, such as A-OKVQA and LLaVA, name images by id only, and 2017's
    train split draws on both 2014 folders); None when neither file is there."""
    for folder in IMAGE_FOLDERS:
        name = image_file_name(cocoid, folder)
        if (Path(raw_dir) / IMAGE_DIR / folder / name).is_file():
            return name
    return None
