"""POPE: object-hallucination yes/no questions on COCO val2014 (English; splits random, popular,
adversarial).

One record per line of ``pope/coco_pope_<split>.json``, in file order: context = the question text,
``text_label`` = "yes" or "no" (any other label is skipped and counted), ``image_id`` = the COCO
file name, plus the upstream ``question_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mmassets.evalsets.base import EvalBenchmark, EvalPart, check_languages, present_files
from mmassets.sources import pope

LANGUAGES = ("en",)
LABELS = ("yes", "no")
COLUMNS = ("context", "label", "image_id", "text_label", "split", "question_id")


def pope_records(questions: pd.DataFrame, split: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """Eval records of one split from ``read_questions``'s rows, and skips by reason."""
    rows, skipped = [], {}
    for question_id, image, text, label in zip(questions["question_id"], questions["image"], questions["text"],
                                               questions["label"]):
        if not isinstance(label, str) or label not in LABELS:
            key = f"{split}: label not yes/no"
            skipped[key] = skipped.get(key, 0) + 1
            continue
        rows.append((text, "", image, label, split, question_id))
    return pd.DataFrame(rows, columns=list(COLUMNS), dtype=object), skipped


def build(raw_dir: Path, languages: Sequence[str]) -> dict[str, EvalPart]:
    """``{"en": EvalPart}`` with the records of every split whose file is present, in the order of
    ``pope.SPLITS`` (the absent ones listed; none present is a RawFileMissing)."""
    check_languages(languages, LANGUAGES, "POPE")
    if not languages:
        return {}
    present, absent = present_files(Path(raw_dir), {split: pope.pope_file(split) for split in pope.SPLITS},
                                    pope.HOW_TO_GET)
    frames, skipped = [], {}
    for split, path in present.items():
        records, split_skipped = pope_records(pope.read_questions(path), split)
        frames.append(records)
        skipped.update(split_skipped)
    return {"en": EvalPart(records=pd.concat(frames, ignore_index=True), skipped=skipped, absent=absent)}


BENCHMARK = EvalBenchmark(
    name="pope",
    description="POPE: yes/no object-existence questions on COCO val2014 images (random, popular and "
                "adversarial negative sampling), for object hallucination.",
    languages=LANGUAGES,
    build=build,
    image_path=pope.image_path,
    extra_fields=("question_id",),
    sources=("pope",),
)
