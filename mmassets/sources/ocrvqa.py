"""OCR-VQA: questions about book covers, ``ocr_vqa/dataset.json``.

Upstream format (one JSON object keyed by the book's ASIN, in the order the file lists them)::

    {"761183272": {"imageURL": "http://ecx.images-amazon.com/images/I/61Y5cOdHJbL.jpg",
                   "questions": ["Who wrote this book?", "What is the title of this book?", ...],
                   "answers": ["Sandra Boynton", "Mom's Family Wall Calendar 2016", ...],
                   "title": "Mom's Family Wall Calendar 2016", "authorName": "Sandra Boynton",
                   "genre": "Calendars", "split": 1}}

``questions`` and ``answers`` are parallel lists (the i-th answer answers the i-th question);
``split`` is 1 (train), 2 (val) or 3 (test). Each cover is downloaded from ``imageURL``;
mmpretrain names it ``<asin><extension of imageURL>``, LLaVA-1.5 and DataOptim name every cover
``<asin>.jpg`` (some are GIFs inside), under ``ocr_vqa/images/`` here.

Unverified upstream: the publisher (ocr-vqa.github.io) documents only the download link; the layout
above is open-mmlab/mmpretrain's reading (``mmpretrain/datasets/ocr_vqa.py``), which also shows
``title``, ``authorName`` and ``genre`` (not read here). An ASIN repeated in the file is an error (a
JSON parser would keep only its last value, unseen).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mmassets.sources.validation import RawFormatError, load_json, require, safe_relative_path

DATASET_FILE = "ocr_vqa/dataset.json"
IMAGE_DIR = "ocr_vqa/images"
SPLITS = {1: "train", 2: "val", 3: "test"}
HOW_TO_GET = ("Get OCR-VQA's dataset.json from the download link (a Google Drive folder) on https://ocr-vqa.github.io/ "
              "and place it at <raw root>/ocr_vqa/dataset.json; the covers (downloaded from each book's imageURL) go "
              "to <raw root>/ocr_vqa/images/<asin>.jpg.")
COLUMNS = ("asin", "image_url", "question", "answer", "split")


def _strings(record: dict, field: str, path: str | Path, where: str) -> list[str]:
    values = require(record, field, list, path, where)
    for k, value in enumerate(values):
        if not isinstance(value, str):
            raise RawFormatError(path, f"item {k}: expected str, got {type(value).__name__}", record=where,
                                 field=field)
    return values


def read_ocrvqa(path: str | Path) -> pd.DataFrame:
    """One row per question, books in file order and each book's questions in its order: asin (the
    key), image_url, question, answer and split ("train"/"val"/"test")."""
    data = load_json(path, HOW_TO_GET, unique_keys=True)
    if not isinstance(data, dict):
        raise RawFormatError(path, f"expected a JSON object keyed by ASIN, got a {type(data).__name__}")
    rows = []
    for asin, book in data.items():
        where = f"ASIN {asin!r}"
        name = safe_relative_path(asin, path, where, "ASIN")
        if "/" in name or name == ".":
            raise RawFormatError(path, f"an ASIN names an image file, {asin!r} does not", record=where, field="ASIN")
        image_url = require(book, "imageURL", str, path, where)
        questions = _strings(book, "questions", path, where)
        answers = _strings(book, "answers", path, where)
        split = require(book, "split", int, path, where)
        if split not in SPLITS:
            raise RawFormatError(path, f"unknown split {split} (expected 1, 2 or 3: train, val, test)", record=where,
                                 field="split")
        if len(questions) != len(answers):
            raise RawFormatError(path, f"{len(questions)} questions but {len(answers)} answers (the lists are "
                                 "parallel)", record=where, field="answers")
        rows.extend((asin, image_url, q, a, SPLITS[split]) for q, a in zip(questions, answers))
    return pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)
