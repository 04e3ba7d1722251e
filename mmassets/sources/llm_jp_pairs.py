"""llm-jp's Japanese image–text pairs for Step-1: JSON-lines files under ``llm_jp/alt_pair_ja/``, one
pair a line with the image's ``url`` and its ``text`` (``caption`` is accepted too, as VILA's coyo
loader does; the exact upstream keys are unverified). The images are not in the files: mmassets
downloads them (``images/llm_jp_pair_step1``) and writes VILA's base64 pickle shards."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mmassets.files import safe_name
from mmassets.sources.validation import RawFormatError, files_matching, load_jsonl

FOLDER = "llm_jp/alt_pair_ja"
HOW_TO_GET = ("Download the JSON-lines files of gitlab.llm-jp.nii.ac.jp/datasets/llm-jp-japanese-image-text-pairs "
              "into <raw root>/llm_jp/alt_pair_ja/.")


def pair_files(raw_dir: str | Path) -> list[Path]:
    return files_matching(Path(raw_dir) / FOLDER, "*.jsonl", HOW_TO_GET)


def read_pairs(raw_dir: str | Path) -> pd.DataFrame:
    """One row per pair, files in name order: file (its name), record (its position in the file), id
    (the record's own, or ``<file stem>-<record>``), url, text, and image_id (``<file stem>/<record:08d>.jpg``,
    where its image is downloaded to)."""
    rows = []
    for path in pair_files(raw_dir):
        try:
            safe_name(path.stem, "the file name")
        except ValueError as exc:  # its stem names the folder its images are downloaded to
            raise RawFormatError(path, str(exc)) from None
        for n, record in enumerate(load_jsonl(path, HOW_TO_GET)):
            where = f"record {n}"
            if not isinstance(record, dict):
                raise RawFormatError(path, f"expected an object, got {type(record).__name__}", record=where)
            url = record.get("url")
            text = record.get("text", record.get("caption"))
            if not isinstance(url, str) or not url:
                raise RawFormatError(path, "no string url", record=where, field="url")
            if not isinstance(text, str):
                raise RawFormatError(path, "no string text (or caption)", record=where, field="text")
            record_id = record.get("id", f"{path.stem}-{n}")
            if not isinstance(record_id, (str, int)) or isinstance(record_id, bool):
                raise RawFormatError(path, f"expected a string or integer id, got {type(record_id).__name__}",
                                     record=where, field="id")
            rows.append((path.name, n, str(record_id), url, text, f"{path.stem}/{n:08d}.jpg"))
    return pd.DataFrame(rows, columns=["file", "record", "id", "url", "text", "image_id"])
