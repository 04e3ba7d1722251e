"""BLIP's Web CapFilt captions (mBLIP's largest task), read as a stream.

- ``blip/ccs_synthetic_filtered_large.json``: BLIP's JSON array of ``{"url", "caption"}`` (CC3M +
  CC12M + SBU, captions generated and filtered by BLIP ViT-L).
- ``blip/ccs_synthetic_filtered_large_2273005_raw.json``: mBLIP's released post-download sample,
  ``{"url", "caption", "jpg"}`` per entry (2,273,005 entries; the images are not in it). When it is
  present it is the sample as published: its entries in order, each image named by the base name of
  its ``jpg`` field.

The files are large (millions of entries), so they are parsed incrementally (ijson, C backend) into
Arrow-backed string columns a chunk at a time, never as one list of Python dicts. Every record is
checked: an object with string ``url`` (http or https) and ``caption`` (and a safe ``jpg`` file name
where the file has one: in every record or in none); a bad record fails naming the file, the record's
position and the field.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

import pandas as pd

from mmassets.sources.validation import EMPTY_HINT, RawFormatError, http_url, json_items, require

CAPTIONS_FILE = "blip/ccs_synthetic_filtered_large.json"
SAMPLE_FILE = "blip/ccs_synthetic_filtered_large_2273005_raw.json"
HOW_TO_GET = ("Download BLIP's ccs_synthetic_filtered_large.json (the 'CC3M+CC12M+SBU, filtered synthetic caption by "
              "ViT-L' file linked from github.com/salesforce/BLIP) to <raw root>/blip/; optionally mBLIP's released "
              "sample ccs_synthetic_filtered_large_2273005_raw.json (huggingface.co/datasets/Gregor/mblip-train, "
              "folder blip_captions/) beside it, to reproduce mBLIP's exact selection.")
CHUNK = 100_000


def input_file(raw_dir: str | Path) -> str:
    """The file the web captions come from (relative to the raw root): mBLIP's released sample when
    it is there, else BLIP's caption file."""
    return SAMPLE_FILE if (Path(raw_dir) / SAMPLE_FILE).is_file() else CAPTIONS_FILE


def _string(record: Any, field: str, path: Path, i: int) -> str:
    value = require(record, field, str, path, f"record {i}")
    if "\0" in value:  # in any field, captions too: this reader's policy (test_blip_reader)
        raise RawFormatError(path, "NUL character", record=f"record {i}", field=field)
    return value


def image_name(jpg: str, path: Path, i: int) -> str:
    """The file name an image gets: the base name of mBLIP's ``jpg`` path (``./images/00000012.jpg``)."""
    name = posixpath.basename(jpg.replace("\\", "/"))
    if not name or name in (".", "..") or name.startswith("."):
        raise RawFormatError(path, f"no usable file name in {jpg!r}", record=f"record {i}", field="jpg")
    return name


def read_blip(path: str | Path) -> pd.DataFrame:
    """One row per entry, in file order: ``url``, ``caption`` and, for mBLIP's released sample,
    ``image_id`` (the file name from ``jpg``); Arrow-backed strings."""
    path = Path(path)
    columns: dict[str, list[str]] = {"url": [], "caption": []}
    chunks: list[pd.DataFrame] = []
    with_jpg: bool | None = None
    for i, record in json_items(path, HOW_TO_GET, 'a JSON array of {"url", "caption"} objects'):
        if with_jpg is None:
            with_jpg = isinstance(record, dict) and "jpg" in record
            if with_jpg:
                columns["image_id"] = []
        elif isinstance(record, dict) and ("jpg" in record) != with_jpg:
            raise RawFormatError(path, f"{'no' if with_jpg else 'a'} jpg, unlike record 0 (mBLIP's sample names an "
                                 "image in every record, BLIP's file in none)", record=f"record {i}", field="jpg")
        columns["url"].append(http_url(_string(record, "url", path, i), path, f"record {i}", "url"))
        columns["caption"].append(_string(record, "caption", path, i))
        if with_jpg:
            columns["image_id"].append(image_name(_string(record, "jpg", path, i), path, i))
        if len(columns["url"]) >= CHUNK:
            chunks.append(pd.DataFrame(columns, dtype="string[pyarrow]"))
            columns = {name: [] for name in columns}
    if columns["url"]:
        chunks.append(pd.DataFrame(columns, dtype="string[pyarrow]"))
    if not chunks:
        raise RawFormatError(path, f"holds no records; {EMPTY_HINT}")
    frame = pd.concat(chunks, ignore_index=True)
    if with_jpg:
        repeated = frame["image_id"].duplicated()
        if repeated.any():
            i = int(repeated.to_numpy().argmax())
            raise RawFormatError(path, f"image {frame['image_id'].iloc[i]!r} named twice", record=f"record {i}",
                                 field="jpg")
    return frame
