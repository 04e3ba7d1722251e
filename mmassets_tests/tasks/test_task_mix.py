"""Mixing a recipe stage: entries in order, each scaled by weight, budget or repeat with seeded
sampling kept in order, an optional seeded shuffle, and statistics per entry."""

import pandas as pd

from mmassets.recipes import Entry
from mmassets.tasks.mix import mix_stage, scale, task_statistics


def _task(prefix: str, n: int, languages=("en", "de")) -> pd.DataFrame:
    return pd.DataFrame({"context": [f"{prefix} q{i}" for i in range(n)], "label": [f"a{i}" for i in range(n)],
                         "image_id": [f"img{i % 3}.jpg" for i in range(n)],
                         "language": [languages[i % len(languages)] for i in range(n)]})


def _mix(entries: dict[str, tuple[pd.DataFrame, Entry]], seed: int = 0, **kwargs) -> pd.DataFrame:
    return mix_stage([(name, frame, entry.rows(len(frame))) for name, (frame, entry) in entries.items()], seed, **kwargs)


def test_default_is_every_entry_once_in_order():
    a, b = _task("a", 4), _task("b", 3)
    mix = _mix({"a": (a, Entry("train/a")), "b": (b, Entry("train/b"))})
    assert mix["task"].tolist() == ["a"] * 4 + ["b"] * 3
    assert mix["context"].tolist() == a["context"].tolist() + b["context"].tolist()


def test_weights_take_whole_copies_and_a_seeded_sample_in_entry_order():
    a = _task("a", 4)
    mix = _mix({"a": (a, Entry("train/a", weight=2.5))}, seed=1)
    assert len(mix) == 10
    assert mix["context"].tolist()[:8] == a["context"].tolist() * 2
    rest = mix["context"].tolist()[8:]
    assert len(set(rest)) == 2 and rest == sorted(rest, key=lambda c: int(c.split("q")[1]))


def test_budgets_give_exact_rows_and_weight_zero_leaves_an_entry_out():
    mix = _mix({"a": (_task("a", 10), Entry("train/a", budget=3)), "b": (_task("b", 5), Entry("train/b", weight=0))})
    assert mix["task"].tolist() == ["a"] * 3


def test_same_seed_same_mix_other_seed_other_sample():
    entries = {"a": (_task("a", 50), Entry("train/a", weight=0.3)), "b": (_task("b", 40), Entry("train/b", weight=0.5))}
    one = _mix(entries, seed=7)
    assert one.equals(_mix(entries, seed=7))
    assert not one.equals(_mix(entries, seed=8))
    assert (len(one[one["task"] == "a"]), len(one[one["task"] == "b"])) == (15, 20)


def test_a_shuffled_stage_holds_the_same_records_in_a_seeded_order():
    entries = {"a": (_task("a", 20), Entry("train/a")), "b": (_task("b", 20), Entry("train/b", repeat=2))}
    plain, shuffled = _mix(entries), _mix(entries, shuffle=True)
    assert sorted(shuffled["context"]) == sorted(plain["context"]) and len(shuffled) == 60
    assert shuffled["context"].tolist() != plain["context"].tolist()
    assert shuffled.equals(_mix(entries, shuffle=True))


def test_scale_of_an_empty_task_is_empty():
    assert scale(_task("a", 0), 5, seed=0).empty


def test_statistics_per_entry():
    mix = _mix({"a": (_task("a", 4), Entry("train/a")), "b": (_task("b", 3, languages=("fr",)), Entry("train/b"))})
    assert task_statistics(mix) == [
        {"task": "a", "rows": 4, "distinct images": 3, "languages": 2, "rows per language": {"en": 2, "de": 2}},
        {"task": "b", "rows": 3, "distinct images": 3, "languages": 1, "rows per language": {"fr": 3}}]
