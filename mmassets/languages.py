"""The language table of the task mix and the deterministic assignment of records to languages.

The table (default: ``mmassets/reference/languages.json``, the mBLIP figures) lists every language
with its mC4-style code, English name, NLLB-200 code and two share columns: ``mc4_percent`` (used for
translated captions, VQA, LLaVA and matching data) and ``mt5_percent`` (ImageNet classification).

Assignment: a seeded shuffle of the record indices, then consecutive slices whose sizes follow the
shares by the largest-remainder method, so every record lands in exactly one language and the
counts are the closest integers to ``share * n`` that still add up to ``n``.
"""

from __future__ import annotations

import json
import math
import random
from fractions import Fraction
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from mmassets.files import safe_name

DEFAULT_TABLE = Path(__file__).parent / "reference" / "languages.json"
SHARE_COLUMNS = ("mc4_percent", "mt5_percent")
SOURCE_LANGUAGE = "en"


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    nllb: str
    mc4_percent: float
    mt5_percent: float

    @property
    def display_name(self) -> str:
        """The English name used in instructions ("former Hebrew" in the table reads "Hebrew")."""
        return self.name.removeprefix("former ").strip()


class LanguageTable:
    """An ordered, validated set of languages loaded from a JSON table."""

    def __init__(self, languages: Sequence[Language], source: str = "<memory>"):
        codes = [safe_name(lang.code, f"{source}: language code") for lang in languages]
        if len(set(codes)) != len(codes):
            dupes = sorted({c for c in codes if codes.count(c) > 1})
            raise ValueError(f"{source}: duplicate language codes {dupes}")
        if SOURCE_LANGUAGE not in codes:
            raise ValueError(f"{source}: the table must contain the source language {SOURCE_LANGUAGE!r}")
        self.languages = tuple(languages)
        self.source = source
        self._by_code = {lang.code: lang for lang in languages}

    @classmethod
    def load(cls, path: str | Path | None = None) -> LanguageTable:
        path = Path(path) if path else DEFAULT_TABLE
        return _load_table(str(path.resolve()))

    @property
    def codes(self) -> list[str]:
        return [lang.code for lang in self.languages]

    def __getitem__(self, code: str) -> Language:
        try:
            return self._by_code[code]
        except KeyError:
            raise KeyError(f"unknown language code {code!r} (table {self.source})") from None

    def __len__(self) -> int:
        return len(self.languages)

    def shares(self, column: str = "mc4_percent") -> dict[str, float]:
        if column not in SHARE_COLUMNS:
            raise ValueError(f"share column must be one of {SHARE_COLUMNS}, got {column!r}")
        return {lang.code: getattr(lang, column) for lang in self.languages}


@lru_cache(maxsize=8)
def _load_table(path: str) -> LanguageTable:
    try:
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"language table not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(rows, list):
        raise ValueError(f"{path}: expected a JSON list of languages, got {type(rows).__name__}")
    languages = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ValueError(f"{path}: language #{i}: expected an object, got {type(row).__name__}")
        for field in ("code", "name", "nllb", *SHARE_COLUMNS):
            if field not in row:
                raise ValueError(f"{path}: language #{i} lacks field {field!r}")
        for field in ("code", "name", "nllb"):
            if not isinstance(row[field], str) or not row[field].strip():
                raise ValueError(f"{path}: language #{i}, field {field!r}: expected a non-empty string, "
                                 f"got {row[field]!r}")
        shares = [row[c] for c in SHARE_COLUMNS]
        if any(isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s) or s < 0 for s in shares):
            raise ValueError(f"{path}: language #{i} ({row['code']}) has a negative or non-numeric share")
        languages.append(Language(**{k: row[k] for k in ("code", "name", "nllb", *SHARE_COLUMNS)}))
    for column in SHARE_COLUMNS:
        if languages and sum(getattr(lang, column) for lang in languages) <= 0:
            raise ValueError(f"{path}: the {column} shares add up to 0; at least one must be positive")
    return LanguageTable(languages, source=path)


def largest_remainder_counts(n: int, shares: Mapping[str, float]) -> dict[str, int]:
    """Split ``n`` items over the keys of ``shares`` in proportion, summing exactly to ``n``.

    Each key gets ``floor(n * share / total)``; the items left over go one each to the keys with the
    largest fractional remainders (ties broken by the order of ``shares``).
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    exact = {code: Fraction(share) for code, share in shares.items()}  # exact: ties are real ties
    total = sum(exact.values())
    if total <= 0:
        raise ValueError("shares must have a positive sum")
    quotas = {code: n * share / total for code, share in exact.items()}
    counts = {code: math.floor(q) for code, q in quotas.items()}
    left = n - sum(counts.values())
    order = list(shares)
    by_remainder = sorted(order, key=lambda c: (-(quotas[c] - counts[c]), order.index(c)))
    for code in by_remainder[:left]:
        counts[code] += 1
    return counts


def assign_languages(n: int, shares: Mapping[str, float], seed: int) -> list[str]:
    """The language of each of ``n`` records (by index): seeded shuffle, then slices by share."""
    counts = largest_remainder_counts(n, shares)
    order = list(range(n))
    random.Random(seed).shuffle(order)
    assigned = [""] * n
    start = 0
    for code in shares:  # slices in table order
        for index in order[start : start + counts[code]]:
            assigned[index] = code
        start += counts[code]
    return assigned
