"""What every reader shares: loading JSON with clear errors, field checks and safe relative paths."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class RawFormatError(ValueError):
    """A raw file that is not in its upstream format; the message names file, record and field."""

    def __init__(self, path: str | Path, problem: str, *, record: str | None = None, field: str | None = None):
        self.path, self.problem, self.record, self.field = str(path), problem, record, field
        where = "".join([f", {record}" if record else "", f", field {field!r}" if field else ""])
        super().__init__(f"{path}{where}: {problem}")


class RawFileMissing(FileNotFoundError):
    """A raw file that is not in the raw root; the message says where to get it."""

    def __init__(self, path: str | Path, how_to_get: str):
        self.path = str(path)
        super().__init__(f"raw file not found: {path}. {how_to_get}")


EMPTY_HINT = ("a required raw file with no records is taken as a broken download, not an empty dataset "
              "(nothing was built from it and earlier exports are kept)")


def load_json(path: str | Path, how_to_get: str) -> Any:
    """Parse a JSON file, naming the file and the position of a syntax error or truncation."""
    path = Path(path)
    if not path.is_file():
        raise RawFileMissing(path, how_to_get)
    try:
        with path.open("rb") as handle:
            value = json.load(handle)
    except json.JSONDecodeError as exc:
        if not path.read_bytes().strip():
            raise RawFormatError(path, f"the file is empty; {EMPTY_HINT}") from None
        raise RawFormatError(path, f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                             "the file may be truncated") from None
    except UnicodeDecodeError as exc:
        raise RawFormatError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not value and isinstance(value, (list, dict)):
        raise RawFormatError(path, f"holds no records ({json.dumps(value)}); {EMPTY_HINT}")
    return value


def require(record: Any, field: str, kind: type | tuple[type, ...], path: str | Path, where: str) -> Any:
    """``record[field]`` if present and of ``kind``, else a RawFormatError naming the field."""
    if not isinstance(record, dict):
        raise RawFormatError(path, f"expected an object, got {type(record).__name__}", record=where)
    if field not in record:
        raise RawFormatError(path, "field missing", record=where, field=field)
    value = record[field]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        expected = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise RawFormatError(path, f"expected {expected}, got {type(value).__name__}", record=where, field=field)
    return value


def safe_relative_path(value: str, path: str | Path, where: str, field: str) -> str:
    """A record's path normalised to POSIX form; absolute paths and ``..`` are rejected."""
    normalised = posixpath.normpath(value.replace("\\", "/"))
    if not value or value.startswith(("/", "\\")) or (len(value) > 1 and value[1] == ":") or \
            normalised == ".." or normalised.startswith("../"):
        raise RawFormatError(path, f"unsafe image path {value!r} (absolute or climbing out of its folder)",
                             record=where, field=field)
    return normalised


def jsonl_records(path: str | Path, how_to_get: str) -> Iterator[tuple[int, Any]]:
    """(line number, record) of each non-blank line of a JSON-lines file, naming the file and line
    of a bad one."""
    path = Path(path)
    if not path.is_file():
        raise RawFileMissing(path, how_to_get)
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                yield number, json.loads(raw)
            except json.JSONDecodeError as exc:
                raise RawFormatError(path, f"not valid JSON ({exc.msg}, column {exc.colno}); the file may be "
                                     "truncated", record=f"line {number}") from None
            except UnicodeDecodeError as exc:
                raise RawFormatError(path, f"not UTF-8 text ({exc.reason})", record=f"line {number}") from None


def load_jsonl(path: str | Path, how_to_get: str) -> list[Any]:
    """Parse a JSON-lines file (blank lines allowed), naming the file and line of a bad record."""
    records = [record for _, record in jsonl_records(path, how_to_get)]
    if not records:
        raise RawFormatError(path, f"the file holds no records; {EMPTY_HINT}")
    return records


def files_matching(folder: str | Path, pattern: str, how_to_get: str) -> list[Path]:
    """The files of ``folder`` matching ``pattern``, in name order; none is a RawFileMissing that says
    where to get them."""
    folder = Path(folder)
    files = sorted(p for p in folder.glob(pattern) if p.is_file()) if folder.is_dir() else []
    if not files:
        raise RawFileMissing(folder / pattern, how_to_get)
    return files
