"""LLaVA-Instruct-150K: GPT-written conversations and detailed descriptions of COCO images.

Upstream format (https://huggingface.co/datasets/liuhaotian/LLaVA-Instruct-150K, ``conversation_58k.json``
and ``detail_23k.json``), a JSON list::

    [{"id": "000000442786", "image": "000000442786.jpg",
      "conversations": [{"from": "human", "value": "What do you see happening in this image?\\n<image>"},
                        {"from": "gpt", "value": "The scene depicts a lively plaza area with ..."}]}]

``<image>`` marks where the picture goes, in the first human turn, before or after its text and
separated from it by a newline; turns alternate human, gpt. ``image`` names a COCO 2017 train image by
its zero-padded id; the raw root holds the same pictures under COCO 2014's folders
(``mmassets.sources.coco.find_image``).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pandas as pd

from mmassets.sources.validation import RawFormatError, load_json, require, safe_relative_path

CONVERSATION_FILE = "llava/conversation_58k.json"
DETAIL_FILE = "llava/detail_23k.json"
SPEAKERS = ("human", "gpt")
IMAGE_TOKEN = "<image>"
HOW_TO_GET = ("Download conversation_58k.json and detail_23k.json from "
              "https://huggingface.co/datasets/liuhaotian/LLaVA-Instruct-150K into <raw root>/llava/; the images "
              "are COCO's (http://images.cocodataset.org/zips/), unpacked to <raw root>/coco/train2014/ and "
              "<raw root>/coco/val2014/.")
COLUMNS = ("id", "image", "speakers", "values")

_COCO_FILE_NAME = re.compile(r"(?:COCO_[a-z]+\d{4}_)?(\d+)\.jpe?g", re.IGNORECASE)


def read_llava(path: str | Path) -> pd.DataFrame:
    """One row per dialogue, in file order: id, image (a safe relative path), and the parallel lists
    speakers ("human"/"gpt") and values (the turns' text, untouched)."""
    data = load_json(path, HOW_TO_GET)
    if not isinstance(data, list):
        raise RawFormatError(path, f"expected a JSON list of dialogues, got a {type(data).__name__}")
    rows = []
    for i, record in enumerate(data):
        where = f"[{i}]"
        dialogue_id = require(record, "id", str, path, where)
        image = safe_relative_path(require(record, "image", str, path, where), path, where, "image")
        speakers, values = [], []
        for j, turn in enumerate(require(record, "conversations", list, path, where)):
            turn_where = f"{where}.conversations[{j}]"
            speaker = require(turn, "from", str, path, turn_where)
            if speaker not in SPEAKERS:
                raise RawFormatError(path, f"unknown speaker {speaker!r} (expected one of {', '.join(SPEAKERS)})",
                                     record=turn_where, field="from")
            speakers.append(speaker)
            values.append(require(turn, "value", str, path, turn_where))
        rows.append((dialogue_id, image, speakers, values))
    return pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)


def cocoid_of(image: str) -> int | None:
    """The COCO id an image file name carries ("000000442786.jpg", "COCO_train2014_000000442786.jpg",
    "coco/train2017/000000442786.jpg" all give 442786); None when the name is not COCO's."""
    match = _COCO_FILE_NAME.fullmatch(PurePosixPath(image).name)
    return int(match.group(1)) if match else None
