"""GQA's balanced training questions, ``gqa/train_balanced_questions.json``, read as a stream.

Upstream format (questions1.2.zip from https://cs.stanford.edu/people/dorarad/gqa/download.html), one
JSON object keyed by question id, in the file's order::

    {"02930152": {"imageId": "2354786", "question": "Is the sky dark?", "answer": "yes",
                  "fullAnswer": "Yes, the sky is dark.", "isBalanced": true, "semantic": [...],
                  "semanticStr": "...", "types": {...}, "annotations": {...}, "entailed": [...],
                  "equivalent": [...], "groups": {...}}, ...}

Question ids are strings of digits with leading zeros (``"02930152"``): they are kept as written,
never turned into numbers. ``imageId`` names ``<imageId>.jpg`` in GQA's ``images/`` (Visual Genome
pictures), ``gqa/images/`` here. The train file is about 1 GB (943,000 questions), so it is parsed
incrementally (ijson, ``kvitems`` of the top-level object), keeping only the five fields read, as
Arrow-backed strings a chunk at a time.

Unverified upstream: that every ``imageId`` is a string (an integer one is accepted and written as
a string, as the IGLUE readers do). A question id repeated in the file is an error here (a JSON
parser that builds a dict would silently keep the last one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from mmassets.sources.validation import EMPTY_HINT, RawFormatError, json_items, require, safe_relative_path, shown

QUESTIONS_FILE = "gqa/train_balanced_questions.json"
IMAGE_DIR = "gqa/images"
HOW_TO_GET = ("Download questions1.2.zip from https://cs.stanford.edu/people/dorarad/gqa/download.html and place "
              "train_balanced_questions.json at <raw root>/gqa/train_balanced_questions.json; the images (images.zip "
              "from the same page) go in <raw root>/gqa/images/.")
COLUMNS = ("question_id", "image_id", "question", "answer", "full_answer")
CHUNK = 100_000


def _image_id(record: Any, path: Path, where: str) -> str:
    value = require(record, "imageId", (str, int), path, where)
    if isinstance(value, bool):
        raise RawFormatError(path, "expected str/int, got bool", record=where, field="imageId")
    return safe_relative_path(str(value), path, where, "imageId")


def read_gqa_questions(path: str | Path) -> pd.DataFrame:
    """One row per question, in file order: question_id (the key, as written), image_id
    (``imageId``), question, answer and full_answer (``fullAnswer``); Arrow-backed strings."""
    path = Path(path)
    columns: dict[str, list[str]] = {name: [] for name in COLUMNS}
    chunks: list[pd.DataFrame] = []
    seen: set[str] = set()
    for question_id, record in json_items(path, HOW_TO_GET, "a JSON object keyed by question id", keyed="question"):
        where = f"question {shown(question_id)}"
        if question_id in seen:
            raise RawFormatError(path, "question id repeated in the file", record=where, field="question_id")
        seen.add(question_id)
        columns["image_id"].append(_image_id(record, path, where))
        columns["question"].append(require(record, "question", str, path, where))
        columns["answer"].append(require(record, "answer", str, path, where))
        columns["full_answer"].append(require(record, "fullAnswer", str, path, where))
        columns["question_id"].append(question_id)
        if len(columns["question_id"]) >= CHUNK:
            chunks.append(pd.DataFrame(columns, dtype="string[pyarrow]"))
            columns = {name: [] for name in COLUMNS}
    if columns["question_id"]:
        chunks.append(pd.DataFrame(columns, dtype="string[pyarrow]"))
    if not chunks:
        raise RawFormatError(path, f"holds no questions ({{}}); {EMPTY_HINT}")
    return pd.concat(chunks, ignore_index=True)
