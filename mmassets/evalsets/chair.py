"""CHAIR: caption hallucination on COCO Karpathy val and test images (English; splits val, test).

One record per Karpathy val/test image of ``coco/dataset_coco.json``, in file order: context = a
caption prompt, ``text_label`` = the image's ground-truth objects from POPE's
``pope/coco_ground_truth_segmentation.json`` (matched by file name), ``image_id`` = the COCO file
name. Images the object file does not list, or lists with no objects, are skipped and counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mmassets.evalsets.base import EvalBenchmark, EvalPart, check_languages
from mmassets.sources import coco, pope

LANGUAGES = ("en",)
SPLITS = ("val", "test")
PROMPT = "A detailed description of the image:"
COLUMNS = ("context", "label", "image_id", "text_label", "split")


def chair_records(images: pd.DataFrame, objects: pd.DataFrame, split: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """Eval records of one Karpathy split (``read_karpathy`` rows) with the objects of
    ``read_segmentation``, and skips by reason."""
    by_image = dict(zip(objects["image"], objects["objects"]))
    rows, skipped = [], {}
    for filename in images.loc[images["split"] == split, "filename"]:
        found = by_image.get(filename)
        if not found:
            key = f"{split}: {'image not in the object file' if found is None else 'no objects'}"
            skipped[key] = skipped.get(key, 0) + 1
            continue
        rows.append((PROMPT, "", filename, list(found), split))
    return pd.DataFrame(rows, columns=list(COLUMNS), dtype=object), skipped


def build(raw_dir: Path, languages: Sequence[str]) -> dict[str, EvalPart]:
    """``{"en": EvalPart}`` with the val records, then the test records."""
    check_languages(languages, LANGUAGES, "CHAIR")
    if not languages:
        return {}
    images = coco.read_karpathy(Path(raw_dir) / coco.KARPATHY_FILE)
    objects = pope.read_segmentation(Path(raw_dir) / pope.SEGMENTATION_FILE)
    frames, skipped = [], {}
    for split in SPLITS:
        records, split_skipped = chair_records(images, objects, split)
        frames.append(records)
        skipped.update(split_skipped)
    return {"en": EvalPart(records=pd.concat(frames, ignore_index=True), skipped=skipped)}


BENCHMARK = EvalBenchmark(
    name="chair",
    description="CHAIR: captions of COCO Karpathy val/test images scored against each image's ground-truth "
                "objects (POPE's COCO segmentation objects) for object hallucination.",
    languages=LANGUAGES,
    build=build,
    image_path=coco.image_path,
    sources=("coco", "pope"),
)
