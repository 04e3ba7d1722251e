"""COCO Karpathy val and test: English captioning eval records and their references."""

from __future__ import annotations

import pandas as pd

from mmassets.evalsets.coco_reference import build_reference, caption_eval_records
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
