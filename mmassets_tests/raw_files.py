"""Shared helpers for the reader tests: write raw JSON / JSON Lines files, and check that a reader rejects one."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from mmassets.sources.validation import RawFormatError


def write_json(path: Path, data: object) -> Path:
    """Write ``data`` as one JSON document (UTF-8, non-ASCII kept as is), creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def write_jsonl(path: Path, records: Iterable[object]) -> Path:
    """Write ``records`` as JSON Lines (one JSON document and a newline each; UTF-8), creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def raw_error(read: Callable[[Path], object], path: Path, *parts: str) -> RawFormatError:
    """``read(path)`` must raise RawFormatError whose message names ``path`` and holds each of ``parts``."""
    with pytest.raises(RawFormatError) as info:
        read(path)
    message = str(info.value)
    assert str(path) in message, (str(path), message)  # explicit: asserts here are not rewritten by pytest
    for part in parts:
        assert part in message, (part, message)
    return info.value
