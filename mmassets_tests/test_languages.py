"""Tests for the language table and the deterministic language assignment."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from pathlib import Path

import pytest

from mmassets.languages import LanguageTable, assign_languages, largest_remainder_counts

SIZES = (0, 1, 7, 140, 10_007)


def _random_shares(seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    shares = {f"l{i}": rng.random() * rng.choice([0.01, 1, 100]) for i in range(rng.randint(1, 30))}
    if rng.random() < 0.5:  # some languages with no share at all
        shares[f"zero{seed}"] = 0.0
    return shares


def _check_counts(n: int, shares: dict[str, float]) -> None:
    counts = largest_remainder_counts(n, shares)
    assert list(counts) == list(shares)
    assert sum(counts.values()) == n
    total = sum(shares.values())
    for code, count in counts.items():
        quota = n * shares[code] / total
        assert count >= 0
        assert abs(count - quota) < 1 + 1e-9, (code, count, quota)


# --- the packaged table -------------------------------------------------------------------------

def test_packaged_table_has_96_languages_including_english() -> None:
    table = LanguageTable.load()
    assert len(table) == 96
    assert len(set(table.codes)) == 96
    assert "en" in table.codes
    assert table["en"].name == "English"
    assert table["de"].nllb == "deu_Latn"


@pytest.mark.parametrize("column", ["mc4_percent", "mt5_percent"])
def test_packaged_share_columns_sum_to_100(column: str) -> None:
    shares = LanguageTable.load().shares(column)
    assert sum(shares.values()) == pytest.approx(100, abs=1e-6)
    assert all(share >= 0 for share in shares.values())


def test_unknown_share_column_and_code_are_errors() -> None:
    table = LanguageTable.load()
    with pytest.raises(ValueError, match="share column"):
        table.shares("percent")
    with pytest.raises(KeyError, match="xx"):
        table["xx"]


def test_display_name_drops_former() -> None:
    table = LanguageTable.load()
    assert table["iw"].name == "former Hebrew"
    assert table["iw"].display_name == "Hebrew"
    assert table["de"].display_name == "German"


# --- largest remainder --------------------------------------------------------------------------

@pytest.mark.parametrize("n", SIZES)
def test_counts_with_mc4_shares_sum_to_n(n: int) -> None:
    _check_counts(n, LanguageTable.load().shares("mc4_percent"))


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("n", SIZES)
def test_counts_with_random_shares_sum_to_n(n: int, seed: int) -> None:
    _check_counts(n, _random_shares(seed))


def test_counts_hand_worked() -> None:
    # 10 over three equal shares: quotas 3.33 each, floors 3+3+3 = 9, one left over; the
    # remainders tie (0.33 each), so the first key gets it.
    assert largest_remainder_counts(10, {"a": 1, "b": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}
    # Same shares in another order: the tie goes to the new first key.
    assert largest_remainder_counts(10, {"c": 1, "a": 1, "b": 1}) == {"c": 4, "a": 3, "b": 3}
    # 7 over 5:2 (total 7): quotas exactly 5 and 2, nothing left over.
    assert largest_remainder_counts(7, {"x": 5, "y": 2}) == {"x": 5, "y": 2}
    # 5 over 1:2:7 (total 10): quotas 0.5, 1.0, 3.5 -> floors 0, 1, 3 (sum 4), one left; remainders
    # 0.5, 0.0, 0.5 tie between a and c -> a (first). Counts 1, 1, 3.
    assert largest_remainder_counts(5, {"a": 1, "b": 2, "c": 7}) == {"a": 1, "b": 1, "c": 3}


def test_counts_tie_goes_to_first_key_with_unequal_quotas() -> None:
    # 16 over 1:12:1:8 (total 22): quotas 16/22 = 0.727, 192/22 = 8.727, 0.727, 128/22 = 5.818.
    # Floors 0, 8, 0, 5 (sum 13), three left over. Remainders 0.727, 0.727, 0.727, 0.818 (exactly
    # 16/22 for a, b and c): d first, then the tie a, b, c goes to a and b in order.
    assert largest_remainder_counts(16, {"a": 1, "b": 12, "c": 1, "d": 8}) == {"a": 1, "b": 9, "c": 0, "d": 6}


def test_counts_reject_bad_input() -> None:
    with pytest.raises(ValueError):
        largest_remainder_counts(-1, {"a": 1})
    with pytest.raises(ValueError):
        largest_remainder_counts(3, {"a": 0, "b": 0})


# --- assignment ---------------------------------------------------------------------------------

@pytest.mark.parametrize("n", SIZES)
def test_assign_languages_matches_counts(n: int) -> None:
    shares = LanguageTable.load().shares("mc4_percent")
    assigned = assign_languages(n, shares, seed=3)
    assert len(assigned) == n  # every index has exactly one language
    assert all(code in shares for code in assigned)
    counts = largest_remainder_counts(n, shares)
    assert Counter(assigned) == Counter({code: c for code, c in counts.items() if c})


def test_assign_languages_is_seeded() -> None:
    shares = _random_shares(1)
    assert assign_languages(500, shares, seed=7) == assign_languages(500, shares, seed=7)
    assert assign_languages(500, shares, seed=7) != assign_languages(500, shares, seed=8)


def test_assign_languages_slices_in_table_order() -> None:
    # The shuffled index order is random.Random(seed).shuffle(range(n)); the first counts["a"]
    # indices of that order get "a", the next counts["b"] get "b", and so on.
    shares = {"a": 5, "b": 3, "c": 2}
    n, seed = 10, 11
    order = list(range(n))
    random.Random(seed).shuffle(order)
    assigned = assign_languages(n, shares, seed)
    assert [assigned[i] for i in order] == ["a"] * 5 + ["b"] * 3 + ["c"] * 2


# --- broken table files -------------------------------------------------------------------------

def _row(code: str, **changes: object) -> dict:
    row = {"code": code, "name": code.upper(), "nllb": f"{code}_Latn", "mc4_percent": 50.0, "mt5_percent": 50.0}
    row.update(changes)
    return row


def _write_table(tmp_path: Path, rows: object, name: str = "languages.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def test_small_good_table_loads(tmp_path: Path) -> None:
    table = LanguageTable.load(_write_table(tmp_path, [_row("en"), _row("de")]))
    assert table.codes == ["en", "de"]
    assert table.shares() == {"en": 50.0, "de": 50.0}


@pytest.mark.parametrize("rows, message", [
    ([_row("en"), _row("de"), _row("de")], "duplicate"),
    ([_row("en"), {k: v for k, v in _row("de").items() if k != "nllb"}], "nllb"),
    ([_row("en"), _row("de", mt5_percent=-1.0)], "negative"),
    ([_row("en"), _row("de", mc4_percent="1.5")], "non-numeric"),
    ([_row("en"), _row("de", mc4_percent=math.nan)], "negative or non-numeric"),
    ([_row("de")], "source language"),
    ({"en": _row("en")}, "list"),
])
def test_bad_table_raises_naming_the_file(tmp_path: Path, rows: object, message: str) -> None:
    path = _write_table(tmp_path, rows)
    with pytest.raises(ValueError, match=message) as info:
        LanguageTable.load(path)
    assert str(path) in str(info.value)


def test_table_not_json_raises_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "languages.json"
    path.write_text('[{"code": "en", ', encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON") as info:
        LanguageTable.load(path)
    assert str(path) in str(info.value)


def test_missing_table_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere.json"):
        LanguageTable.load(tmp_path / "nowhere.json")
