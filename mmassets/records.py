"""Record formats and their export.

Training records are mBLIP's ``{"context", "label", "image_id"}``; evaluation records keep ``label``
empty and add ``text_label`` (the reference). Exports are UTF-8 JSON lists with non-ASCII kept, one
record per line so that files diff and grep well, written atomically.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mmassets.conversations import ConversationError, from_mblip, to_mblip
from mmassets.files import atomic_write_bytes
from mmassets.storage import at, publishing

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
    with publishing(at(path)) as out:
        out.write(b"[\n")
        for start in range(0, len(frame), chunk):
            records = frame[list(fields)].iloc[start:start + chunk].to_dict(orient="records")
            lines = ",\n".join(json.dumps(_plain(r), ensure_ascii=False, allow_nan=False) for r in records)
            out.write(((",\n" if start else "") + lines).encode("utf-8"))
        out.write(b"\n]\n")
    return at(path)


def write_conversations(path: str | Path, records: Iterable[str], chunk: int = 50_000,
                        paths: Iterable[Sequence[str] | None] | None = None) -> Path:
    """Export conversation records held as JSON text (as published) as a JSON list in the layout
    of ``dumps_records``, atomically, ``chunk`` records at a time; ``paths`` (one per record, None:
    as published) replaces each record's image path(s) (``with_images``)."""
    with publishing(at(path)) as out:
        count = 0
        for record, images in zip(records, paths if paths is not None else itertools.repeat(None)):
            line = json.dumps(with_images(json.loads(record), images), ensure_ascii=False, allow_nan=False)
            out.write(((",\n" if count else "[\n") + line).encode("utf-8"))
            count += 1
        out.write(b"\n]\n" if count else b"[]\n")
    return at(path)


def with_images(record: dict, paths: Sequence[str] | None) -> dict:
    """``record`` with its image path(s) replaced by ``paths`` (a single path stays a string); a
    text-only record, or ``paths`` None, is left as it is."""
    if paths is None or "image" not in record:
        return record
    record["image"] = paths[0] if isinstance(record["image"], str) else list(paths)
    return record


def _plain(record: dict) -> dict:
    """numpy arrays (list columns read back from Parquet) become lists so JSON can hold them."""
    return {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in record.items()}


def schema_problems(frame: pd.DataFrame, string_fields: Sequence[str], *, allow_empty: Sequence[str] = ()) -> dict[str, int]:
    """Count records per problem: a missing column, a non-string value, an empty string.

    Returns ``{"<field>: <problem>": count}``; empty when every record is well formed.
    """
    problems: dict[str, int] = {}
    for name in string_fields:
        if name not in frame.columns:
            problems[f"{name}: column missing"] = len(frame)
            continue
        values = frame[name]
        not_str = ~values.map(lambda v: isinstance(v, str))
        if not_str.any():
            problems[f"{name}: not a string"] = int(not_str.sum())
        if name not in allow_empty:
            empty = values.map(lambda v: isinstance(v, str) and not v.strip())
            if empty.any():
                problems[f"{name}: empty"] = int(empty.sum())
    return problems


def to_llava(frame: pd.DataFrame, id_prefix: str | pd.Series = "", image_column: str = "image_id",
             paths: Sequence[Sequence[str] | None] | None = None, start: int = 0) -> list[dict]:
    """The LLaVA conversation view of training records: a row holding a conversation record
    (``record``, as published) is that record; an mBLIP row becomes one human turn (``<image>`` +
    context) and one gpt turn (label) (``conversations.from_mblip``), ``id`` ``<prefix>-<row>``,
    the image path from ``image_column`` (``image``: the path under the record's image root).
    ``paths`` (one list per row) replaces the rows' image paths (``with_images``); ``start`` is the
    first row's number (for a frame that is a chunk of a larger one)."""
    prefixes = id_prefix if isinstance(id_prefix, pd.Series) else pd.Series(id_prefix, index=frame.index)
    empty = pd.Series(None, index=frame.index, dtype=object)
    records = frame["record"] if "record" in frame.columns else empty
    out = []
    for i, (prefix, context, label, image, record, images) in enumerate(zip(
            prefixes, frame.get("context", empty), frame.get("label", empty), frame[image_column], records,
            paths if paths is not None else itertools.repeat(None)), start=start):
        out.append(with_images(json.loads(record), images) if isinstance(record, str) else
                   from_mblip({"context": context, "label": label, "image_id": images[0] if images else image},
                              f"{prefix}-{i}"))
    return out


def write_llava(path: str | Path, frame: pd.DataFrame, id_prefix: pd.Series, *, image_column: str = "image",
                paths: Sequence[Sequence[str] | None] | None = None, lines: bool = False, chunk: int = 50_000) -> Path:
    """``to_llava`` of ``frame`` written atomically ``chunk`` rows at a time (a stage of millions of
    conversations never exists as Python objects all at once): a JSON list in the layout of
    ``dumps_records``, or with ``lines`` JSON lines."""
    with publishing(at(path)) as out:
        if not lines:
            out.write(b"[\n" if len(frame) else b"[]\n")
        for begin in range(0, len(frame), chunk):
            part = frame.iloc[begin:begin + chunk]
            records = to_llava(part, id_prefix.iloc[begin:begin + chunk], image_column,
                               paths[begin:begin + chunk] if paths is not None else None, start=begin)
            text = [json.dumps(r, ensure_ascii=False, allow_nan=False) for r in records]
            out.write(("".join(t + "\n" for t in text) if lines else
                       (",\n" if begin else "") + ",\n".join(text)).encode("utf-8"))
        if not lines and len(frame):
            out.write(b"\n]\n")
    return at(path)


def to_mblip_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The mBLIP view of training records: mBLIP rows as they are, and each conversation row
    (``record``) split into one record per human→gpt pair (``conversations.to_mblip``, image_id
    its image path); conversation rows with no image or several cannot be mBLIP records and are
    counted, not written."""
    if "record" not in frame.columns:
        return frame, 0
    empty = pd.Series(None, index=frame.index, dtype=object)
    columns = [frame[field] if field in frame.columns else empty for field in TRAIN_FIELDS]
    parts, skipped = [], 0
    for record, *values in zip(frame["record"], *columns):
        if not isinstance(record, str):
            parts.append(dict(zip(TRAIN_FIELDS, values)))
            continue
        try:
            parts += to_mblip(json.loads(record))
        except ConversationError:
            skipped += 1
    return pd.DataFrame(parts, columns=list(TRAIN_FIELDS)), skipped
