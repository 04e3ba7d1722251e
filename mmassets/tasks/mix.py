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


def task_statistics(mix: pd.DataFrame) -> list[dict]:
    """Per task of a mix: rows, distinct images and rows per language (most first)."""
    stats = []
    for name, part in mix.groupby("task", sort=False):
        languages = part["language"].value_counts() if "language" in part else pd.Series(dtype=int)
        stats.append({"task": name, "rows": len(part), "distinct images": int(part["image_id"].nunique()),
                      "languages": len(languages),
                      "rows per language": {str(k): int(v) for k, v in languages.items()}})
    return stats


def mix_stage(parts: Sequence[tuple[str, pd.DataFrame, int]], seed: int, *, shuffle: bool = False) -> pd.DataFrame:
    """A recipe stage: each ``(name, records, rows)`` scaled to ``rows`` (``scale``, seeded per
    entry), one after another with a ``task`` column naming the entry; with ``shuffle`` the whole
    stage is then put in a seeded random order. Same inputs and seed give the same stage."""
    scaled = [scale(frame, rows, derive_seed(seed, "mixture", name)).assign(task=name) for name, frame, rows in parts]
    if not scaled:
        return pd.DataFrame(columns=["task"])
    stage = pd.concat(scaled, ignore_index=True)
    if shuffle:
        order = list(range(len(stage)))
        random.Random(derive_seed(seed, "mixture", "shuffle")).shuffle(order)
        stage = stage.iloc[order].reset_index(drop=True)
    return stage
