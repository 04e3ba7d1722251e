"""Shikra-RD: Shikra's GPT-4-generated referential-dialogue data on Flickr30k images,
``shikra/GPT4GEN_RD_BoxCoT_train.jsonl``.

Upstream: Shikra's annotation zip (shikras/shikra ``docs/data.md``: Google Drive / Baidu), file
``data/GPT4GEN_RD_BoxCoT_train.jsonl``, read by Shikra's ``GPT4Gen`` dataset
(``mllm/dataset/single_image_dataset/gpt_gen.py``, config ``GPT4GEN_RD_QBC``, version ``bc``). JSON
lines, one record a line (values illustrative)::

    {"img_path": "918545497.jpg", "boxes": [[x0, y0, x1, y1], ...],
     "question": "What is <ph_st>the man<ph_ed> holding?", "question_boxes_seq": [[0]],
     "answer": "A frisbee.", "cot_with_ans": "<ph_st>The man<ph_ed> holds <ph_st>a frisbee<ph_ed>. ...",
     "answer_boxes_seq": [[0], [1]]}

``img_path`` is relative to Flickr30k's image folder (``flickr30k/images/`` here); ``boxes`` are the
record's boxes in pixels of the original image (Shikra normalises them by the image's size);
each ``<ph_ed>`` in ``question`` (``cot_with_ans``) is one group of ``question_boxes_seq``
(``answer_boxes_seq``): a list of indices into ``boxes``. Shikra's box formatter asserts that the
counts match, so a mismatch is an error here too; an index outside ``boxes`` is an error naming the
line and field. A ``*_boxes_seq`` of ``null`` is read as None (Shikra then fills no boxes).

Unverified upstream: the file is not in git, so no real line was seen: the keys are those Shikra's
code reads; that boxes are pixel ``[x0, y0, x1, y1]`` is inferred from its normalisation, and they
are read as floats without checking their order; DataOptim counts 5,922 records (883 images).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from mmassets.sources.validation import EMPTY_HINT, RawFormatError, jsonl_records, require, safe_relative_path

RD_FILE = "shikra/GPT4GEN_RD_BoxCoT_train.jsonl"
IMAGE_DIR = "flickr30k/images"
PHRASE_START, PHRASE_END = "<ph_st>", "<ph_ed>"
HOW_TO_GET = ("Download Shikra's annotation ZIP (Google Drive or Baidu Netdisk, linked from github.com/shikras/shikra, "
              "docs/data.md) and place its GPT4GEN_RD_BoxCoT_train.jsonl at "
              "<raw root>/shikra/GPT4GEN_RD_BoxCoT_train.jsonl; the images are Flickr30k's (flickr30k-images), in "
              "<raw root>/flickr30k/images/.")
COLUMNS = ("line", "img_path", "boxes", "question", "question_boxes_seq", "answer", "cot_with_ans",
           "answer_boxes_seq")


def _boxes(record: dict, path: Path, where: str) -> list[list[float]]:
    boxes = []
    for k, box in enumerate(require(record, "boxes", list, path, where)):
        if not (isinstance(box, list) and len(box) == 4
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in box)):
            raise RawFormatError(path, f"box {k}: expected [x0, y0, x1, y1] (4 finite numbers), got {box!r}",
                                 record=where, field="boxes")
        boxes.append([float(v) for v in box])
    return boxes


def _boxes_seq(record: dict, field: str, text_field: str, n_boxes: int, path: Path,
               where: str) -> list[list[int]] | None:
    if field not in record:
        raise RawFormatError(path, "field missing", record=where, field=field)
    seq = record[field]
    if seq is None:
        return None
    if not isinstance(seq, list):
        raise RawFormatError(path, f"expected a list of lists of box indices, got {type(seq).__name__}",
                             record=where, field=field)
    for g, group in enumerate(seq):
        if not isinstance(group, list):
            raise RawFormatError(path, f"group {g}: expected a list of box indices, got {type(group).__name__}",
                                 record=where, field=field)
        for index in group:
            if not isinstance(index, int) or isinstance(index, bool):
                raise RawFormatError(path, f"group {g}: expected int box indices, got {index!r}", record=where,
                                     field=field)
            if not 0 <= index < n_boxes:
                raise RawFormatError(path, f"group {g}: box index {index} is outside the record's {n_boxes} boxes",
                                     record=where, field=field)
    markers = record[text_field].count(PHRASE_END)
    if markers != len(seq):
        raise RawFormatError(path, f"{len(seq)} box groups for the {markers} {PHRASE_END} markers of "
                             f"{text_field!r}", record=where, field=field)
    return [list(group) for group in seq]


def _parse(record: Any, number: int, path: Path) -> tuple:
    where = f"line {number}"
    img_path = safe_relative_path(require(record, "img_path", str, path, where), path, where, "img_path")
    boxes = _boxes(record, path, where)
    question = require(record, "question", str, path, where)
    answer = require(record, "answer", str, path, where)
    cot_with_ans = require(record, "cot_with_ans", str, path, where)
    question_seq = _boxes_seq(record, "question_boxes_seq", "question", len(boxes), path, where)
    answer_seq = _boxes_seq(record, "answer_boxes_seq", "cot_with_ans", len(boxes), path, where)
    return number, img_path, boxes, question, question_seq, answer, cot_with_ans, answer_seq


def read_shikra_rd(path: str | Path) -> pd.DataFrame:
    """One row per record, in file order: line (1-based line number in the file; blank lines are
    skipped), img_path (safe relative path), boxes (``[x0, y0, x1, y1]`` floats), question,
    question_boxes_seq, answer, cot_with_ans and answer_boxes_seq (lists of lists of box indices,
    or None where null)."""
    path = Path(path)
    rows = [_parse(record, number, path) for number, record in jsonl_records(path, HOW_TO_GET)]
    if not rows:
        raise RawFormatError(path, f"the file holds no records; {EMPTY_HINT}")
    return pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)
