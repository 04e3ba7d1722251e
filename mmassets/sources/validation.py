"""What every reader shares: loading JSON (whole or streamed) with clear errors, field checks, safe relative
paths and URLs; an error names the file, the record and the field, and quotes no more than a little of a value."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class RawFormatError(ValueError):
    """A raw file that is not in its upstream format; the message names file, record and field."""

    def __init__(self, path: str | Path, problem: str, *, record: str | None = None, field: str | None = None):
        problem, record, field = _cut(problem), record and _cut(record), field and _cut(field)  # values from the file
        self.path, self.problem, self.record, self.field = str(path), problem, record, field
        where = "".join([f", {record}" if record else "", f", field {field!r}" if field else ""])
        super().__init__(f"{path}{where}: {problem}")


def _cut(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... (cut from {len(text)} characters)"


class RawFileMissing(FileNotFoundError):
    """A raw file that is not in the raw root; the message says where to get it."""

    def __init__(self, path: str | Path, how_to_get: str):
        self.path, self.how_to_get = str(path), how_to_get
        super().__init__(f"raw file not found: {path}. {how_to_get}")


TOO_DEEP = "arrays or objects nested too deeply to read (Python's JSON parser stops at about 1,000 levels)"
EMPTY_HINT = ("a required raw file with no records is taken as a broken download, not an empty dataset "
              "(nothing was built from it and earlier exports are kept)")


LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""A UTF-16 surrogate code point left alone in a string: JSON's ``\\ud800`` escapes (and pickles) can
make one, no UTF-8 writer (Parquet, JSON exports) can encode it. Readers replace each with U+FFFD."""
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
                                rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")
"""A lone surrogate's escape in JSON bytes: a high one not followed by a low one, or a low one not
after a high one (a pair, as ``ensure_ascii`` writes an emoji, is one character). A cheap test before
the parsed value is walked; an escaped backslash before ``u`` may match too, which costs only the walk."""
REPLACEMENT = "\ufffd"
LONE_SURROGATES = "lone surrogates replaced"
_replaced: dict[str, list] = {}
"""File → [lone surrogates replaced in its last reading, where the first one was]."""


def forget_replacements(path: str | Path) -> None:
    """Start counting ``path``'s replacements afresh (a reader calls it as it opens the file)."""
    _replaced.pop(str(path), None)


def replacements(*paths: str | Path) -> tuple[int, str | None]:
    """(lone surrogates replaced with U+FFFD in the last reading of ``paths``, where the first one
    was: "file, record, field"), forgotten once asked for."""
    found = [_replaced.pop(str(path)) for path in paths if str(path) in _replaced]
    return sum(n for n, _ in found), (found[0][1] if found else None)


def without_lone_surrogates(value: Any, path: str | Path, record: str | None = None) -> Any:
    """``value`` (a string, or lists and dicts of them, as parsed from JSON or a plain pickle) with
    each lone surrogate replaced by U+FFFD, in place for lists and dicts; each replacement counted
    for ``path`` (``replacements``) with the record and field of the first."""
    def fix(text: str, where: str) -> str:
        if text.isascii():
            return text
        fixed, n = LONE_SURROGATE.subn(REPLACEMENT, text)
        if n and str(path) not in _replaced:
            if where:  # a string inside the record: the record, the path down to the field, the field
                inner, _, field = where.rpartition(".")
                inner = ", ".join(part for part in (record, inner) if part)
            else:  # the record is the string: its own path may end in a field
                inner, _, field = (record or "").rpartition(".") if "." in (record or "") else (record, "", "")
            _replaced[str(path)] = [0, f"{path}" + (f", {_cut(inner, 200)}" if inner else "")
                                    + (f", field {_cut(field, 100)!r}" if field else "")]
        if n:
            _replaced[str(path)][0] += n
        return fixed

    if isinstance(value, str):
        return fix(value, "")
    seen: set[int] = set()
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        container, where = stack.pop()
        if id(container) in seen:  # a pickle may share a list among records: fixed once
            continue
        seen.add(id(container))
        if isinstance(container, dict):
            if any(isinstance(key, str) and LONE_SURROGATE.search(key) for key in container):
                items = [(fix(k, f"{where}.{k}" if where else k) if isinstance(k, str) else k, v)
                         for k, v in container.items()]
                container.clear()
                container.update(items)
            pairs = [(key, f"{where}.{key}" if where else str(key)) for key in container]
        elif isinstance(container, list):
            pairs = [(index, f"{where}[{index}]") for index in range(len(container))]
        else:
            continue
        nested = []
        for key, inner in pairs:
            item = container[key]
            if isinstance(item, str):
                if not item.isascii():
                    container[key] = fix(item, inner)
            elif isinstance(item, (dict, list)):
                nested.append((item, inner))
        stack.extend(reversed(nested))
    return value


def load_json(path: str | Path, how_to_get: str, *, unique_keys: bool = False) -> Any:
    """Parse a JSON file, naming the file and the position of a syntax error or truncation.
    ``unique_keys``: a top-level object keyed by record id must not repeat a key (a JSON parser keeps
    only the last of them, unseen)."""
    path = Path(path)
    if not path.is_file():
        raise RawFileMissing(path, how_to_get)
    repeated: list = []

    def pairs_hook(pairs: list) -> dict:  # the top-level object is the last one closed
        value = dict(pairs)
        repeated[:] = [pairs] if len(value) != len(pairs) else []
        return value

    forget_replacements(path)
    try:
        data = path.read_bytes()
        value = json.loads(data, object_pairs_hook=pairs_hook if unique_keys else None)
    except json.JSONDecodeError as exc:
        if not path.read_bytes().strip():
            raise RawFormatError(path, f"the file is empty; {EMPTY_HINT}") from None
        raise RawFormatError(path, f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                             "the file may be truncated") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise RawFormatError(path, f"not UTF-8 text ({exc.reason} at line {line}, byte {exc.start})") from None
    except RecursionError:
        raise RawFormatError(path, TOO_DEEP) from None
    if repeated and isinstance(value, dict):
        seen: set = set()
        key = next(k for k, _ in repeated[0] if k in seen or seen.add(k))
        raise RawFormatError(path, "the key is repeated in the top-level object (a JSON parser would keep only the "
                             "last)", record=f"key {shown(key)}")
    if not value and isinstance(value, (list, dict)):
        raise RawFormatError(path, f"holds no records ({json.dumps(value)}); {EMPTY_HINT}")
    if _ESCAPED_SURROGATE.search(data):
        value = without_lone_surrogates(value, path)
    del data
    return value


