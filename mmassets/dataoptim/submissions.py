"""DataOptim's two submission settings, turned into training data.

- **Standard**: a text file of ids, one a line (DataOptim's example has no newline at the end). The
  records come out in file order, and an id given twice gives its record twice, as DataOptim's
  subset tool did (``get_subset_from_ids.py``, since deleted). The prefix before the first ``_``
  names the source (``svit_detail_0`` → ``svit``) through ``PREFIXES``, which says it explicitly
  where a prefix could be read two ways. An unknown id fails with its line number and the closest
  known ids; the subset tool stopped with a bare KeyError. A blank line is skipped and counted.
- **BYOD**: a whole LLaVA JSON file of the participant's own choice. It is checked (schema, every
  image resolves, ids unique), its problems are listed per record, and it is exported as it is.

Nothing here imports Dagster.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mmassets.sources.conversation_files import read_conversation_file
from mmassets.sources.validation import RawFileMissing, RawFormatError, shown

PREFIXES = {"coco": "coco", "flickr30k": "flickr30k", "textcaps": "textcaps", "vqav2": "vqav2", "okvqa": "okvqa",
            "ocrvqa": "ocrvqa", "gqa": "gqa", "textvqa": "textvqa", "aokvqa": "aokvqa", "ref3rec": "ref3rec",
            "ref3reg": "ref3reg", "shikra": "shikra", "llava": "llava", "svit": "svit"}
"""Id prefix → source. Every prefix is a source name, so none is ambiguous today; a source whose
name holds ``_`` (DataOptim's ``llava_v1.5`` file) would need its own line here."""
HOW_TO_GET = "Put your DataOptim submission files (ids: .txt, BYOD: .json) in <raw root>/dataoptim/submissions/."


class SubmissionError(ValueError):
    """A submission that cannot be turned into training data; the message names the file and line."""


@dataclass
class Selection:
    records: list[str] = field(default_factory=list)
    """The records (JSON text, as the sources hold them), in file order."""
    sources: list[str] = field(default_factory=list)
    blank_lines: int = 0


def read_ids(path: str | Path) -> list[tuple[int, str]]:
    """(line number, id) of every non-blank line of a standard submission."""
    path = Path(path)
    if not path.is_file():
        raise RawFileMissing(path, HOW_TO_GET)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise RawFormatError(path, f"not UTF-8 text ({exc.reason})", record=f"line {line}") from None
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)]


def source_of(record_id: str) -> str | None:
    return PREFIXES.get(record_id.split("_", 1)[0])


def select(path: str | Path, lookup: Callable[[str], Mapping[str, str]]) -> Selection:
    """The records a standard submission names; ``lookup(source)`` gives a source's records by id."""
    selection, tables = Selection(), {}
    for line, record_id in read_ids(path):
        if not record_id:
            selection.blank_lines += 1
            continue
        source = source_of(record_id)
        if source is None:
            raise SubmissionError(f"{path}, line {line}: id {shown(record_id)} has no known source prefix; the "
                                  f"prefixes are {', '.join(sorted(PREFIXES))}")
        if source not in tables:
            tables[source] = lookup(source)
        table = tables[source]
        if record_id not in table:
            close = difflib.get_close_matches(record_id, list(table), n=3, cutoff=0.6)
            raise SubmissionError(f"{path}, line {line}: unknown id {shown(record_id)} (source {source}); "
                                  f"closest known: {', '.join(close) if close else 'none'}")
        selection.records.append(table[record_id])
        selection.sources.append(source)
    if not selection.records:
        raise SubmissionError(f"{path}: names no ids")
    return selection


def check_byod(path: str | Path, image_exists: Callable[[str, str], bool]) -> tuple[pd.DataFrame, list[dict]]:
    """A BYOD file's records (``read_conversation_file``: a schema error fails naming the record and
    field) and its problems, one entry per record and problem: an id used before, an image that
    does not resolve (``image_exists(record id, image path)``), an unsafe image path."""
    frame = read_conversation_file(path, HOW_TO_GET, unsafe_paths="skip")
    problems, first = [], {}
    for i, record_id, images, unsafe in zip(frame["source_index"], frame["id"], frame["images"], frame["unsafe_path"]):
        if record_id in first:
            problems.append({"record": int(i), "id": record_id, "problem": f"id also used by record {first[record_id]}"})
        first.setdefault(record_id, int(i))
        if unsafe:
            problems.append({"record": int(i), "id": record_id, "problem": f"unsafe image path {shown(unsafe)}"})
        problems += [{"record": int(i), "id": record_id, "problem": f"image {shown(image)} not found"}
                     for image in images if not image_exists(record_id, image)]
    return frame, problems
