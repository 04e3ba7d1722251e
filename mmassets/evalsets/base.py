"""What an evaluation benchmark declares, so that one Dagster asset factory can wire them all.

A benchmark module (``evalsets/<name>.py``) defines ``BENCHMARK = EvalBenchmark(...)``: its name
(asset ``eval/<name>`` and export folder ``exports/eval/<name>/``), its languages (the asset's
partitions), where its images lie, and ``build(raw_dir, languages)`` returning, per language, the
eval records of every split and, for captioning, COCO-format references per split.

Partial downloads are the common case (only the test split, or two languages), so a benchmark
separates its *required* files from its *optional* ones. An optional file (an extra split, the
English train set, a machine-translated dev set) that is absent is listed in ``EvalPart.absent``
and the rest is built; a language without any of its files fails alone: ``build`` returns its
error in place of its part (``build_each``), and the other languages still build.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mmassets.sources.validation import RawFileMissing, RawFormatError

RawInputError = RawFileMissing | RawFormatError
"""What a language's raw files can be wrong with: it fails that language, not the benchmark."""


@dataclass(frozen=True)
class AbsentFile:
    """An optional raw file that is not in the raw root: what it would have added and where to get it."""

    path: str
    """Relative to the raw root."""
    adds: str
    """What the benchmark lacks without it, e.g. "split test of de"."""
    how_to_get: str


@dataclass
class EvalPart:
    """One language of a benchmark: records with columns ``context, label, image_id, text_label,
    split`` (+ benchmark-specific keys), references per split for captioning, skips by reason."""

    records: pd.DataFrame
    references: dict[str, dict] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    absent: list[AbsentFile] = field(default_factory=list)
    """Optional files this language was built without."""


@dataclass(frozen=True)
class EvalBenchmark:
    name: str
    description: str
    languages: tuple[str, ...]
    build: Callable[[Path, Sequence[str]], dict[str, EvalPart | RawInputError]]
    image_path: Callable[[Path, str], Path]
    """Where the file of an image id (or of a left/right image path) lies under the raw root."""
    image_columns: tuple[str, ...] = ("image_id",)
    extra_fields: tuple[str, ...] = ()
    """Benchmark-specific keys exported after the eval fields (e.g. pair_id, concept)."""
    captioning: bool = False
    """Whether the benchmark has COCO-format references (checked with pycocotools)."""
    sources: tuple[str, ...] = ()
    """The upstream datasets it reads (``mmassets.sources.catalog``): its inputs in the graph."""


def check_languages(languages: Sequence[str], known: Sequence[str], benchmark: str) -> None:
    """A ValueError naming the requested languages that the benchmark does not have."""
    unknown = [lang for lang in languages if lang not in known]
    if unknown:
        raise ValueError(f"{benchmark} has no language(s) {unknown}; it has {', '.join(known)}")


def build_each(languages: Sequence[str], build_one: Callable[[str], EvalPart]) -> dict[str, EvalPart | RawInputError]:
    """``build_one(language)`` for each language; a language whose raw files are missing or
    malformed maps to that error, and the others still build."""
    parts: dict[str, EvalPart | RawInputError] = {}
    for language in languages:
        try:
            parts[language] = build_one(language)
        except (RawFileMissing, RawFormatError) as exc:
            parts[language] = exc
    return parts


def present_files(raw_dir: Path, splits: Mapping[str, str],
                  how_to_get: str) -> tuple[dict[str, Path], list[AbsentFile]]:
    """Of the ``splits``' files (split → path under the raw root), the present ones and the absent
    ones; when none is present, a RawFileMissing naming them all (nothing could be built)."""
    present = {split: raw_dir / path for split, path in splits.items() if (raw_dir / path).is_file()}
    if not present:
        raise RawFileMissing(" or ".join(str(raw_dir / path) for path in splits.values()), how_to_get)
    return present, [AbsentFile(path, f"split {split}", how_to_get) for split, path in splits.items()
                     if split not in present]


def optional_file(raw_dir: Path, path: str, adds: str, how_to_get: str, absent: list[AbsentFile]) -> Path | None:
    """``raw_dir / path`` if it is there, else None with the file added to ``absent``."""
    if (raw_dir / path).is_file():
        return raw_dir / path
    absent.append(AbsentFile(path, adds, how_to_get))
    return None
