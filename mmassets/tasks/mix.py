"""The task mix: every training task's records merged, each task scaled by a weight or a row budget.

A task's share of the mix is its row count times its weight (default 1: everything, once), or an
exact row budget. A target of ``k`` rows from a task of ``n`` takes ``k // n`` whole copies plus a
seeded sample (without replacement) of ``k % n`` rows, kept in the task's own order; tasks follow
one another in the order given. Same inputs and seed give the same mix.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

import pandas as pd

from mmassets.seeding import derive_seed


def target_rows(name: str, n: int, weights: Mapping[str, float], budgets: Mapping[str, int]) -> int:
    """How many rows task ``name`` (of ``n`` rows) contributes: its budget, else round(weight × n)."""
    if name in budgets and name in weights:
        raise ValueError(f"task {name!r} has both a weight and a row budget; give one")
    if name in budgets:
        if budgets[name] < 0:
            raise ValueError(f"task {name!r}: row budget must be >= 0, got {budgets[name]}")
        return int(budgets[name])
    weight = weights.get(name, 1.0)
    if weight < 0:
        raise ValueError(f"task {name!r}: weight must be >= 0, got {weight}")
    return round(weight * n)


def scale(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """``rows`` records of ``frame``: whole copies, then a seeded sample of the rest, in frame order."""
    n = len(frame)
    if n == 0 or rows == 0:
        return frame.iloc[0:0]
    copies, rest = divmod(rows, n)
    sample = sorted(random.Random(seed).sample(range(n), rest))
    return pd.concat([frame] * copies + [frame.iloc[sample]], ignore_index=True)


def mix_tasks(tasks: Mapping[str, pd.DataFrame], seed: int, *, weights: Mapping[str, float] | None = None,
              budgets: Mapping[str, int] | None = None) -> pd.DataFrame:
    """The tasks' records one after another, each scaled (see the module doc), with a ``task`` column.

    ``weights`` and ``budgets`` name tasks of ``tasks``; an unknown name is an error (a typo would
    otherwise silently leave a task at weight 1)."""
    weights, budgets = dict(weights or {}), dict(budgets or {})
    unknown = sorted((set(weights) | set(budgets)) - set(tasks))
    if unknown:
        raise ValueError(f"task mix: unknown tasks {unknown}; the tasks are {sorted(tasks)}")
    parts = [scale(frame, target_rows(name, len(frame), weights, budgets), derive_seed(seed, "task_mix", name))
             .assign(task=name) for name, frame in tasks.items()]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["task"])


def task_statistics(mix: pd.DataFrame) -> list[dict]:
    """Per task of a mix: rows, distinct images and rows per language (most first)."""
    stats = []
    for name, part in mix.groupby("task", sort=False):
        languages = part["language"].value_counts() if "language" in part else pd.Series(dtype=int)
        stats.append({"task": name, "rows": len(part), "distinct images": int(part["image_id"].nunique()),
                      "languages": len(languages),
                      "rows per language": {str(k): int(v) for k, v in languages.items()}})
    return stats
