"""xGQA: cross-lingual GQA question answering (IGLUE), plus GQA's English train set for fine-tuning.

Per language, split ``dev`` and ``test`` come from ``iglue/xGQA/annotations/few_shot/<lang>/{dev,test}.json``
(English too: the few-shot folder has ``en/``). English also gets split ``train`` from GQA's
``iglue/gqa/annotations/train.json`` (LXMERT format); its records carry the answer as ``label`` too,
since they are for fine-tuning. Context = the question, text_label = the answer, image_id =
``<imageId>.jpg`` under ``iglue/gqa/images/``; ``question_id`` is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mmassets.evalsets.base import EvalBenchmark, EvalPart, check_languages
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


def build(raw_dir: Path, languages: Sequence[str]) -> dict[str, EvalPart]:
    """Records of every split of each requested language; GQA train is read only for English."""
    raw_dir = Path(raw_dir)
    parts = {}
    check_languages(languages, iglue.XGQA_LANGUAGES, "xGQA")
    for language in languages:
        frames, skipped = [], {}
        if language == TRAIN_LANGUAGE:
            train = gqa_train_records(iglue.read_gqa_train(raw_dir / iglue.GQA_TRAIN_FILE))
            frames.append(train.frame)
            skipped.update(train.skipped)
        for split in iglue.XGQA_SPLITS:
            frames.append(xgqa_records(iglue.read_xgqa(raw_dir / iglue.xgqa_file(language, split)), split))
        parts[language] = EvalPart(records=pd.concat(frames, ignore_index=True), skipped=skipped)
    return parts


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
