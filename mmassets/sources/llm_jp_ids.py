"""llm-jp's id lists, which pick the English Step-1 subsets of its Japanese VILA out of COYO-700M and
mmc4-core (``data_prepare/README.md``):

- ``llm_jp/ids/coyo_6m_ids.txt.gz``: one COYO ``id`` a line;
- ``llm_jp/ids/mmc4_6m_ids.csv.gz``: ``shard_number,index`` a line — "the index-th sample in
  ``docs_{shard_number}_v3.pkl``" (mmc4-core with faces, whose files mmc4 names
  ``docs_shard_<N>_v3.jsonl``). Whether ``index`` counts the lines of mmc4's shard file or only the
  documents that survived the image download (the pickle made by NVlabs' preparation, which keeps a
  document only when every one of its images downloaded) is not said upstream: ``select_documents``
  offers both readings, ``line`` (the default) and ``kept``.

Both files are gzip text, read as a stream; a bad line fails naming the file and line.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from mmassets.sources.validation import EMPTY_HINT, RawFileMissing, RawFormatError, shown

COYO_IDS = "llm_jp/ids/coyo_6m_ids.txt.gz"
MMC4_IDS = "llm_jp/ids/mmc4_6m_ids.csv.gz"
HOW_TO_GET = ("Download coyo_6m_ids.txt.gz and mmc4_6m_ids.csv.gz from github.com/llm-jp/llm-jp-VILA "
              "(data_prepare/mdx/coyo/ and data_prepare/mdx/mmc4/) to <raw root>/llm_jp/ids/.")
READINGS = ("line", "kept")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    if not path.is_file():
        raise RawFileMissing(path, HOW_TO_GET)
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line.strip()
    except (OSError, EOFError) as exc:  # not gzip, or cut short
        raise RawFormatError(path, f"not a complete gzip file ({exc})") from None
    except UnicodeDecodeError as exc:
        raise RawFormatError(path, f"not UTF-8 text ({exc.reason})") from None


def _integer(text: str, path: Path, number: int, field: str) -> int:
    """A non-negative int64 written in ASCII digits."""
    if not (text.isascii() and text.isdigit() and len(text) <= 19 and int(text) < 2**63):
        raise RawFormatError(path, f"{shown(text)} is not a non-negative 64-bit integer", record=f"line {number}",
                             field=field)
    return int(text)


def read_coyo_ids(path: str | Path) -> np.ndarray:
    """The COYO ids of the list, sorted, each once (int64)."""
    path = Path(path)
    ids = np.fromiter((_integer(text, path, number, "id") for number, text in _lines(path)), dtype=np.int64)
    if not len(ids):
        raise RawFormatError(path, f"holds no ids; {EMPTY_HINT}")
    return np.unique(ids)


def read_mmc4_ids(path: str | Path) -> dict[int, np.ndarray]:
    """Shard number → the indices listed for it, sorted, each once. A header line
    ``shard_number,index`` is allowed."""
    path = Path(path)
    per_shard: dict[int, list[int]] = {}
    for number, text in _lines(path):
        parts = text.split(",")
        if number == 1 and [p.strip() for p in parts] == ["shard_number", "index"]:
            continue
        if len(parts) != 2:
            raise RawFormatError(path, f"expected 'shard_number,index', got {shown(text, 60)}", record=f"line {number}")
        shard = _integer(parts[0].strip(), path, number, "shard_number")
        per_shard.setdefault(shard, []).append(_integer(parts[1].strip(), path, number, "index"))
    if not per_shard:
        raise RawFormatError(path, f"holds no ids; {EMPTY_HINT}")
    return {shard: np.unique(np.asarray(found, dtype=np.int64)) for shard, found in sorted(per_shard.items())}


def select_documents(documents: Iterable[Any], indices: np.ndarray, reading: str = "line",
                     kept: Callable[[Any], bool] = lambda _: True) -> Iterator[tuple[int, Any]]:
    """The documents of one shard that the list names, with their line (0-based) in the shard file.
    ``line``: ``index`` is the line; ``kept``: ``index`` counts only the documents ``kept`` accepts
    (those whose every image downloaded, as NVlabs' preparation keeps them in the pickles the list
    indexes). Indices past the end are not yielded: the caller counts them."""
    if reading not in READINGS:
        raise ValueError(f"unknown id-list reading {reading!r}; expected one of {', '.join(READINGS)}")
    wanted = set(int(i) for i in indices)
    position = 0
    for line, document in enumerate(documents):
        if reading == "line":
            if line in wanted:
                yield line, document
            continue
        if kept(document):
            if position in wanted:
                yield line, document
            position += 1
