"""Record formats and their export.

Training records are mBLIP's ``{"context", "label", "image_id"}``; evaluation records keep ``label``
empty and add ``text_label`` (the reference). Exports are UTF-8 JSON lists with non-ASCII kept, one
record per line so that files diff and grep well, written atomically.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mmassets.conversations import from_mblip
from mmassets.files import atomic_path, atomic_write_bytes

TRAIN_FIELDS = ("context", "label", "image_id")
EVAL_FIELDS = ("context", "label", "image_id", "text_label")


@dataclass
class TaskRecords:
    """What a task builder returns: the records and, by reason, how many inputs it skipped."""

    frame: pd.DataFrame
    skipped: dict[str, int] = field(default_factory=dict)


def dumps_records(records: Iterable[dict]) -> bytes:
    """A JSON list, one compact record per line, keys in the order given, non-ASCII as is."""
    lines = [json.dumps(record, ensure_ascii=False, allow_nan=False) for record in records]
    body = ",\n".join(lines)
    return (f"[\n{body}\n]\n" if lines else "[]\n").encode("utf-8")


def write_json(path: str | Path, obj: object) -> Path:
    """Write any JSON value atomically (UTF-8, non-ASCII kept, sorted nowhere: order is data)."""
    return atomic_write_bytes(path, json.dumps(obj, ensure_ascii=False, allow_nan=False).encode("utf-8") + b"\n")


def write_records(path: str | Path, frame: pd.DataFrame, fields: Sequence[str], chunk: int = 50_000) -> Path:
    """Export the ``fields`` columns of ``frame`` as a JSON list of records (the bytes of
    ``dumps_records``), atomically; ``chunk`` rows at a time, so that a file of millions of records
    never exists as Python objects all at once."""
    missing = [f for f in fields if f not in frame.columns]
    if missing:
        raise KeyError(f"cannot export {path}: columns {missing} missing")
    if frame.empty:
        return atomic_write_bytes(path, dumps_records([]))
    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        out.write(b"[\n")
        for start in range(0, len(frame), chunk):
            records = frame[list(fields)].iloc[start:start + chunk].to_dict(orient="records")
            lines = ",\n".join(json.dumps(_plain(r), ensure_ascii=False, allow_nan=False) for r in records)
            out.write(((",\n" if start else "") + lines).encode("utf-8"))
        out.write(b"\n]\n")
    return Path(path)


def _plain(record: dict) -> dict:
    """numpy arrays (list columns read back from Parquet) become lists so JSON can hold them."""
    return {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in record.items()}


def schema_problems(frame: pd.DataFrame, string_fields: Sequence[str], *, allow_empty: Sequence[str] = ()) -> dict[str, int]:
    """Count records per problem: a missing column, a non-string value, an empty string.

    Returns ``{"<field>: <problem>": count}``; empty when every record is well formed.
    """
    problems: dict[str, int] = {}
    for field in string_fields:
        if field not in frame.columns:
            problems[f"{field}: column missing"] = len(frame)
            continue
        values = frame[field]
        not_str = ~values.map(lambda v: isinstance(v, str))
        if not_str.any():
            problems[f"{field}: not a string"] = int(not_str.sum())
        if field not in allow_empty:
            empty = values.map(lambda v: isinstance(v, str) and not v.strip())
            if empty.any():
                problems[f"{field}: empty"] = int(empty.sum())
    return problems


def to_llava(frame: pd.DataFrame, id_prefix: str | pd.Series = "", image_column: str = "image_id") -> list[dict]:
    """The LLaVA conversation view of training records (``conversations.from_mblip``): one human
    turn (``<image>`` + context) and one gpt turn (label) per record; ``id`` is ``<prefix>-<row>``;
    the image path from ``image_column`` (``image``: the path under the record's image root)."""
    prefixes = id_prefix if isinstance(id_prefix, pd.Series) else pd.Series(id_prefix, index=frame.index)
    return [from_mblip({"context": context, "label": label, "image_id": image}, f"{prefix}-{i}")
            for i, (prefix, context, label, image) in enumerate(
                zip(prefixes, frame["context"], frame["label"], frame[image_column]))]
