"""RefCOCO, RefCOCO+ and RefCOCOg as lichengunc/refer distributes them: the refs pickle and the COCO
instances file of each dataset.

Upstream files (``refer.py`` loads both; github.com/lichengunc/refer):

- ``refcoco/<dataset>/refs(<split_by>).p``: one pickle (written by Python 2's cPickle, protocol 2)
  of a list of refs::

      {"ref_id": int, "ann_id": int, "category_id": int, "image_id": int, "split": str,
       "sentences": [{"sent": str, "raw": str, "tokens": [str], "sent_id": int}],
       "file_name": str, "sent_ids": [int]}

  ``ann_id`` is the referred object's annotation in ``instances.json``; ``split`` is ``train``,
  ``val``, ``test``, ``testA`` or ``testB`` (which values each file holds is unverified, so any
  non-empty string is accepted). Read with ``mmassets.pickles.load_plain_pickle``, which refuses any
  class or function, so a hostile file cannot run code.
- ``refcoco/<dataset>/instances.json``: COCO's format restricted to the referred images,
  ``{"images": [{"id", "file_name", "height", "width", ...}], "annotations": [{"id", "image_id",
  "category_id", "bbox": [x, y, w, h], "segmentation", "area", ...}], "categories": [{"id", "name"}]}``.

Datasets and their ``split_by`` (refer's README): refcoco: unc, google; refcoco+: unc; refcocog: umd
(train/val/test), google (no test split). Images are COCO train2014's, ``coco/train2014/`` under the
raw root (refer names the file of each image in ``instances.json``).

Unverified upstream: refer's code reads only ``ref_id, ann_id, category_id, image_id, split,
sentences`` and each sentence's ``sent``/``tokens``/``sent_id``; ``file_name``, ``sent_ids`` and
``raw`` appear only in a README comment and third-party code, so they are not read. Whether every
Python 2 byte string in the pickles is ASCII (see ``mmassets.pickles``), and whether ids are ever
numpy scalars (they would be refused as a class load) is unverified too.
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import pandas as pd

from mmassets.pickles import UnsafePickle, load_plain_pickle
from mmassets.sources.validation import (EMPTY_HINT, RawFileMissing, RawFormatError, load_json, require,
                                         forget_replacements, safe_relative_path,
                                         without_lone_surrogates)

REFCOCO_DIR = "refcoco"
DATASETS = ("refcoco", "refcoco+", "refcocog")
SPLIT_BY = {"refcoco": ("unc", "google"), "refcoco+": ("unc",), "refcocog": ("umd", "google")}
"""Each dataset's ``split_by`` names, as refer's README lists them (the first is refer's recommended)."""
KNOWN_SPLITS = ("train", "val", "test", "testA", "testB")
"""The ``split`` values refer's ``getRefIds`` handles for these datasets (any string is read)."""
IMAGE_DIR = "coco/train2014"
HOW_TO_GET = ("Download refcoco.zip, refcoco+.zip and refcocog.zip (https://bvisionweb1.cs.unc.edu/licheng/referit/"
              "data/<name>.zip, listed in github.com/lichengunc/refer's README; that server is often down, and refer's "
              "issue #14 lists mirrors) and unpack each into <raw root>/refcoco/, so that "
              "<raw root>/refcoco/<dataset>/refs(<split_by>).p and instances.json exist; the images are COCO "
              "train2014's (http://images.cocodataset.org/zips/train2014.zip) in <raw root>/coco/train2014/.")
REF_COLUMNS = ("ref_id", "ann_id", "image_id", "category_id", "split", "sentences")
IMAGE_COLUMNS = ("id", "file_name", "width", "height")
ANNOTATION_COLUMNS = ("id", "image_id", "category_id", "bbox")
MAX_SENTENCES = 10_000_000
"""The most sentences (each becomes a training record) one refs file may expand to. refer's files hold
about 142,000 (RefCOCO), 141,000 (RefCOCO+) and 95,000 (RefCOCOg); a pickle can refer to one list from
every ref at no cost in size (a 938 kB file can expand to 40 million records), so a file past this
bound is refused as broken or hostile before it is expanded."""


def _check(dataset: str, split_by: str | None = None) -> None:
    if dataset not in SPLIT_BY:
        raise ValueError(f"unknown RefCOCO dataset {dataset!r} (expected one of {', '.join(DATASETS)})")
    if split_by is not None and split_by not in SPLIT_BY[dataset]:
        raise ValueError(f"{dataset} has no split_by {split_by!r} (it has {', '.join(SPLIT_BY[dataset])})")


def refs_file(dataset: str, split_by: str) -> str:
    """``refcoco/<dataset>/refs(<split_by>).p``, relative to the raw root."""
    _check(dataset, split_by)
    return f"{REFCOCO_DIR}/{dataset}/refs({split_by}).p"


def instances_file(dataset: str) -> str:
    """``refcoco/<dataset>/instances.json``, relative to the raw root."""
    _check(dataset)
    return f"{REFCOCO_DIR}/{dataset}/instances.json"


def _load_refs(path: Path) -> object:
    if not path.is_file():
        raise RawFileMissing(path, HOW_TO_GET)
    try:
        return load_plain_pickle(path)
    except UnsafePickle as exc:
        problem = str(exc).removeprefix(f"{path}: ")
        raise RawFormatError(path, f"{problem}; the file was refused unread (a refs file holds plain data only)"
                             ) from exc
    except pickle.UnpicklingError as exc:
        problem = str(exc).removeprefix(f"{path}: ")
        raise RawFormatError(path, f"{problem}; the file may be truncated") from None


def _unique(value: int, seen: dict[int, str], path: Path, where: str, field: str) -> None:
    if value in seen:
        raise RawFormatError(path, f"{field} {value} also in {seen[value]}", record=where, field=field)
    seen[value] = where


def read_refs(path: str | Path) -> pd.DataFrame:
    """One row per ref, in file order: ref_id, ann_id, image_id, category_id (ints), split (str)
    and sentences (each sentence's ``sent``, in file order). A pickle asking for any class or
    function is refused unread (RawFormatError caused by ``UnsafePickle``); one whose refs hold more
    than ``MAX_SENTENCES`` sentences in all is refused as it is read, naming the ref where the count
    passed the bound."""
    path = Path(path)
    forget_replacements(path)  # counted afresh for this reading
    refs = _load_refs(path)
    if not isinstance(refs, list):
        raise RawFormatError(path, f"expected a pickled list of refs, got a {type(refs).__name__}")
    if not refs:
        raise RawFormatError(path, f"holds no refs; {EMPTY_HINT}")
    rows, seen, total = [], {}, 0
    checked: dict[int, list[str]] = {}  # a sentences list the pickle shares among refs is checked once
    for i, ref in enumerate(refs):
        where = f"refs[{i}]"
        ref_id = require(ref, "ref_id", int, path, where)
        ann_id = require(ref, "ann_id", int, path, where)
        image_id = require(ref, "image_id", int, path, where)
        category_id = require(ref, "category_id", int, path, where)
        split = require(ref, "split", str, path, where)
        if not split:
            raise RawFormatError(path, "empty split", record=where, field="split")
        listed = require(ref, "sentences", list, path, where)
        total += len(listed)
        if total > MAX_SENTENCES:
            raise RawFormatError(path, f"the refs expand to more than {MAX_SENTENCES:,} sentences ({total:,} up to "
                                 "this ref; refer's files hold some 142,000 at most): refused as broken or hostile "
                                 "(a pickle can share one list among many refs at no cost in size)",
                                 record=where, field="sentences")
        sentences = checked.get(id(listed))
        if sentences is None:
            sentences = checked[id(listed)] = [
                without_lone_surrogates(require(s, "sent", str, path, f"{where}.sentences[{j}]"), path,
                                        f"{where}.sentences[{j}].sent") for j, s in enumerate(listed)]
        _unique(ref_id, seen, path, where, "ref_id")
        rows.append((ref_id, ann_id, image_id, category_id, split, sentences))
    return pd.DataFrame(rows, columns=list(REF_COLUMNS), dtype=object)


def _bbox(record: dict, path: Path, where: str) -> list[float]:
    box = require(record, "bbox", list, path, where)
    if len(box) != 4 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box):
        raise RawFormatError(path, f"expected [x, y, w, h] (4 numbers), got {box!r}", record=where, field="bbox")
    if not all(math.isfinite(v) for v in box):
        raise RawFormatError(path, f"not finite: {box!r}", record=where, field="bbox")
    return [float(v) for v in box]


