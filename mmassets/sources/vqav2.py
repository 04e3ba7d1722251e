"""VQAv2: the question and annotation files of train2014/val2014, and their join on question_id.

Upstream formats (https://visualqa.org/download.html), one JSON object per file:

- ``vqav2/v2_OpenEnded_mscoco_<subset>_questions.json``::

      {"info", "task_type", "data_type", "data_subtype", "license",
       "questions": [{"image_id": int, "question": str, "question_id": int}]}

- ``vqav2/v2_mscoco_<subset>_annotations.json``::

      {"info", "license", "data_type", "data_subtype",
       "annotations": [{"question_id": int, "image_id": int, "question_type": str, "answer_type": str,
                        "multiple_choice_answer": str,
                        "answers": [{"answer": str, "answer_confidence": str, "answer_id": int}]}]}

Questions and annotations are matched by ``question_id``, never by list position. Images are COCO's:
``coco/<subset>/COCO_<subset>_%012d.jpg`` under the raw root.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mmassets.sources.validation import RawFormatError, load_json, require

SUBSETS = ("train2014", "val2014")
VQAV2_DIR = "vqav2"
HOW_TO_GET = ("Download the VQAv2 questions and annotations (v2_Questions_{Train,Val}_mscoco.zip, "
              "v2_Annotations_{Train,Val}_mscoco.zip) from https://visualqa.org/download.html and unpack the JSON "
              "files into <raw root>/vqav2/; the images are COCO 2014's (http://images.cocodataset.org/zips/), "
              "unpacked to <raw root>/coco/train2014/ and <raw root>/coco/val2014/.")
QUESTION_COLUMNS = ("question_id", "image_id", "question")
ANNOTATION_COLUMNS = ("question_id", "image_id", "multiple_choice_answer", "answers", "answer_type", "question_type")
JOINED_COLUMNS = ("question_id", "image_id", "question", "multiple_choice_answer", "answers", "answer_type",
                  "question_type")
UNMATCHED_REASONS = ("question without annotation", "annotation without question", "image_id differs")


def questions_file(subset: str) -> str:
    """The question file of ``subset`` (train2014/val2014), relative to the raw root."""
    _check_subset(subset)
    return f"{VQAV2_DIR}/v2_OpenEnded_mscoco_{subset}_questions.json"


def annotations_file(subset: str) -> str:
    """The annotation file of ``subset`` (train2014/val2014), relative to the raw root."""
    _check_subset(subset)
    return f"{VQAV2_DIR}/v2_mscoco_{subset}_annotations.json"


def image_file_name(image_id: int, subset: str) -> str:
    """COCO's file name of an image: ``COCO_<subset>_%012d.jpg``."""
    _check_subset(subset)
    return f"COCO_{subset}_{int(image_id):012d}.jpg"


def _check_subset(subset: str) -> None:
    if subset not in SUBSETS:
        raise ValueError(f"unknown VQAv2 subset {subset!r} (expected one of {', '.join(SUBSETS)})")


def _entries(path: str | Path, key: str) -> list:
    data = load_json(path, HOW_TO_GET)
    if not isinstance(data, dict):
        raise RawFormatError(path, f"expected a JSON object with {key!r}, got a {type(data).__name__}")
    return require(data, key, list, path, "top level")


def _unique_id(question_id: int, seen: dict[int, str], path: str | Path, where: str) -> None:
    if question_id in seen:
        raise RawFormatError(path, f"question_id {question_id} also in {seen[question_id]}", record=where,
                             field="question_id")
    seen[question_id] = where


def read_questions(path: str | Path) -> pd.DataFrame:
    """One row per question, in file order: question_id, image_id (int), question."""
    rows, seen = [], {}
    for i, record in enumerate(_entries(path, "questions")):
        where = f"questions[{i}]"
        question_id = require(record, "question_id", int, path, where)
        image_id = require(record, "image_id", int, path, where)
        question = require(record, "question", str, path, where)
        _unique_id(question_id, seen, path, where)
        rows.append((question_id, image_id, question))
    return pd.DataFrame(rows, columns=list(QUESTION_COLUMNS), dtype=object)


def read_annotations(path: str | Path) -> pd.DataFrame:
    """One row per annotation, in file order: question_id, image_id, multiple_choice_answer, answers
    (the ``answer`` strings in file order), answer_type and question_type (None where absent)."""
    rows, seen = [], {}
    for i, record in enumerate(_entries(path, "annotations")):
        where = f"annotations[{i}]"
        question_id = require(record, "question_id", int, path, where)
        image_id = require(record, "image_id", int, path, where)
        best = require(record, "multiple_choice_answer", str, path, where)
        answers = [require(a, "answer", str, path, f"{where}.answers[{k}]")
                   for k, a in enumerate(require(record, "answers", list, path, where))]
        kinds = [require(record, f, str, path, where) if f in record else None
                 for f in ("answer_type", "question_type")]
        _unique_id(question_id, seen, path, where)
        rows.append((question_id, image_id, best, answers, *kinds))
    return pd.DataFrame(rows, columns=list(ANNOTATION_COLUMNS), dtype=object)


def join_questions_annotations(questions: pd.DataFrame, annotations: pd.DataFrame
                               ) -> tuple[pd.DataFrame, dict[str, int]]:
    """Match each question with its annotation by ``question_id`` (never by position).

    Returns the joined rows (columns ``JOINED_COLUMNS``) in the questions' order, and how many were
    left out by reason (every key of ``UNMATCHED_REASONS``, zero included): questions without an
    annotation, annotations without a question, and pairs whose image_id differs (both left out,
    counted once). Both frames must have unique question ids, as the readers guarantee.
    """
    columns = {c: annotations[c].tolist() for c in ANNOTATION_COLUMNS}
    by_id = {qid: i for i, qid in enumerate(columns["question_id"])}
    asked = set(questions["question_id"].tolist())
    counts = dict.fromkeys(UNMATCHED_REASONS, 0)
    counts["annotation without question"] = sum(qid not in asked for qid in by_id)
    rows = []
    for qid, image_id, question in zip(questions["question_id"].tolist(), questions["image_id"].tolist(),
                                       questions["question"].tolist()):
        i = by_id.get(qid)
        if i is None:
            counts["question without annotation"] += 1
        elif columns["image_id"][i] != image_id:
            counts["image_id differs"] += 1
        else:
            rows.append((qid, image_id, question, columns["multiple_choice_answer"][i], list(columns["answers"][i]),
                         columns["answer_type"][i], columns["question_type"][i]))
    return pd.DataFrame(rows, columns=list(JOINED_COLUMNS), dtype=object), counts
