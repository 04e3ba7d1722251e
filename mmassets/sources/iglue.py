"""IGLUE annotation files: GQA train (LXMERT format), xGQA, XVNLI and MaRVL.

Upstream formats, as the IGLUE repository (github.com/e-bug/iglue, ``datasets/``) distributes them:

- GQA train ``iglue/gqa/annotations/train.json``: LXMERT's GQA file, a JSON list of
  ``{"img_id": "2354786", "label": {"yes": 1.0}, "question_id": "02930152", "sent": "Is the sky dark?"}``;
  images ``iglue/gqa/images/<img_id>.jpg``.
- xGQA ``iglue/xGQA/annotations/few_shot/<lang>/{dev,test}.json`` (English included, in ``en/``): a
  JSON object keyed by GQA question id, each value a GQA question
  ``{"semantic", "entailed", "equivalent", "question", "imageId": "n235859", "isBalanced", "groups",
  "answer", "semanticStr", "annotations", "types", "fullAnswer"}``; the question is translated, the
  answer stays English. Images are GQA's (``iglue/gqa/images/<imageId>.jpg``).
- XVNLI, JSON lines. ``<lang>/test.jsonl`` (IGLUE's):
  ``{"gold_label", "sentence1", "sentence2", "captionID", "pairID", "Flikr30kID": "759822302"}`` (no
  extension, some gold labels ``"-"``). ``en/train.jsonl`` and ``en/dev.jsonl`` are SNLI-VE's (keys
  sorted, ``"Flikr30kID": "3416050480.jpg"`` with extension, ``"annotator_labels": [...]``);
  ``en/dev-<lang>_gmt.jsonl`` are IGLUE's machine translations of ``en/dev.jsonl`` (same keys).
  Images are Flickr30k's, ``iglue/flickr30k/images/<id>.jpg``.
- MaRVL ``iglue/marvl/zero_shot/annotations/marvl-<lang>.jsonl``: JSON lines
  ``{"concept": "42-Keman", "language": "tr", "caption", "left_img": "42-9.jpg", "right_img",
  "annotator_info", "chapter", "id", "label": false}``; images
  ``iglue/marvl/images/<language>/images/<concept>/<file>`` where the folder names on disk are in
  Unicode NFKD form while the annotations hold NFC text.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from mmassets.sources.validation import RawFormatError, load_json, load_jsonl, require, safe_relative_path

GQA_TRAIN_FILE = "iglue/gqa/annotations/train.json"
GQA_IMAGE_DIR = "iglue/gqa/images"
XGQA_DIR = "iglue/xGQA/annotations/few_shot"
XGQA_LANGUAGES = ("bn", "de", "en", "id", "ko", "pt", "ru", "zh")
XGQA_SPLITS = ("dev", "test")
XVNLI_DIR = "iglue/XVNLI/annotations"
XVNLI_LANGUAGES = ("ar", "es", "fr", "ru", "en")
XVNLI_TRAIN_FILE = f"{XVNLI_DIR}/en/train.jsonl"
FLICKR30K_IMAGE_DIR = "iglue/flickr30k/images"
MARVL_DIR = "iglue/marvl/zero_shot/annotations"
MARVL_IMAGE_DIR = "iglue/marvl/images"
MARVL_LANGUAGES = ("id", "sw", "ta", "tr", "zh")

GQA_HOW_TO_GET = (
    "Get LXMERT's GQA train.json (https://nlp.cs.unc.edu/data/lxmert_data/gqa/train.json, as linked from "
    "the IGLUE/VOLTA data instructions) and place it at <raw root>/iglue/gqa/annotations/train.json; GQA "
    "images (images.zip from https://cs.stanford.edu/people/dorarad/gqa/download.html) go in "
    "<raw root>/iglue/gqa/images/.")
XGQA_HOW_TO_GET = (
    "Get the xGQA few-shot splits from the IGLUE repository (https://github.com/e-bug/iglue, "
    "datasets/xGQA/annotations/few_shot/<lang>/{dev,test}.json) and copy datasets/xGQA to "
    "<raw root>/iglue/xGQA; images are GQA's (<raw root>/iglue/gqa/images/).")
XVNLI_HOW_TO_GET = (
    "Get XVNLI from the IGLUE repository (https://github.com/e-bug/iglue, datasets/XVNLI/annotations: "
    "<lang>/test.jsonl, en/train.jsonl, en/dev.jsonl and the machine-translated en/dev-<lang>_gmt.jsonl; "
    "train/dev are SNLI-VE's snli_ve_{train,dev}.jsonl from https://github.com/necla-ml/SNLI-VE) and copy "
    "datasets/XVNLI to <raw root>/iglue/XVNLI; Flickr30k images go in <raw root>/iglue/flickr30k/images/.")
MARVL_HOW_TO_GET = (
    "Get the MaRVL annotations from the IGLUE repository (https://github.com/e-bug/iglue, "
    "datasets/marvl/zero_shot/annotations/marvl-<lang>.jsonl) into <raw root>/iglue/marvl/zero_shot/"
    "annotations/, and the MaRVL images (https://marvl-challenge.github.io, Dataverse "
    "doi:10.5683/SP3/42VZ4P) unpacked so that <raw root>/iglue/marvl/images/<lang>/images/<concept>/ exist.")
HOW_TO_GET = " ".join((GQA_HOW_TO_GET, XGQA_HOW_TO_GET, XVNLI_HOW_TO_GET, MARVL_HOW_TO_GET))

GQA_COLUMNS = ("question_id", "img_id", "sent", "label")
XGQA_COLUMNS = ("question_id", "imageId", "question", "answer")
XVNLI_COLUMNS = ("pairID", "Flikr30kID", "sentence2", "raw_label")
MARVL_COLUMNS = ("concept", "language", "caption", "left_img", "right_img", "label")

#: Where an XVNLI file takes its label from: ``gold_label`` or the first of ``annotator_labels``.
LabelSource = Literal["gold_label", "annotator_labels"]


def xgqa_file(language: str, split: str) -> str:
    """``iglue/xGQA/annotations/few_shot/<lang>/<split>.json``."""
    return f"{XGQA_DIR}/{language}/{split}.json"


def xvnli_test_file(language: str) -> str:
    """``iglue/XVNLI/annotations/<lang>/test.jsonl``."""
    return f"{XVNLI_DIR}/{language}/test.jsonl"


def xvnli_dev_file(language: str) -> str:
    """English dev ``en/dev.jsonl``; other languages its machine translation ``en/dev-<lang>_gmt.jsonl``."""
    return f"{XVNLI_DIR}/en/dev.jsonl" if language == "en" else f"{XVNLI_DIR}/en/dev-{language}_gmt.jsonl"


def marvl_file(language: str) -> str:
    """``iglue/marvl/zero_shot/annotations/marvl-<lang>.jsonl``."""
    return f"{MARVL_DIR}/marvl-{language}.jsonl"


def gqa_image_path(raw_dir: str | Path, image_id: str) -> Path:
    """Where a GQA image (``<imageId>.jpg``) lies."""
    return Path(raw_dir) / GQA_IMAGE_DIR / image_id


def flickr30k_image_path(raw_dir: str | Path, image_id: str) -> Path:
    """Where a Flickr30k image (``<Flikr30kID>.jpg``) lies."""
    return Path(raw_dir) / FLICKR30K_IMAGE_DIR / image_id


def marvl_image_path(raw_dir: str | Path, image_id: str) -> Path:
    """Where a MaRVL image (``<language>/images/<concept>/<file>``) lies; folders on disk are NFKD."""
    return Path(raw_dir) / MARVL_IMAGE_DIR / unicodedata.normalize("NFKD", image_id)


def _identifier(record: Any, field: str, path: str | Path, where: str) -> str:
    """A string id (an integer id is accepted and written as a string)."""
    value = require(record, field, (str, int), path, where)
    if isinstance(value, bool):
        raise RawFormatError(path, "expected str/int, got bool", record=where, field=field)
    return str(value)


def read_gqa_train(path: str | Path) -> pd.DataFrame:
    """One row per question: question_id ("" when absent), img_id, sent and the label dict
    ``{answer: score}`` as is (it may be empty)."""
    data = load_json(path, GQA_HOW_TO_GET)
    if not isinstance(data, list):
        raise RawFormatError(path, f"expected a JSON list of questions, got a {type(data).__name__}")
    rows = []
    for i, record in enumerate(data):
        where = f"record {i}"
        img_id = safe_relative_path(_identifier(record, "img_id", path, where), path, where, "img_id")
        sent = require(record, "sent", str, path, where)
        label = require(record, "label", dict, path, where)
        for answer, score in label.items():
            if not isinstance(score, (int, float)) or isinstance(score, bool):
                raise RawFormatError(path, f"score of answer {answer!r} is {type(score).__name__}, expected a "
                                     "number", record=where, field="label")
        question_id = _identifier(record, "question_id", path, where) if "question_id" in record else ""
        rows.append((question_id, img_id, sent, dict(label)))
    return pd.DataFrame(rows, columns=list(GQA_COLUMNS), dtype=object)


def read_xgqa(path: str | Path) -> pd.DataFrame:
    """One row per question, in file order: question_id (the key), imageId, question, answer."""
    data = load_json(path, XGQA_HOW_TO_GET, unique_keys=True)
    if not isinstance(data, dict):
        raise RawFormatError(path, f"expected a JSON object keyed by question id, got a {type(data).__name__}")
    rows = []
    for question_id, record in data.items():
        where = f"question {question_id!r}"
        image_id = safe_relative_path(_identifier(record, "imageId", path, where), path, where, "imageId")
        question = require(record, "question", str, path, where)
        answer = require(record, "answer", str, path, where)
        rows.append((question_id, image_id, question, answer))
    return pd.DataFrame(rows, columns=list(XGQA_COLUMNS), dtype=object)


def read_xvnli(path: str | Path, label_source: LabelSource) -> pd.DataFrame:
    """One row per pair: pairID, Flikr30kID (as written, with or without ``.jpg``), sentence2 (the
    hypothesis) and raw_label, taken from ``gold_label`` or from the first of ``annotator_labels``."""
    records = load_jsonl(path, XVNLI_HOW_TO_GET)
    rows = []
    for i, record in enumerate(records):
        where = f"record {i}"
        pair_id = _identifier(record, "pairID", path, where)
        image = safe_relative_path(_identifier(record, "Flikr30kID", path, where), path, where, "Flikr30kID")
        hypothesis = require(record, "sentence2", str, path, where)
        if label_source == "gold_label":
            raw_label = require(record, "gold_label", str, path, where)
        else:
            labels = require(record, "annotator_labels", list, path, where)
            if not labels or not isinstance(labels[0], str):
                raise RawFormatError(path, "expected a non-empty list of label strings", record=where,
                                     field="annotator_labels")
            raw_label = labels[0]
        rows.append((pair_id, image, hypothesis, raw_label))
    return pd.DataFrame(rows, columns=list(XVNLI_COLUMNS), dtype=object)


def _marvl_label(record: dict, path: str | Path, where: str) -> bool:
    value = require(record, "label", (bool, str), path, where)
    if isinstance(value, bool):
        return value
    if value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise RawFormatError(path, f"expected true or false, got {value!r}", record=where, field="label")


def read_marvl(path: str | Path) -> pd.DataFrame:
    """One row per caption/image pair: concept, language, caption, left_img, right_img (file names in
    the concept's folder, as written: NFC) and label (bool; ``"true"``/``"false"`` strings accepted)."""
    records = load_jsonl(path, MARVL_HOW_TO_GET)
    rows = []
    for i, record in enumerate(records):
        where = f"record {i}"
        parts = {}
        for field in ("concept", "language"):
            value = safe_relative_path(require(record, field, str, path, where), path, where, field)
            if "/" in value:
                raise RawFormatError(path, f"{value!r} is not a single folder name", record=where, field=field)
            parts[field] = value
        caption = require(record, "caption", str, path, where)
        left = safe_relative_path(require(record, "left_img", str, path, where), path, where, "left_img")
        right = safe_relative_path(require(record, "right_img", str, path, where), path, where, "right_img")
        rows.append((parts["concept"], parts["language"], caption, left, right, _marvl_label(record, path, where)))
    return pd.DataFrame(rows, columns=list(MARVL_COLUMNS), dtype=object)
