"""xGQA: cross-lingual GQA question answering (IGLUE), plus GQA's English train set for fine-tuning.

Per language, split ``dev`` and ``test`` come from ``iglue/xGQA/annotations/few_shot/<lang>/{dev,test}.json``
(English too: the few-shot folder has ``en/``). English also gets split ``train`` from GQA's
``iglue/gqa/annotations/train.json`` (LXMERT format); its records carry the answer as ``label`` too,
since they are for fine-tuning. Every file is optional, but a language needs its dev or its test
file: the splits present are built and the absent ones listed. Context = the question, text_label = the answer, image_id =
``<imageId>.jpg`` under ``iglue/gqa/images/``; ``question_id`` is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mmassets.evalsets.base import (EvalBenchmark, EvalPart, RawInputError, build_each, check_languages,
                                    optional_file, present_files)
from mmassets.records import TaskRecords
from mmassets.sources import iglue

EXTRA_FIELDS = ("question_id",)
COLUMNS = ("context", "label", "image_id", "text_label", "split", *EXTRA_FIELDS)
TRAIN_LANGUAGE = "en"


def top_answer(label: dict[str, float]) -> str | None:
    """The answer with the highest score (ties: the first in dict order); None for an empty dict."""
    return max(label, key=label.__getitem__) if label else None


def gqa_train_records(frame: pd.DataFrame) -> TaskRecords:
    """Split ``train`` records from GQA train rows; questions without any answer are skipped."""
    rows, empty = [], 0
    for question_id, img_id, sent, label in frame[["question_id", "img_id", "sent", "label"]].itertuples(index=False):
        answer = top_answer(label)
        if answer is None:
            empty += 1
            continue
        rows.append((sent, answer, f"{img_id}.jpg", answer, "train", question_id))
    return TaskRecords(pd.DataFrame(rows, columns=list(COLUMNS), dtype=object),
                       {"train: empty label": empty} if empty else {})


def xgqa_records(frame: pd.DataFrame, split: str) -> pd.DataFrame:
    """Eval records (label empty) from the rows of one xGQA file, in file order."""
    rows = [(question, "", f"{image_id}.jpg", answer, split, question_id) for question_id, image_id, question, answer
            in frame[["question_id", "imageId", "question", "answer"]].itertuples(index=False)]
    return pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)


def language_part(raw_dir: Path, language: str) -> EvalPart:
    """The splits of one language whose files are present (GQA train only for English)."""
    splits = {split: iglue.xgqa_file(language, split) for split in iglue.XGQA_SPLITS}
    present, absent = present_files(raw_dir, splits, iglue.XGQA_HOW_TO_GET)
    frames, skipped = [], {}
    if language == TRAIN_LANGUAGE:
        path = optional_file(raw_dir, iglue.GQA_TRAIN_FILE, "split train (GQA's English train set)",
                             iglue.GQA_HOW_TO_GET, absent)
        if path is not None:
            train = gqa_train_records(iglue.read_gqa_train(path))
            frames.append(train.frame)
            skipped.update(train.skipped)
    frames += [xgqa_records(iglue.read_xgqa(path), split) for split, path in present.items()]
    return EvalPart(records=pd.concat(frames, ignore_index=True), skipped=skipped, absent=absent)


def build(raw_dir: Path, languages: Sequence[str]) -> dict[str, EvalPart | RawInputError]:
    """Records of the present splits of each requested language; a language with neither its dev
    nor its test file maps to the RawFileMissing naming them."""
    check_languages(languages, iglue.XGQA_LANGUAGES, "xGQA")
    return build_each(languages, lambda language: language_part(Path(raw_dir), language))


BENCHMARK = EvalBenchmark(
    name="xgqa",
    description="xGQA (IGLUE): GQA questions translated into 7 languages plus English; dev and test of the "
                "few-shot splits, and GQA's English train set (split train of en, label = answer).",
    languages=iglue.XGQA_LANGUAGES,
    build=build,
    image_path=iglue.gqa_image_path,
    extra_fields=EXTRA_FIELDS,
    sources=("gqa",),
)
