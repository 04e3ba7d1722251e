"""OK-VQA: outside-knowledge questions about COCO 2014 images, in the VQA file format.

Upstream files (https://okvqa.allenai.org/download.html; ``okvqa/`` under the raw root):

- ``okvqa/OpenEnded_mscoco_train2014_questions.json``: VQA's question format,
  ``{"questions": [{"image_id": int, "question": str, "question_id": int}], ...}``; read by
  ``mmassets.sources.vqav2.read_questions`` unchanged.
- ``okvqa/mscoco_train2014_annotations.json``: VQA's annotation format **without**
  ``multiple_choice_answer``::

      {"annotations": [{"image_id": int, "question_id": int, "question_type": "eight", "answer_type": "other",
                        "confidence": int,
                        "answers": [{"answer_id": int, "raw_answer": str, "answer_confidence": "yes", "answer": str}]}]}

  (ten answers each). ``vqav2.read_annotations`` requires ``multiple_choice_answer`` and so fails on
  OK-VQA's file; ``read_okvqa_annotations`` reads the same columns with ``multiple_choice_answer``
  None where absent. ``read_okvqa`` joins the two on ``question_id`` with
  ``vqav2.join_questions_annotations`` (never by position).

Images are COCO train2014's, ``coco/train2014/COCO_train2014_%012d.jpg``. DataOptim counts 9,009
train questions on 8,998 images.

Unverified upstream: the publisher's page is not among the sources read; the file names and the
annotation layout (no ``multiple_choice_answer``; ``raw_answer``/``answer_confidence`` per answer)
come from third-party loaders (Big Vision's OK-VQA builder, LAVIS-style converters that compute a
most-common answer because none is given). Which of the ten answers DataOptim used is unverified.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mmassets.sources import vqav2
from mmassets.sources.validation import EMPTY_HINT, RawFileMissing, RawFormatError, load_json, require

OKVQA_DIR = "okvqa"
QUESTIONS_FILE = "okvqa/OpenEnded_mscoco_train2014_questions.json"
ANNOTATIONS_FILE = "okvqa/mscoco_train2014_annotations.json"
HOW_TO_GET = ("Download OpenEnded_mscoco_train2014_questions.json.zip and mscoco_train2014_annotations.json.zip from "
              "https://okvqa.allenai.org/download.html and unpack both JSON files into <raw root>/okvqa/; the images "
              "are COCO train2014's (http://images.cocodataset.org/zips/train2014.zip), in <raw root>/coco/train2014/.")
QUESTION_COLUMNS = vqav2.QUESTION_COLUMNS
ANNOTATION_COLUMNS = vqav2.ANNOTATION_COLUMNS
JOINED_COLUMNS = vqav2.JOINED_COLUMNS


def _present(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise RawFileMissing(path, HOW_TO_GET)
    return path


def read_okvqa_questions(path: str | Path) -> pd.DataFrame:
    """``vqav2.read_questions`` on OK-VQA's question file (a missing file says where OK-VQA is got)."""
    return vqav2.read_questions(_present(path))


def read_okvqa_annotations(path: str | Path) -> pd.DataFrame:
    """One row per annotation, in file order, columns ``vqav2.ANNOTATION_COLUMNS``: question_id,
    image_id, multiple_choice_answer (None where absent, as in OK-VQA's files), answers (the
    ``answer`` strings in file order), answer_type and question_type (None where absent)."""
    data = load_json(_present(path), HOW_TO_GET)
    if not isinstance(data, dict):
        raise RawFormatError(path, f"expected a JSON object with 'annotations', got a {type(data).__name__}")
    rows, seen = [], {}
    for i, record in enumerate(require(data, "annotations", list, path, "top level")):
        where = f"annotations[{i}]"
        question_id = require(record, "question_id", int, path, where)
        image_id = require(record, "image_id", int, path, where)
        best = require(record, "multiple_choice_answer", str, path, where) if "multiple_choice_answer" in record \
            else None
        answers = [require(a, "answer", str, path, f"{where}.answers[{k}]")
                   for k, a in enumerate(require(record, "answers", list, path, where))]
        kinds = [require(record, f, str, path, where) if f in record else None
                 for f in ("answer_type", "question_type")]
        if question_id in seen:
            raise RawFormatError(path, f"question_id {question_id} also in {seen[question_id]}", record=where,
                                 field="question_id")
        seen[question_id] = where
        rows.append((question_id, image_id, best, answers, *kinds))
    if not rows:
        raise RawFormatError(path, f"holds no annotations; {EMPTY_HINT}", record="top level", field="annotations")
    return pd.DataFrame(rows, columns=list(ANNOTATION_COLUMNS), dtype=object)


def read_okvqa(questions_path: str | Path, annotations_path: str | Path) -> tuple[pd.DataFrame, dict[str, int]]:
    """OK-VQA's questions joined with their annotations on ``question_id``: the rows (columns
    ``JOINED_COLUMNS``, questions' order) and the counts left out by reason
    (``vqav2.UNMATCHED_REASONS``), as ``vqav2.join_questions_annotations`` returns them."""
    questions = read_okvqa_questions(questions_path)
    annotations = read_okvqa_annotations(annotations_path)
    return vqav2.join_questions_annotations(questions, annotations)
