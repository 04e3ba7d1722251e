"""TextVQA and TextCaps: questions and captions about text in Open Images photos.

Upstream formats (facebookresearch/TextVQA, the site's ``frontend/src/data_description.json``), one
JSON object per file, ``{"data": [...], "dataset_type": "train", "dataset_name", "dataset_version"}``:

- ``textvqa/TextVQA_0.5.1_train.json``, each item::

      {"question_id": int, "question": str, "question_tokens": [str], "image_id": "<Open Images id>",
       "image_classes": [str], "flickr_original_url", "flickr_300k_url", "image_width": int,
       "image_height": int, "set_name": "train", "answers": [10 str], ...}

- ``textcaps/TextCaps_0.1_train.json``, each item (one per caption, so an image repeats)::

      {"image_id": "<Open Images id>", "caption_str": str, "caption_tokens": [str], "caption_id": int,
       "image_classes": [str], "flickr_original_url", "flickr_300k_url", "image_width": int,
       "image_height": int, "set_name": "train", "reference_strs": [5 str], "reference_tokens": [...]}

The images are the same Open Images pictures (``train_val_images.zip``), ``<image_id>.jpg``, under
``textvqa/train_images/`` and ``textcaps/train_images/`` here. Counts (the site): TextVQA train
34,602 questions on 21,953 images; TextCaps train 109,765 captions on the same 21,953 images.

Unverified upstream: whether ``image_width``/``image_height`` are in every item (both are None where
absent or null; an integral float is read as an int); whether ids are unique (not checked: nothing
here joins on them). Test files have no ``answers``; this reader is for files that have them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from mmassets.sources.validation import EMPTY_HINT, RawFormatError, load_json, require, safe_relative_path

TEXTVQA_FILE = "textvqa/TextVQA_0.5.1_train.json"
TEXTVQA_IMAGE_DIR = "textvqa/train_images"
TEXTCAPS_FILE = "textcaps/TextCaps_0.1_train.json"
TEXTCAPS_IMAGE_DIR = "textcaps/train_images"
HOW_TO_GET_TEXTVQA = ("Download https://dl.fbaipublicfiles.com/textvqa/data/TextVQA_0.5.1_train.json (see "
                      "https://textvqa.org/dataset) to <raw root>/textvqa/, and the images "
                      "(https://dl.fbaipublicfiles.com/textvqa/images/train_val_images.zip) unpacked to "
                      "<raw root>/textvqa/train_images/.")
HOW_TO_GET_TEXTCAPS = ("Download https://dl.fbaipublicfiles.com/textvqa/data/textcaps/TextCaps_0.1_train.json (see "
                       "https://textvqa.org/textcaps/dataset) to <raw root>/textcaps/, and the images (TextVQA's "
                       "train_val_images.zip) unpacked to <raw root>/textcaps/train_images/.")
TEXTVQA_COLUMNS = ("question_id", "question", "image_id", "answers", "image_width", "image_height")
TEXTCAPS_COLUMNS = ("caption_id", "image_id", "caption", "image_width", "image_height")


def _items(path: str | Path, how_to_get: str) -> list:
    data = load_json(path, how_to_get)
    if not isinstance(data, dict):
        raise RawFormatError(path, f"expected a JSON object with 'data', got a {type(data).__name__}")
    items = require(data, "data", list, path, "top level")
    if not items:
        raise RawFormatError(path, f"holds no items; {EMPTY_HINT}", record="top level", field="data")
    return items


def _size(record: dict, field: str, path: str | Path, where: str) -> int | None:
    """An image dimension: None where absent or null, an int otherwise (integral floats accepted)."""
    value: Any = record.get(field)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise RawFormatError(path, f"expected a positive int, got {value!r}", record=where, field=field)
    return value


def _image_id(record: dict, path: str | Path, where: str) -> str:
    return safe_relative_path(require(record, "image_id", str, path, where), path, where, "image_id")


def read_textvqa(path: str | Path) -> pd.DataFrame:
    """One row per question, in file order: question_id (int), question, image_id (the Open Images
    id), answers (list of str, in file order), image_width and image_height (int or None)."""
    rows = []
    for i, record in enumerate(_items(path, HOW_TO_GET_TEXTVQA)):
        where = f"data[{i}]"
        question_id = require(record, "question_id", int, path, where)
        question = require(record, "question", str, path, where)
        image_id = _image_id(record, path, where)
        answers = require(record, "answers", list, path, where)
        for k, answer in enumerate(answers):
            if not isinstance(answer, str):
                raise RawFormatError(path, f"item {k}: expected str, got {type(answer).__name__}", record=where,
                                     field="answers")
        rows.append((question_id, question, image_id, list(answers), _size(record, "image_width", path, where),
                     _size(record, "image_height", path, where)))
    return pd.DataFrame(rows, columns=list(TEXTVQA_COLUMNS), dtype=object)


def read_textcaps(path: str | Path) -> pd.DataFrame:
    """One row per caption, in file order: caption_id (int), image_id, caption (``caption_str``),
    image_width and image_height (int or None)."""
    rows = []
    for i, record in enumerate(_items(path, HOW_TO_GET_TEXTCAPS)):
        where = f"data[{i}]"
        caption_id = require(record, "caption_id", int, path, where)
        image_id = _image_id(record, path, where)
        caption = require(record, "caption_str", str, path, where)
        rows.append((caption_id, image_id, caption, _size(record, "image_width", path, where),
                     _size(record, "image_height", path, where)))
    return pd.DataFrame(rows, columns=list(TEXTCAPS_COLUMNS), dtype=object)
