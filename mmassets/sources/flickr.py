"""IGLUE caption annotations: Flickr30k (English, train/valid/test) and xFlickrCO (8 languages, test).

Both come from the IGLUE repository (github.com/e-bug/iglue, ``datasets/flickr30k/annotations/`` and
``datasets/xFlickrCO/annotations/<lang>/``) in one JSON-lines format, one image a line::

    {"sentences": ["A dog runs on the grass.", ...], "id": "1007129816", "img_path": "1007129816.jpg"}

``img_path`` is the image file relative to the image folder: a Flickr30k photo (``<flickr id>.jpg``) or,
in xFlickrCO, a COCO val2014 image (``COCO_val2014_%012d.jpg``, whose ``id`` is then an int). ``id`` is
not read. Flickr30k images have five captions each (the Karpathy split), xFlickrCO one per language.

Karpathy's Flickr30k split file, ``flickr30k/dataset_flickr30k.json`` (``caption_datasets.zip``, the
same schema as COCO's ``dataset_coco.json``; ``read_karpathy_flickr``)::

    {"images": [{"imgid": 0, "filename": "1000092795.jpg", "split": "train", "sentids": [0, 1, 2, 3, 4],
                 "sentences": [{"raw": "Two young guys with shaggy hair ...", "tokens": [...],
                                "imgid": 0, "sentid": 0}, ...]}, ...],
     "dataset": "flickr30k"}

Splits train/val/test (29,000 train images as DataOptim counts them; 1,014 val and 1,000 test as
commonly reported; five captions each); images are Flickr30k's
``flickr30k-images``, ``flickr30k/images/<filename>`` here. Unverified from the publisher: Karpathy's
own code (karpathy/neuraltalk) reads ``imgid``, ``filename``, ``split``, ``sentences`` and each
sentence's ``tokens``; ``raw`` (what is read here: the caption as written, already tokenised with
spaces in Flickr30k) and the split values come from third-party readers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from mmassets.sources.validation import RawFormatError, load_jsonl, require, safe_relative_path
from mmassets.sources.coco import karpathy_images
from mmassets.sources.validation import EMPTY_HINT

FLICKR30K_IMAGE_DIR = "iglue/flickr30k/images"
FLICKR30K_FILES = {
    "train": "iglue/flickr30k/annotations/train_ann.jsonl",
    "val": "iglue/flickr30k/annotations/valid_ann.jsonl",
    "test": "iglue/flickr30k/annotations/test_ann.jsonl",
}
"""Our split name -> file under the raw root (IGLUE names the validation split ``valid``)."""

XFLICKRCO_LANGUAGES = ("de", "en", "es", "id", "ja", "ru", "tr", "zh")
XFLICKRCO_IMAGE_DIR = "iglue/xFlickrCO/images"

HOW_TO_GET_FLICKR30K = (
    "Get {train,valid,test}_ann.jsonl from the IGLUE repository (github.com/e-bug/iglue, "
    "datasets/flickr30k/annotations/) into <raw root>/iglue/flickr30k/annotations/, and the Flickr30k images "
    "(flickr30k-images, from the Flickr30k request form or the IGLUE datasets README) into "
    "<raw root>/iglue/flickr30k/images/.")
HOW_TO_GET_XFLICKRCO = (
    "Get datasets/xFlickrCO/annotations/<lang>/test.jsonl from the IGLUE repository (github.com/e-bug/iglue) "
    "into <raw root>/iglue/xFlickrCO/annotations/<lang>/test.jsonl, and put the images it names (Flickr30k "
    "photos and COCO val2014 images, cocodataset.org) together in <raw root>/iglue/xFlickrCO/images/.")

COLUMNS = ("img_path", "captions")

T = TypeVar("T")


def xflickrco_file(language: str) -> str:
    """The xFlickrCO test file of ``language`` under the raw root."""
    return f"iglue/xFlickrCO/annotations/{language}/test.jsonl"


def line_of(path: str | Path, index: int) -> int:
    """The 1-based line number of the ``index``-th (0-based) non-blank line of a JSON-lines file."""
    with Path(path).open("rb") as handle:
        seen = -1
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                seen += 1
                if seen == index:
                    return number
    raise IndexError(f"{path} has no record {index}")


def parse_records(path: str | Path, records: Sequence[Any], parse: Callable[[Any, str], T]) -> list[T]:
    """``parse(record, where)`` for each record of a JSON-lines file; a RawFormatError it raises is
    re-raised naming the record's line (found only then, so the happy path reads the file once)."""
    parsed = []
    for i, record in enumerate(records):
        where = f"record {i}"
        try:
            parsed.append(parse(record, where))
        except RawFormatError as exc:
            line = f"line {line_of(path, i)}"
            raise RawFormatError(exc.path, exc.problem, record=(exc.record or where).replace(where, line, 1),
                                 field=exc.field) from None
    return parsed


