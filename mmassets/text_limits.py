"""What text may reach an export: no control characters, no absurd lengths.

Upstream files carry the odd escaped ``\\u0000`` or form feed, and now and then a broken record of a
million characters; a trainer's tokenizer meets them as garbage or as one sequence that eats a
batch. Before records are exported:

- control characters (C0 except tab, newline and carriage return; DEL; C1) are stripped, and the
  records touched counted (``control characters stripped``);
- a record with a text longer than ``max_chars`` (the setting ``MMASSETS_MAX_TEXT_CHARS``, default
  20,000 characters, ``settings.DEFAULT_MAX_TEXT_CHARS``) is dropped and counted (``longer than N
  characters``).

Every export follows these rules: mBLIP and LLaVA JSON, the eval sets, and the texts of VILA's
shards (a pair's ``text``, a document's ``text_list``).

Nothing here imports Dagster.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
STRIPPED = "control characters stripped"
ESCAPED_CONTROL = re.compile(r"\\u00[01][0-9a-fA-F]|\\u00[7-9][0-9a-fA-F]|\\[bf]|[\x7f-\x9f]")
"""A control character in JSON text, escaped or not (a cheap test before a record is parsed; it may
match an escaped backslash followed by ``b``, which parsing then clears)."""


def too_long(max_chars: int) -> str:
    return f"longer than {max_chars:,} characters"


def _clean(value: Any, max_chars: int) -> tuple[Any, bool, bool]:
    """(value with control characters stripped, whether any were, whether a text is over the limit)
    for a string, or the strings of a list or dict, recursively; other values as they are."""
    if isinstance(value, str):
        cleaned = CONTROL_CHARACTERS.sub("", value)
        return cleaned, cleaned != value, len(cleaned) > max_chars
    if isinstance(value, (list, tuple, np.ndarray)):
        items = [_clean(item, max_chars) for item in value]
        return [i[0] for i in items], any(i[1] for i in items), any(i[2] for i in items)
    if isinstance(value, dict):
        items = {key: _clean(item, max_chars) for key, item in value.items()}
        return ({k: i[0] for k, i in items.items()}, any(i[1] for i in items.values()),
                any(i[2] for i in items.values()))
    return value, False, False


def limit_text(frame: pd.DataFrame, columns: Sequence[str], max_chars: int) -> tuple[pd.DataFrame, dict[str, int]]:
    """``frame`` with control characters stripped from ``columns`` (strings or lists of strings)
    and the records with a text over ``max_chars`` dropped; counts by what was done."""
    counts: Counter[str] = Counter()
    keep = [True] * len(frame)
    changed: dict[str, list] = {}
    for column in columns:
        cleaned = [_clean(value, max_chars) for value in frame[column].tolist()]
        for position, (_, _, long) in enumerate(cleaned):
            keep[position] = keep[position] and not long
        if stripped := sum(1 for _, was_stripped, _ in cleaned if was_stripped):
            counts[STRIPPED] += stripped
            changed[column] = [value for value, _, _ in cleaned]
    if changed:
        frame = frame.assign(**{column: pd.Series(values, index=frame.index, dtype=object)
                                for column, values in changed.items()})
    if not all(keep):
        counts[too_long(max_chars)] = keep.count(False)
        frame = frame[keep]
    return frame, dict(counts)


def limit_document(document: dict, field: str, max_chars: int) -> tuple[dict | None, str | None]:
    """A document (a dict, as a VILA mmc4-type shard holds it) with control characters stripped from
    the strings of ``document[field]`` (a string or a list of them; its other fields are left as they
    are), or None where a text there is over ``max_chars``; and what was done (``STRIPPED``,
    ``too_long(max_chars)``, or None), for the caller to count."""
    texts, stripped, long = _clean(document.get(field), max_chars)
    if long:
        return None, too_long(max_chars)
    return ({**document, field: texts}, STRIPPED) if stripped else (document, None)


def limit_json_records(records: Sequence[str], max_chars: int) -> tuple[list[str | None], dict[str, int]]:
    """Each record (JSON text) with control characters stripped from its strings, or None where a
    string is over ``max_chars`` (dropped); counts by what was done. Records with neither are
    returned as they are, without being parsed."""
    out: list[str | None] = []
    counts: Counter[str] = Counter()
    for text in records:
        if len(text) <= max_chars and not ESCAPED_CONTROL.search(text):
            out.append(text)
            continue
        cleaned, stripped, long = _clean(json.loads(text), max_chars)
        if long:
            counts[too_long(max_chars)] += 1
            out.append(None)
            continue
        counts[STRIPPED] += stripped
        out.append(json.dumps(cleaned, ensure_ascii=False) if stripped else text)
    return out, {k: v for k, v in counts.items() if v}


def limit_conversations(frame: pd.DataFrame, max_chars: int) -> tuple[pd.DataFrame, dict[str, int]]:
    """``limit_json_records`` on a conversation frame's ``record`` column (JSON text), the dropped
    records left out."""
    records, counts = limit_json_records(frame["record"].tolist(), max_chars)
    keep = [record is not None for record in records]
    frame = frame.assign(record=pd.Series(records, index=frame.index, dtype=object)) if counts else frame
    return (frame if all(keep) else frame[keep]), counts


def limit_reference(reference: dict, image_ids: set) -> dict:
    """A COCO-format reference with control characters stripped and only the images (and their
    captions) in ``image_ids``: those of the records kept."""
    cleaned = _clean(reference, max_chars=math.inf)[0]
    cleaned["images"] = [image for image in cleaned.get("images", []) if image.get("id") in image_ids]
    cleaned["annotations"] = [a for a in cleaned.get("annotations", []) if a.get("image_id") in image_ids]
    return cleaned