def shown(value: Any, limit: int = 120) -> str:
    """``repr(value)``, cut to about ``limit`` characters: a hostile value must not make a huge message."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


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
    """A record's path normalised to POSIX form; empty, absolute (``/``, ``\\``, a drive ``C:``), climbing
    (``..``) and NUL-holding paths are rejected."""
    normalised = posixpath.normpath(value.replace("\\", "/"))
    if not value or "\0" in value or value.startswith(("/", "\\")) or (len(value) > 1 and value[1] == ":") or \
            normalised in (".", "..") or normalised.startswith("../"):
        raise RawFormatError(path, f"unsafe image path {shown(value)} (empty, absolute, climbing out of its folder "
                             "or holding a NUL character)", record=where, field=field)
    return normalised


def http_url(value: str, path: str | Path, where: str, field: str) -> str:
    """``value`` if it is an http(s) URL with a host, else a RawFormatError naming the field."""
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or "\0" in value:
        raise RawFormatError(path, f"not an http(s) URL: {shown(value)}", record=where, field=field)
    return value


def json_items(path: str | Path, how_to_get: str, expected: str, *, keyed: str = "") -> Iterator[tuple[Any, Any]]:
    """Stream a large JSON file (ijson): (index, record) of each item of a top-level array, or, where
    ``keyed`` names the keys ("question"), (key, record) of each member of a top-level object. A missing
    or empty file, another top level (``expected`` says which), bad JSON or non-UTF-8 bytes fail naming
    the file and the record where it broke."""
    import ijson

    path = Path(path)
    if not path.is_file():
        raise RawFileMissing(path, how_to_get)
    with path.open("rb") as handle:
        start = handle.read(1024).lstrip()[:1]
        if not start:
            raise RawFormatError(path, f"the file is empty; {EMPTY_HINT}")
        if start != (b"{" if keyed else b"["):
            raise RawFormatError(path, f"expected {expected}")
        handle.seek(0)
        forget_replacements(path)
        escaped = _holds_surrogate_escapes(handle)
        # the C backend turns a lone surrogate into "?" or a decoding error; the Python one keeps it
        backend = ijson.get_backend("python") if escaped else ijson
        count, last = 0, None
        try:
            if keyed:
                for key, record in backend.kvitems(handle, "", use_float=True):
                    if escaped:
                        key = without_lone_surrogates(key, path)
                        record = without_lone_surrogates(record, path, f"{keyed} {shown(key)}")
                    yield key, record
                    count, last = count + 1, key
            else:
                for index, record in enumerate(backend.items(handle, "item", use_float=True)):
                    yield index, without_lone_surrogates(record, path, f"record {index}") if escaped else record
                    count = index + 1
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            message = exc.args[0] if exc.args else exc
            if isinstance(message, bytes):
                message = message.decode("utf-8", "replace")
            first = next((line.strip() for line in str(message).splitlines() if line.strip()), type(exc).__name__)
            after = f" after {keyed} {shown(last)}" if keyed and count else ""
            if isinstance(exc, UnicodeDecodeError) or "UTF8" in first:
                problem = f"not UTF-8 text{after} ({first})"
            else:
                problem = f"not valid JSON{after} ({first}); the file may be truncated"
            raise RawFormatError(path, problem, record=f"record {count}") from None


def _holds_surrogate_escapes(handle: Any, chunk: int = 1 << 24) -> bool:
    """Whether the file holds a ``\\uD800``-``\\uDFFF`` escape (read in chunks; rewound after)."""
    tail = b""
    try:
        while block := handle.read(chunk):
            if _ESCAPED_SURROGATE.search(tail + block):
                return True
            tail = block[-11:]
        return False
    finally:
        handle.seek(0)


def jsonl_records(path: str | Path, how_to_get: str) -> Iterator[tuple[int, Any]]:
    """(line number, record) of each non-blank line of a JSON-lines file, naming the file and line
    of a bad one."""
    path = Path(path)
    if not path.is_file():
        raise RawFileMissing(path, how_to_get)
    forget_replacements(path)
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                yield number, json_line(path, raw, number)


def json_line(path: str | Path, raw: bytes, number: int) -> Any:
    """Line ``number`` of the JSON-lines file ``path`` parsed, or a ``RawFormatError`` naming both."""
    try:
        value = json.loads(raw)
        return without_lone_surrogates(value, path, f"line {number}") if _ESCAPED_SURROGATE.search(raw) else value
    except json.JSONDecodeError as exc:
        raise RawFormatError(path, f"not valid JSON ({exc.msg}, column {exc.colno}); the file may be "
                             "truncated", record=f"line {number}") from None
    except UnicodeDecodeError as exc:
        raise RawFormatError(path, f"not UTF-8 text ({exc.reason})", record=f"line {number}") from None
    except RecursionError:
        raise RawFormatError(path, TOO_DEEP, record=f"line {number}") from None


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
