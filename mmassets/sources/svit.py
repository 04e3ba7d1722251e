"""SVIT (BAAI-DCAI/Visual-Instruction-Tuning): GPT-4-written instructions on Visual Genome images, in
SVIT's original files (not the LLaVA format of its ``format/llava-v1.5`` mix or of DataOptim).

Upstream: the HF dataset BAAI/SVIT, ``data/{conversation,complex_reasoning,detail_description,
referring_qa}.zip``, each holding ``<kind>.json`` (read from ``svit/<kind>.json`` here). Each file is
one JSON list, an item per image, each with several conversations::

    [{"image_id": 2327022,
      "conversations": [{"content": [{"from": "user", "value": "What is the man holding?"},
                                     {"from": "gpt", "value": "He is holding a frisbee."}, ...]},
                        ...]},
     ...]

``image_id`` is a Visual Genome image id, the image ``<image_id>.jpg`` (``vg/VG_100K*/`` here).
Referring-QA turns name objects as ``<st>object<ed> [x1, y1, x2, y2]`` (floats normalised to 0–1 by
the original image size). The files are large (1.6M QAs in each of conversation and complex
reasoning), so they are parsed incrementally (ijson).

Unverified upstream: the publisher's own code (``tools/expand_to_square.py``) shows only
``image_id``, ``conversations[].content[]`` and each turn's ``value``; the file names inside the zips
and the turns' ``from`` values ("user", "gpt") come from third-party loaders. ``from`` is accepted
as "user", "human" or "gpt" (kept as published; anything else is an error naming it); whether
``image_id`` is an int or a string is unverified, so either is kept as published. Conversations are
not checked to alternate, and an empty one is kept (zero turns). SVIT's issue #5: 21 detail
descriptions read "It seems like your message is empty…" (image ids listed there); they are read
as they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from mmassets.sources.validation import EMPTY_HINT, RawFormatError, json_items, require, safe_relative_path

SVIT_DIR = "svit"
KINDS = ("conversation", "complex_reasoning", "detail_description", "referring_qa")
SPEAKERS = ("user", "human", "gpt")
HOW_TO_GET = ("Download data/{kind}.zip from the Hugging Face dataset BAAI/SVIT (https://huggingface.co/datasets/"
              "BAAI/SVIT; see github.com/BAAI-DCAI/Visual-Instruction-Tuning) and unpack {kind}.json to "
              "<raw root>/svit/{kind}.json; the images are Visual Genome's (VG_100K and VG_100K_2), in "
              "<raw root>/vg/VG_100K/ and <raw root>/vg/VG_100K_2/.")
COLUMNS = ("image_id", "conversation_index", "turns")


def svit_file(kind: str) -> str:
    """``svit/<kind>.json``, relative to the raw root."""
    _check_kind(kind)
    return f"{SVIT_DIR}/{kind}.json"


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown SVIT kind {kind!r} (expected one of {', '.join(KINDS)})")


def _image_id(item: Any, path: Path, where: str) -> int | str:
    value = require(item, "image_id", (int, str), path, where)
    if isinstance(value, bool):
        raise RawFormatError(path, "expected int/str, got bool", record=where, field="image_id")
    if isinstance(value, str):
        safe_relative_path(value, path, where, "image_id")
    return value


def _turns(conversation: Any, path: Path, where: str) -> list[dict[str, str]]:
    turns = []
    for k, turn in enumerate(require(conversation, "content", list, path, where)):
        turn_where = f"{where}.content[{k}]"
        speaker = require(turn, "from", str, path, turn_where)
        if speaker not in SPEAKERS:
            raise RawFormatError(path, f"unknown speaker {speaker!r} (expected one of {', '.join(SPEAKERS)})",
                                 record=turn_where, field="from")
        turns.append({"from": speaker, "value": require(turn, "value", str, path, turn_where)})
    return turns


def read_svit(path: str | Path, kind: str) -> pd.DataFrame:
    """One row per conversation, items in file order and each item's conversations in order:
    image_id (as published), conversation_index (its position in the item's ``conversations``) and
    turns (``{"from", "value"}`` dicts as published)."""
    _check_kind(kind)
    path = Path(path)
    rows, items = [], 0
    for i, item in json_items(path, HOW_TO_GET.format(kind=kind), f"a JSON list of SVIT {kind} items"):
        where = f"[{i}]"
        items += 1
        image_id = _image_id(item, path, where)
        for j, conversation in enumerate(require(item, "conversations", list, path, where)):
            rows.append((image_id, j, _turns(conversation, path, f"{where}.conversations[{j}]")))
    if not items:
        raise RawFormatError(path, f"holds no items ([]); {EMPTY_HINT}")
    return pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)