def read_caption_jsonl(path: str | Path, how_to_get: str) -> pd.DataFrame:
    """One row per line, in file order: ``img_path`` (safe relative path) and ``captions`` (list of str)."""

    def parse(record: Any, where: str) -> tuple[str, list[str]]:
        img_path = safe_relative_path(require(record, "img_path", str, path, where), path, where, "img_path")
        sentences = require(record, "sentences", list, path, where)
        for j, sentence in enumerate(sentences):
            if not isinstance(sentence, str):
                raise RawFormatError(path, f"expected str, got {type(sentence).__name__}", record=where,
                                     field=f"sentences[{j}]")
        return img_path, list(sentences)

    rows = parse_records(path, load_jsonl(path, how_to_get), parse)
    return pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)


def read_flickr30k(path: str | Path) -> pd.DataFrame:
    """An IGLUE Flickr30k file (``{train,valid,test}_ann.jsonl``): img_path and its English captions."""
    return read_caption_jsonl(path, HOW_TO_GET_FLICKR30K)


def read_xflickrco(path: str | Path) -> pd.DataFrame:
    """An xFlickrCO test file (``<lang>/test.jsonl``): img_path and its captions in that language."""
    return read_caption_jsonl(path, HOW_TO_GET_XFLICKRCO)


def flickr30k_image_path(raw_dir: str | Path, image_id: str) -> Path:
    """Where a Flickr30k image (``img_path``) lies under the raw root."""
    return Path(raw_dir) / FLICKR30K_IMAGE_DIR / image_id


def xflickrco_image_path(raw_dir: str | Path, image_id: str) -> Path:
    """Where an xFlickrCO image (``img_path``, Flickr30k or COCO) lies under the raw root."""
    return Path(raw_dir) / XFLICKRCO_IMAGE_DIR / image_id


KARPATHY_FLICKR30K_FILE = "flickr30k/dataset_flickr30k.json"
KARPATHY_FLICKR30K_IMAGE_DIR = "flickr30k/images"
KARPATHY_SPLITS = ("train", "val", "test")
HOW_TO_GET_KARPATHY_FLICKR30K = (
    "Get dataset_flickr30k.json from Karpathy's caption_datasets.zip (the 'Deep Visual-Semantic Alignments' "
    "release, https://cs.stanford.edu/people/karpathy/deepimagesent/) and place it at "
    "<raw root>/flickr30k/dataset_flickr30k.json; the Flickr30k images (flickr30k-images, from the Flickr30k "
    "request form) go in <raw root>/flickr30k/images/.")
KARPATHY_COLUMNS = ("imgid", "split", "filename", "captions")


def read_karpathy_flickr(path: str | Path) -> pd.DataFrame:
    """One row per image of ``dataset_flickr30k.json``, in file order: imgid (int, unique), split
    (train/val/test), filename (safe relative path) and captions (each sentence's ``raw``, in order)."""
    rows = karpathy_images(path, HOW_TO_GET_KARPATHY_FLICKR30K, "imgid", KARPATHY_SPLITS, ("filename",))
    if not rows:
        raise RawFormatError(path, f"'images' holds no images; {EMPTY_HINT}", record="top level", field="images")
    return pd.DataFrame(rows, columns=list(KARPATHY_COLUMNS), dtype=object)
