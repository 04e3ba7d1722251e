"""Instruction lists and how records get them: seeded choice for English, rotation per language."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pandas as pd


def choose(instructions: Sequence[str], n: int, seed: int) -> list[str]:
    """``n`` instructions drawn with a seeded RNG (the English records' contexts)."""
    if not instructions:
        raise ValueError("no instructions to choose from")
    rng = random.Random(seed)
    return [rng.choice(instructions) for _ in range(n)]


def name_language(templates: Sequence[str], language_name: str) -> list[str]:
    """Templates with ``{language}`` filled in, e.g. "A short caption of the image in German:"."""
    return [t.format(language=language_name) for t in templates]


def rotate(records: pd.DataFrame, instructions: pd.DataFrame, *, by: str = "language") -> pd.Series:
    """For each record, the next instruction of its language's list, cycling: record ``i`` of a
    language gets instruction ``i % len(list)``. ``instructions`` has columns ``by`` and ``instruction``
    in list order; a language with records but no instruction is an error that names it."""
    lists = instructions.groupby(by, sort=False)["instruction"].agg(list).to_dict()
    missing = sorted(set(records[by]) - set(lists))
    if missing:
        raise ValueError(f"no instructions for languages {missing}")
    position = records.groupby(by, sort=False).cumcount()
    return pd.Series(
        [lists[lang][i % len(lists[lang])] for lang, i in zip(records[by], position)],
        index=records.index, dtype=object,
    )
