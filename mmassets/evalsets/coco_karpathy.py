"""COCO Karpathy val and test: English captioning eval records and their references."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mmassets.evalsets.base import EvalBenchmark, EvalPart
from mmassets.evalsets.coco_reference import build_reference, caption_eval_records
from mmassets.sources import coco
from mmassets.tasks.captions import clean_caption

EVAL_SPLITS = ("val", "test")


def karpathy_eval(images: pd.DataFrame, split: str) -> tuple[pd.DataFrame, dict]:
    """Eval records (one per image, in file order) and the COCO-format reference for ``split``."""
    chosen = images[images["split"] == split]
    image_ids = chosen["filename"].tolist()
    refs = [[c for c in map(clean_caption, caps) if c] for caps in chosen["captions"]]
    records = caption_eval_records(image_ids, "en", "English")
    records["split"] = split
    return records, build_reference(image_ids, refs)


def build(raw_dir: Path, languages: Sequence[str]) -> dict[str, EvalPart]:
    images = coco.read_karpathy(Path(raw_dir) / coco.KARPATHY_FILE)
    built = [karpathy_eval(images, split) for split in EVAL_SPLITS]
    records = pd.concat([records for records, _ in built], ignore_index=True)
    return {"en": EvalPart(records, {split: ref for split, (_, ref) in zip(EVAL_SPLITS, built)})}


BENCHMARK = EvalBenchmark(
    name="coco_karpathy",
    description="COCO Karpathy val and test captioning (English): eval records and COCO-format references.",
    languages=("en",), build=build, image_path=coco.image_path, captioning=True,
    sources=("coco",),
)
