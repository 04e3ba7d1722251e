"""A-OKVQA: multiple-choice questions about COCO 2017 images, each with crowd-written rationales.

Upstream format (https://github.com/allenai/aokvqa, ``aokvqa_v1p0_<split>.json``), a JSON list::

    [{"split": "train", "image_id": 299207, "question_id": "22MexNkBPpdZGX6sxbxVBH",
      "question": "What is the man by the bags awaiting?",
      "choices": ["skateboarder", "train", "delivery", "cab"], "correct_choice_idx": 3,
      "direct_answers": ["ride", "ride", "bus", "taxi", "travelling", "traffic", "taxi", "cab", "cab", "his ride"],
      "difficult_direct_answer": false,
      "rationales": ["A train would not be on the street, ...", "He has bags as if ...", "He looks to be ..."]}]

``image_id`` is a COCO 2017 id (``train2017/%012d.jpg``); the test split has no ``correct_choice_idx``,
``direct_answers`` nor ``rationales``. Images are looked up under the raw root's COCO 2014 folders
(``mmassets.sources.coco.find_image``), which hold the same pictures.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from mmassets.sources.validation import RawFormatError, load_json, require

TRAIN_FILE = "aokvqa/aokvqa_v1p0_train.json"
VAL_FILE = "aokvqa/aokvqa_v1p0_val.json"
TEST_FILE = "aokvqa/aokvqa_v1p0_test.json"
SPLITS = ("train", "val", "test")
HOW_TO_GET = ("Download https://prior-datasets.s3.us-east-2.amazonaws.com/aokvqa/aokvqa_v1p0.tar.gz "
              "(see https://github.com/allenai/aokvqa) and unpack its JSON files into <raw root>/aokvqa/; the "
              "images are COCO's (http://images.cocodataset.org/zips/), unpacked to <raw root>/coco/train2014/ "
              "and <raw root>/coco/val2014/.")
COLUMNS = ("question_id", "image_id", "question", "choices", "correct_choice_idx", "direct_answers", "rationales",
           "split")


def read_aokvqa(path: str | Path) -> pd.DataFrame:
    """One row per question, in file order: question_id, image_id (int), question, choices,
    correct_choice_idx (None where absent or null), direct_answers, rationales (lists of str; empty
    where a test-split record has none) and split."""
    data = load_json(path, HOW_TO_GET)
    if not isinstance(data, list):
        raise RawFormatError(path, f"expected a JSON list of questions, got a {type(data).__name__}")
    rows, seen = [], {}
    for i, record in enumerate(data):
        where = f"[{i}]"
        split = require(record, "split", str, path, where)
        if split not in SPLITS:
            raise RawFormatError(path, f"unknown split {split!r} (expected one of {', '.join(SPLITS)})",
                                 record=where, field="split")
        image_id = require(record, "image_id", int, path, where)
        question_id = require(record, "question_id", str, path, where)
        question = require(record, "question", str, path, where)
        choices = _strings(record, "choices", path, where)
        correct = _correct_choice(record, len(choices), path, where)
        optional = split == "test"
        direct_answers = _strings(record, "direct_answers", path, where, optional=optional)
        rationales = _strings(record, "rationales", path, where, optional=optional)
        if question_id in seen:
            raise RawFormatError(path, f"question_id {question_id!r} also in {seen[question_id]}", record=where,
                                 field="question_id")
        seen[question_id] = where
        rows.append((question_id, image_id, question, choices, correct, direct_answers, rationales, split))
    return pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)


def _strings(record: dict, field: str, path: str | Path, where: str, *, optional: bool = False) -> list[str]:
    """``record[field]`` as a list of strings; absent gives [] where ``optional``."""
    if optional and field not in record:
        return []
    values = require(record, field, list, path, where)
    for k, value in enumerate(values):
        if not isinstance(value, str):
            raise RawFormatError(path, f"item {k}: expected str, got {type(value).__name__}", record=where,
                                 field=field)
    return list(values)


def _correct_choice(record: dict, n_choices: int, path: str | Path, where: str) -> int | None:
    """The index of the correct choice, None where absent or null; it must index ``choices``."""
    if record.get("correct_choice_idx") is None:
        return None
    index = require(record, "correct_choice_idx", int, path, where)
    if not 0 <= index < n_choices:
        raise RawFormatError(path, f"{index} is outside the {n_choices} choices", record=where,
                             field="correct_choice_idx")
    return index


def answers_held(questions: pd.DataFrame, *, rationales: bool = True) -> str:
    """How many of ``questions`` (``read_aokvqa``'s frame) have a correct choice (and rationales,
    where ``rationales``), in words, with what the missing ones suggest: a file of the test split
    (which publishes neither) read in the place of the train file. For the message of a task that
    made nothing from them."""
    what = "a correct choice and rationales" if rationales else "a correct choice"
    has = questions["correct_choice_idx"].map(lambda c: c is not None and not pd.isna(c))
    if rationales:
        has &= questions["rationales"].map(len) > 0
    text = f"raw/aokvqa: {int(has.sum())} of {len(questions)} questions have {what}"
    splits = Counter(questions["split"])
    if splits.get("test"):
        shown = ", ".join(f"{count} of split {name!r}" for name, count in sorted(splits.items()))
        text += (f" ({shown}; the test split publishes no answers nor rationales): is "
                 f"{Path(TEST_FILE).name} in the place of the train file {TRAIN_FILE}?")
    return text
