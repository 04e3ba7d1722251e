"""Crossmodal-3600 (XM3600): 3,600 images captioned by native speakers in 36 languages.

``xm3600/captions.jsonl`` (from the release's ``captions.zip``) has one image a line::

    {"image/key": "000411001ff7dd4f", "image/locale": "bn",
     "ar": {"caption": ["..."], "caption/tokenized": ["..."], "caption/tokenized/lowercase": ["..."]},
     "bn": {...}, ..., "zh": {...}}

with one object per language (the 36 codes of ``LANGUAGES``, Hebrew as ``he``) holding a list of
captions (usually two for English, one or more elsewhere). ``image/locale`` is the language of the
place where the photo was taken. The image is ``xm3600/images/<image/key>.jpg`` (from ``images.tgz``).
Only ``caption`` is read: the benchmark segments captions itself (see ``evalsets.segmentation``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mmassets.sources.flickr import parse_records
from mmassets.sources.validation import RawFormatError, load_jsonl, require, safe_relative_path

CAPTIONS_FILE = "xm3600/captions.jsonl"
IMAGE_DIR = "xm3600/images"
LANGUAGES = (
    "ar", "bn", "cs", "da", "de", "el", "en", "es", "fa", "fi", "fil", "fr", "hi", "hr", "hu", "id", "it", "he",
    "ja", "ko", "mi", "nl", "no", "pl", "pt", "quz", "ro", "ru", "sv", "sw", "te", "th", "tr", "uk", "vi", "zh",
)
"""The 36 language keys of captions.jsonl, in the file's order (``he`` follows ``it``)."""

HOW_TO_GET = (
    "Get captions.zip from the Crossmodal-3600 page (google.github.io/crossmodal-3600, web-data/captions.zip) "
    "and unzip captions.jsonl to <raw root>/xm3600/captions.jsonl; unpack the images "
    "(open-images-dataset.s3.amazonaws.com/crossmodal-3600/images.tgz) into <raw root>/xm3600/images/.")


def read_xm3600(path: str | Path, languages: Sequence[str] = LANGUAGES) -> pd.DataFrame:
    """One row per line, in file order: ``key``, ``locale``, ``image_id`` (``<key>.jpg``) and, for each
    of ``languages``, a column named by the code holding that language's captions (list of str)."""
    languages = list(dict.fromkeys(languages))

    def parse(record: Any, where: str) -> tuple[Any, ...]:
        key = require(record, "image/key", str, path, where)
        image_id = safe_relative_path(key, path, where, "image/key") + ".jpg"
        locale = require(record, "image/locale", str, path, where)
        return (key, locale, image_id, *(_captions(record, language, path, where) for language in languages))

    rows = parse_records(path, load_jsonl(path, HOW_TO_GET), parse)
    return pd.DataFrame(rows, columns=["key", "locale", "image_id", *languages], dtype=object)


def _captions(record: dict, language: str, path: str | Path, where: str) -> list[str]:
    entry = require(record, language, dict, path, where)
    field = f"{language}.caption"
    if "caption" not in entry:
        raise RawFormatError(path, "field missing", record=where, field=field)
    captions = entry["caption"]
    if not isinstance(captions, list):
        raise RawFormatError(path, f"expected list, got {type(captions).__name__}", record=where, field=field)
    for j, caption in enumerate(captions):
        if not isinstance(caption, str):
            raise RawFormatError(path, f"expected str, got {type(caption).__name__}", record=where,
                                 field=f"{field}[{j}]")
    return list(captions)


def image_path(raw_dir: str | Path, image_id: str) -> Path:
    """Where an XM3600 image (``<key>.jpg``) lies under the raw root."""
    return Path(raw_dir) / IMAGE_DIR / image_id
