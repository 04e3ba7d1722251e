"""ImageNet-1k train images, the Keras class index and Babel-ImageNet's class names per language.

Upstream formats:

- ``imagenet/imagenet_class_index.json`` (Keras,
  https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json), one entry
  per class, keyed by the class index as a string, names written with underscores::

      {"0": ["n01440764", "tench"], "1": ["n01443537", "goldfish"],
       "2": ["n01484850", "great_white_shark"], ...}

- ``imagenet/train/<wnid>/<wnid>_<n>.JPEG``: the ILSVRC2012 train images, one folder per class.

- ``babel_imagenet/babel_imagenet-298.json`` (https://github.com/gregor-ge/Babel-ImageNet, ``data/``):
  upper-case BabelNet language code → two parallel lists, the ImageNet class indices the language
  has a name for and those names::

      {"FR": [[0, 1, 2, ...], ["tanche", "poisson rouge", "grand requin blanc", ...]], ...}

Babel-ImageNet names languages by BabelNet's codes; ``BABEL_CODES`` maps the codes of our language
table that differ (mT5's ``iw`` and ``fil``), as mBLIP does.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from mmassets.sources.validation import RawFormatError, load_json, shown

CLASS_INDEX_FILE = "imagenet/imagenet_class_index.json"
TRAIN_DIR = "imagenet/train"
BABEL_FILE = "babel_imagenet/babel_imagenet-298.json"
IMAGE_SUFFIXES = (".JPEG", ".jpeg", ".jpg")
HOW_TO_GET = ("Download ILSVRC2012_img_train.tar from https://image-net.org/download.php and unpack each class's "
              "tar into <raw root>/imagenet/train/<wnid>/; get the Keras class index from https://storage.googleapis"
              ".com/download.tensorflow.org/data/imagenet_class_index.json and place it at "
              "<raw root>/imagenet/imagenet_class_index.json.")
HOW_TO_GET_BABEL = ("Download data/babel_imagenet-298.json from https://github.com/gregor-ge/Babel-ImageNet and "
                    "place it at <raw root>/babel_imagenet/babel_imagenet-298.json.")
CLASS_COLUMNS = ("class_index", "wnid", "name")

#: Our language table's code → Babel-ImageNet's code, where they differ (lower case). Every other
#: code of ``mmassets/reference/languages.json`` is also a Babel-ImageNet code (its language_mapping.json).
BABEL_CODES = {"iw": "he", "fil": "tl"}

_WNID = re.compile(r"[A-Za-z0-9_-]+")


def babel_code(table_code: str) -> str:
    """The Babel-ImageNet code (lower case) of a language code of our table."""
    code = table_code.lower()
    return BABEL_CODES.get(code, code)


def read_class_index(path: str | Path) -> pd.DataFrame:
    """One row per class, by class index: class_index (int), wnid, name (underscores → spaces).

    The keys must be the decimal class indices 0..n-1, each value a ``[wnid, name]`` pair of strings,
    and the wnids unique (they name the image folders)."""
    data = load_json(path, HOW_TO_GET, unique_keys=True)
    if not isinstance(data, dict):
        raise RawFormatError(path, f"expected a JSON object of classes, got {_describe(data)}")
    rows, seen = [], {}
    for key, value in data.items():
        where = f"key {shown(key)}"
        index = _class_index(key, len(data), path, where)
        wnid, name = _class_entry(value, path, where)
        if wnid in seen:
            raise RawFormatError(path, f"wnid {wnid!r} also under key {seen[wnid]!r}", record=where, field="wnid")
        seen[wnid] = key
        rows.append((index, wnid, name))
    frame = pd.DataFrame(sorted(rows), columns=list(CLASS_COLUMNS))
    return frame.astype({"class_index": "int64", "wnid": object, "name": object})


def _class_index(key: str, count: int, path: str | Path, where: str) -> int:
    if not key.isascii() or not key.isdigit() or len(key) > 9 or str(int(key)) != key:
        raise RawFormatError(path, "the key is not a class index (a decimal integer)", record=where)
    if int(key) >= count:
        raise RawFormatError(path, f"class index out of range: {count} classes must be keyed 0..{count - 1}",
                             record=where)
    return int(key)


def _class_entry(value: object, path: str | Path, where: str) -> tuple[str, str]:
    if not isinstance(value, list) or len(value) != 2 or not all(isinstance(v, str) for v in value):
        raise RawFormatError(path, f"expected a [wnid, name] pair of strings, got {_describe(value)}", record=where)
    wnid, raw_name = value
    if not _WNID.fullmatch(wnid):
        raise RawFormatError(path, f"wnid {shown(wnid)} is not a plain folder name", record=where, field="wnid")
    name = " ".join(raw_name.replace("_", " ").split())
    if not name:
        raise RawFormatError(path, "blank class name", record=where, field="name")
    return wnid, name


def list_images(raw_dir: str | Path, wnids: list[str]) -> dict[str, list[str]]:
    """Per wnid, its train images as sorted ids ``<wnid>/<file>`` (relative to ``TRAIN_DIR``); files
    ending .JPEG/.jpeg/.jpg count, hidden files (``._x.JPEG`` and the like) do not; a missing folder
    gives an empty list. A symbolic link among the images must lead to a file inside the raw root (or
    inside the real ``imagenet/train``, where that folder is itself a link to another disk); one
    leading elsewhere is a RawFormatError naming it."""
    found, inside = {}, (Path(raw_dir).resolve(), (Path(raw_dir) / TRAIN_DIR).resolve())
    for wnid in wnids:
        folder = Path(raw_dir) / TRAIN_DIR / wnid
        if not folder.is_dir():
            found[wnid] = []
            continue
        with os.scandir(folder) as entries:
            images = [e for e in entries
                      if e.name.endswith(IMAGE_SUFFIXES) and not e.name.startswith(".") and e.is_file()]
        for entry in images:
            target = Path(entry.path).resolve() if entry.is_symlink() else None
            if target is not None and not any(target.is_relative_to(allowed) for allowed in inside):
                raise RawFormatError(entry.path, f"a symbolic link to {shown(str(target))}, outside the raw root "
                                     f"{inside[0]}: refused", record=f"image {wnid}/{entry.name}")
        found[wnid] = [f"{wnid}/{name}" for name in sorted(e.name for e in images)]
    return found


def image_path(raw_dir: str | Path, image_id: str) -> Path:
    """Where a train image ``<wnid>/<file>`` lies under the raw root."""
    return Path(raw_dir) / TRAIN_DIR / image_id


def read_babel(path: str | Path) -> dict[str, dict[int, str]]:
    """Babel-ImageNet's class names: lower-cased language code → {class index: name}, in file order.

    Each language must hold two lists of equal length, non-negative int class indices without
    repeats and non-blank string names."""
    data = load_json(path, HOW_TO_GET_BABEL, unique_keys=True)
    if not isinstance(data, dict):
        raise RawFormatError(path, f"expected a JSON object of languages, got {_describe(data)}")
    languages: dict[str, dict[int, str]] = {}
    for key, value in data.items():
        where = f"language {shown(key)}"
        code = key.lower()
        if code in languages:
            raise RawFormatError(path, f"language {code!r} given twice (codes differ only in case)", record=where)
        languages[code] = _babel_names(value, path, where)
    return languages


def _babel_names(value: object, path: str | Path, where: str) -> dict[int, str]:
    if not isinstance(value, list) or len(value) != 2 or not all(isinstance(v, list) for v in value):
        raise RawFormatError(path, f"expected [[class indices], [class names]], got {_describe(value)}", record=where)
    indices, names = value
    if len(indices) != len(names):
        raise RawFormatError(path, f"the lists differ in length: {len(indices)} class indices, {len(names)} names",
                             record=where)
    found: dict[int, str] = {}
    for position, (index, name) in enumerate(zip(indices, names)):
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise RawFormatError(path, f"class index #{position} is {index!r}, not a non-negative int", record=where)
        if not isinstance(name, str) or not name.strip():
            raise RawFormatError(path, f"name #{position} (class {index}) is {name!r}, not a non-blank string",
                                 record=where)
        if index in found:
            raise RawFormatError(path, f"class index {index} listed twice (#{indices.index(index)} and #{position})",
                                 record=where)
        found[index] = name
    return found


_JSON_KINDS = {dict: "an object", str: "a string", int: "a number", float: "a number", bool: "a boolean",
               type(None): "null"}


def _describe(value: object) -> str:
    """What an unexpected JSON value is, for error messages: "a list of 3", "a string", "null"."""
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return _JSON_KINDS.get(type(value), type(value).__name__)
