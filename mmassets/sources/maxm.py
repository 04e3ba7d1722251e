"""MaXM v1: the multilingual VQA test files ``maxm/maxm_v1_<lang>.json``.

Upstream format (google-research-datasets/maxm, ``maxm_v1_release.zip``), one JSON object per file::

    {"dataset": str, "version": str, "split": <language id>,
     "annotations": [{"image_id": <XM3600 image key, str>, "image_url": str,
                      "qa_pairs": [{"question_id": str, "question": str, "answers": [str],
                                    "processed_answers": [str], "is_collection": bool}]}]}

The images are Crossmodal-3600's, ``xm3600/images/<image_id>.jpg`` under the raw root.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from mmassets.sources.validation import RawFormatError, load_json, require, safe_relative_path

LANGUAGES = ("en", "fr", "hi", "iw", "ro", "th", "zh")
MAXM_DIR = "maxm"
IMAGE_DIR = "xm3600/images"
HOW_TO_GET = ("Download MaXM v1 (https://storage.googleapis.com/maxm/maxm_v1_release.zip, see "
              "https://github.com/google-research-datasets/maxm) and put its maxm_v1_<lang>.json files in "
              "<raw root>/maxm/; the images are Crossmodal-3600's (https://google.github.io/crossmodal-3600/), "
              "unpacked to <raw root>/xm3600/images/<key>.jpg.")
COLUMNS = ("image_id", "question_id", "question", "answers", "processed_answers", "is_collection")


def maxm_file(language: str) -> str:
    """The file of one language, relative to the raw root."""
    return f"{MAXM_DIR}/maxm_v1_{language}.json"


def _strings(value: list, path: str | Path, where: str, field: str) -> list[str]:
    for k, item in enumerate(value):
        if not isinstance(item, str):
            raise RawFormatError(path, f"expected a list of str, item {k} is {type(item).__name__}",
                                 record=where, field=field)
    return list(value)


def _optional(record: dict, field: str, kind: tuple[type, ...], path: str | Path, where: str) -> Any:
    return require(record, field, kind, path, where) if field in record else None


def read_maxm(path: str | Path) -> pd.DataFrame:
    """One row per question-answer pair, in file order: the image key (as in the file, no
    extension), question_id (None if absent), question, answers, processed_answers, is_collection."""
    data = load_json(path, HOW_TO_GET)
    if not isinstance(data, dict):
        raise RawFormatError(path, f"expected a JSON object with 'annotations', got a {type(data).__name__}")
    annotations = require(data, "annotations", list, path, "top level")
    rows = []
    for i, annotation in enumerate(annotations):
        where = f"annotations[{i}]"
        image_id = require(annotation, "image_id", str, path, where)
        safe_relative_path(image_id, path, where, "image_id")  # it names <image_id>.jpg
        for j, pair in enumerate(require(annotation, "qa_pairs", list, path, where)):
            pair_where = f"{where}.qa_pairs[{j}]"
            question = require(pair, "question", str, path, pair_where)
            answers = _strings(require(pair, "answers", list, path, pair_where), path, pair_where, "answers")
            processed = _strings(require(pair, "processed_answers", list, path, pair_where), path, pair_where,
                                 "processed_answers")
            # not needed for the records, so read leniently: README says str and bool
            rows.append((image_id, _optional(pair, "question_id", (str, int), path, pair_where), question, answers,
                         processed, _optional(pair, "is_collection", (bool, str), path, pair_where)))
    return pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)


def image_path(raw_dir: str | Path, image_id: str) -> Path:
    """Where an XM3600 image file (``<key>.jpg``) lies under the raw root."""
    return Path(raw_dir) / IMAGE_DIR / image_id
