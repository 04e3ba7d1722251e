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


def karpathy_images(path: str | Path, how_to_get: str, id_field: str, splits: tuple[str, ...],
                    fields: tuple[str, ...]) -> list[tuple]:
    """The images of a Karpathy split file (``dataset_coco.json``, ``dataset_flickr30k.json``): per
    image, in file order, its ``id_field`` (an int, unique), split, ``fields`` (safe relative paths)
    and its captions (each sentence's ``raw``)."""
    data = load_json(path, how_to_get)
    if not isinstance(data, dict):
        raise RawFormatError(path, f"expected a JSON object with 'images', got a {type(data).__name__}")
    rows, seen = [], {}
    for i, image in enumerate(require(data, "images", list, path, "top level")):
        where = f"images[{i}]"
        image_id = require(image, id_field, int, path, where)
        split = require(image, "split", str, path, where)
        if split not in splits:
            raise RawFormatError(path, f"unknown split {split!r} (expected one of {', '.join(splits)})",
                                 record=where, field="split")
        paths = [safe_relative_path(require(image, f, str, path, where), path, where, f) for f in fields]
        sentences = require(image, "sentences", list, path, where)
        captions = [require(s, "raw", str, path, f"{where}.sentences[{j}]") for j, s in enumerate(sentences)]
        if image_id in seen:
            raise RawFormatError(path, f"{id_field} {image_id} also in {seen[image_id]}", record=where, field=id_field)
        seen[image_id] = where
        rows.append((image_id, split, *paths, captions))
    return rows


def read_karpathy(path: str | Path) -> pd.DataFrame:
    """One row per image: cocoid, split, filepath, filename and its raw captions (list of str)."""
    rows = karpathy_images(path, HOW_TO_GET, "cocoid", SPLITS, ("filepath", "filename"))
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
