"""Checks on a single translation: is it usable, and if not, why.

NLLB's known failures are empty output, the source copied unchanged, an n-gram repeated in a loop,
and output far longer or shorter than its source. ``problem`` names the first failure found.
"""

from __future__ import annotations

from collections import Counter

MIN_CHARS_FOR_UNCHANGED = 4  # "OK" or "TV" legitimately stay the same
REPEAT_LIMIT = 4  # an n-gram seen this many times (and covering most of the text) is a loop
LENGTH_RATIO_RANGE = (0.15, 4.0)  # translation chars / source chars


def problem(source: str, translation: str) -> str | None:
    """``None`` for a usable translation, else one of: empty, unchanged, repetition, length ratio."""
    text = translation.strip()
    if not text:
        return "empty"
    if len(source.strip()) >= MIN_CHARS_FOR_UNCHANGED and text.casefold() == source.strip().casefold():
        return "unchanged"
    if is_repetition_loop(text):
        return "repetition"
    ratio = len(text) / max(len(source.strip()), 1)
    low, high = LENGTH_RATIO_RANGE
    if len(source.strip()) >= 10 and not low <= ratio <= high:
        return "length ratio"
    return None


def is_repetition_loop(text: str, max_n: int = 4) -> bool:
    """True when one word n-gram (n <= max_n) repeats REPEAT_LIMIT+ times and covers half the words,
    or, for unspaced scripts, one character n-gram does the same."""
    units: list[str] = text.split()
    if len(units) < REPEAT_LIMIT * 2:
        units = list(text.replace(" ", ""))  # scripts without spaces: look at characters
    for n in range(1, max_n + 1):
        grams = Counter(tuple(units[i:i + n]) for i in range(len(units) - n + 1))
        if not grams:
            break
        gram, count = grams.most_common(1)[0]
        if count >= REPEAT_LIMIT and count * n >= len(units) / 2:
            return True
    return False
