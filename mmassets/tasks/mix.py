"""Mixing training records: a recipe stage's entries, each scaled to its row count (``Entry.rows``:
weight × rows, an exact budget, or whole repeats), one after another, optionally shuffled.

A target of ``k`` rows from an entry of ``n`` takes ``k // n`` whole copies plus a seeded sample
(without replacement) of ``k % n`` rows, kept in the entry's own order. Same inputs and seed give
the same stage.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import pandas as pd

from mmassets.seeding import derive_seed


def scale(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """``rows`` records of ``frame``: whole copies, then a seeded sample of the rest, in frame order."""
    n = len(frame)
    if n == 0 or rows == 0:
        return frame.iloc[0:0]
    copies, rest = divmod(rows, n)
    sample = sorted(random.Random(seed).sample(range(n), rest))
    return pd.concat([frame] * copies + [frame.iloc[sample]], ignore_index=True)


def take(frame: pd.DataFrame, rows: int, seed: int, *, shuffle: bool = False, head: bool = False) -> pd.DataFrame:
    """An entry's ``rows`` records: with ``shuffle`` the entry first put in a seeded random order;
    with ``head`` its first ``rows`` (ConvLLaVA's ``SampleDataset``: shuffle, then the first
    ``sample_size``), else ``scale``."""
    if shuffle:
        order = list(range(len(frame)))
        random.Random(derive_seed(seed, "entry shuffle")).shuffle(order)
        frame = frame.iloc[order].reset_index(drop=True)
    return frame.iloc[:rows].reset_index(drop=True) if head else scale(frame, rows, seed)


def task_statistics(mix: pd.DataFrame) -> list[dict]:
    """Per task of a mix: rows, distinct images and rows per language (most first); for conversation
    rows also text-only records, conversation turns and images repaired (root ``repaired``)."""
    stats = []
    for name, part in mix.groupby("task", sort=False):
        languages = part["language"].value_counts() if "language" in part else pd.Series(dtype=int)
        stat = {"task": name, "rows": len(part), "distinct images": int(part["image_id"].nunique()),
                "languages": len(languages), "rows per language": {str(k): int(v) for k, v in languages.items()}}
        if "record" in part and part["record"].map(lambda r: isinstance(r, str)).any():
            images = part["images"].map(lambda paths: len(paths) if hasattr(paths, "__len__") else 1)
            stat.update({"text-only records": int((images == 0).sum()),
                         "turns": int(part["turns"].fillna(2).sum()) if "turns" in part else None,
                         "repaired images": int(images[part["image_root"] == "repaired"].sum())})
        stats.append(stat)
    return stats


def mix_stage(parts: Sequence[tuple], seed: int, *, shuffle: bool = False) -> pd.DataFrame:
    """A recipe stage: each ``(name, records, rows)`` scaled to ``rows`` (``scale``, seeded per
    entry; a part may add ``{"shuffle": ..., "head": ...}`` for ``take``), one after another with a
    ``task`` column naming the entry; with ``shuffle`` the whole stage is then put in a seeded
    random order. Same inputs and seed give the same stage."""
    scaled = [take(frame, rows, derive_seed(seed, "mixture", name), **(options[0] if options else {})).assign(task=name)
              for name, frame, rows, *options in parts]
    if not scaled:
        return pd.DataFrame(columns=["task"])
    stage = pd.concat(scaled, ignore_index=True)
    if shuffle:
        order = list(range(len(stage)))
        random.Random(derive_seed(seed, "mixture", "shuffle")).shuffle(order)
        stage = stage.iloc[order].reset_index(drop=True)
    return stage
