"""What an evaluation benchmark declares, so that one Dagster asset factory can wire them all.

A benchmark module (``evalsets/<name>.py``) defines ``BENCHMARK = EvalBenchmark(...)``: its name
(asset ``eval/<name>`` and export folder ``exports/eval/<name>/``), its languages (the asset's
partitions), where its images lie, and ``build(raw_dir, languages)`` returning, per language, the
eval records of every split and, for captioning, COCO-format references per split.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class EvalPart:
    """One language of a benchmark: records with columns ``context, label, image_id, text_label,
    split`` (+ benchmark-specific keys), references per split for captioning, skips by reason."""

    records: pd.DataFrame
    references: dict[str, dict] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class EvalBenchmark:
    name: str
    description: str
    languages: tuple[str, ...]
    build: Callable[[Path, Sequence[str]], dict[str, EvalPart]]
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