def read_instances(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The images (columns ``IMAGE_COLUMNS``: id, file_name (safe relative path), width, height
    (positive ints: 0 or below is a ``RawFormatError`` naming the record and field))
    and annotations (``ANNOTATION_COLUMNS``: id, image_id, category_id, bbox as ``[x, y, w, h]``
    floats) of an ``instances.json``, each in file order; ids unique within each list."""
    path = Path(path)
    data = load_json(path, HOW_TO_GET)
    if not isinstance(data, dict):
        raise RawFormatError(path, f"expected a JSON object with 'images' and 'annotations', got a "
                             f"{type(data).__name__}")
    images, seen = [], {}
    for i, image in enumerate(require(data, "images", list, path, "top level")):
        where = f"images[{i}]"
        image_id = require(image, "id", int, path, where)
        file_name = safe_relative_path(require(image, "file_name", str, path, where), path, where, "file_name")
        width = require(image, "width", int, path, where)
        height = require(image, "height", int, path, where)
        for field, value in (("width", width), ("height", height)):
            if value <= 0:  # the boxes are divided by it: never a division by zero or a nonsense box
                raise RawFormatError(path, f"an image's {field} must be a positive number of pixels, got {value}",
                                     record=where, field=field)
        _unique(image_id, seen, path, where, "id")
        images.append((image_id, file_name, width, height))
    annotations, seen = [], {}
    for i, annotation in enumerate(require(data, "annotations", list, path, "top level")):
        where = f"annotations[{i}]"
        annotation_id = require(annotation, "id", int, path, where)
        image_id = require(annotation, "image_id", int, path, where)
        category_id = require(annotation, "category_id", int, path, where)
        box = _bbox(annotation, path, where)
        _unique(annotation_id, seen, path, where, "id")
        annotations.append((annotation_id, image_id, category_id, box))
    if not images or not annotations:
        raise RawFormatError(path, f"holds no {'images' if not images else 'annotations'}; {EMPTY_HINT}")
    return (pd.DataFrame(images, columns=list(IMAGE_COLUMNS), dtype=object),
            pd.DataFrame(annotations, columns=list(ANNOTATION_COLUMNS), dtype=object))
