"""Files of conversation records (the LLaVA schema) as the LLaVA-family trainers read them: LLaVA-1.5's
mixes, the llm-jp sets, ShareGPT4V, ALLaVA, DataOptim.

VILA's loader reads a JSON array and falls back to JSON lines; so does ``read_conversation_file``
(a file starting with ``[`` is an array, any other JSON lines). Both are streamed
(ijson for arrays), so a file of hundreds of thousands of dialogues is never one list of dicts.

Every record is checked against the schema (``mmassets.conversations.validate``): an id that is a
string or an integer (LLaVA-1.5's are strings except GQA's integers: both are kept, the type
recorded), an image path, a list of paths or none (text-only), and alternating turns; image paths
must stay inside their root. A bad record fails naming the file, the record and the field; with
``unsafe_paths="skip"`` a record whose image path is absolute or climbs out with ``..`` is kept
aside instead (``unsafe_path`` names the path; such a record has no usable image and is dropped by
the image check, counted and listed).

Each row keeps the record exactly as published (``record``, compact JSON), so that an export can
write it back unchanged, beside the fields the checks and mixtures use; ``extra`` lists the keys a
record has beyond ``id``, ``image`` and ``conversations`` (ALLaVA's ``original_caption`` and ``url``,
Vision-Flan's ``task_name``: lineage kept in the record).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from mmassets.conversations import ConversationError, image_paths, validate
from mmassets.sources.validation import (EMPTY_HINT, RawFileMissing, RawFormatError, json_items, jsonl_records,
                                         safe_relative_path)

COLUMNS = ("source_index", "id", "id_is_int", "images", "turns", "record", "extra", "unsafe_path")
_SCHEMA_KEYS = {"id", "image", "conversations"}


def _records(path: Path, how_to_get: str) -> Iterator[tuple[str, Any]]:
    """(where, record) of a JSON array (a file starting with ``[``) or else of JSON lines."""
    if not path.is_file():
        raise RawFileMissing(path, how_to_get)
    with path.open("rb") as handle:
        start = handle.read(1024).lstrip()[:1]
    if start == b"[":
        return ((f"record {i}", record) for i, record in json_items(path, how_to_get, "a JSON array"))
    if not start:
        raise RawFormatError(path, f"the file is empty; {EMPTY_HINT}")
    return ((f"line {number}", record) for number, record in jsonl_records(path, how_to_get))


def _row(i: int, record: dict, images: list[str], unsafe: str = "") -> tuple:
    return (i, str(record["id"]), isinstance(record["id"], int), images, len(record["conversations"]),
            json.dumps(record, ensure_ascii=False, separators=(",", ":")),
            ",".join(sorted(set(map(str, record)) - _SCHEMA_KEYS)), unsafe)


def records_frame(records: Iterable[dict]) -> pd.DataFrame:
    """Conversation records mmassets made (a converter's output) as the rows ``read_conversation_file``
    gives; each is checked against the schema all the same (ConversationError)."""
    rows = []
    for i, record in enumerate(records):
        validate(record, f"record {i}")
        rows.append(_row(i, record, image_paths(record)))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def read_conversation_file(path: str | Path, how_to_get: str, unsafe_paths: str = "fail") -> pd.DataFrame:
    """One row per record, in file order: source_index, id (as text), id_is_int, images (safe
    relative paths; empty for a text-only record), turns, record (the record as published), extra
    (its other keys) and unsafe_path (module docstring)."""
    if unsafe_paths not in ("fail", "skip"):
        raise ValueError(f"unsafe_paths must be 'fail' or 'skip', not {unsafe_paths!r}")
    path = Path(path)
    rows = []
    for i, (where, record) in enumerate(_records(path, how_to_get)):
        try:
            validate(record, where)
        except ConversationError as exc:
            raise RawFormatError(path, str(exc)) from None
        images, unsafe = [], ""
        for image in image_paths(record):
            try:
                images.append(safe_relative_path(image, path, where, "image"))
            except RawFormatError:
                if unsafe_paths == "fail":
                    raise
                images, unsafe = [], image
                break
        rows.append(_row(i, record, images, unsafe))
    if not rows:
        raise RawFormatError(path, f"holds no records; {EMPTY_HINT}")
    return pd.DataFrame(rows, columns=list(COLUMNS))
