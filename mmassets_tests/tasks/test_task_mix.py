"""The task mix: weights and row budgets per task, seeded sampling, statistics."""

import pandas as pd
import pytest

from mmassets.tasks.mix import mix_tasks, scale, target_rows, task_statistics


def _task(prefix: str, n: int, languages=("en", "de")) -> pd.DataFrame:
    return pd.DataFrame({"context": [f"{prefix} q{i}" for i in range(n)], "label": [f"a{i}" for i in range(n)],
                         "image_id": [f"img{i % 3}.jpg" for i in range(n)],
                         "language": [languages[i % len(languages)] for i in range(n)]})


def test_default_is_every_task_once_in_order():
    a, b = _task("a", 4), _task("b", 3)
    mix = mix_tasks({"a": a, "b": b}, seed=0)
    assert mix["task"].tolist() == ["a"] * 4 + ["b"] * 3
    assert mix["context"].tolist() == a["context"].tolist() + b["context"].tolist()


def test_weights_take_whole_copies_and_a_seeded_sample_in_task_order():
    a = _task("a", 4)
    mix = mix_tasks({"a": a}, seed=1, weights={"a": 2.5})
    assert len(mix) == 10
    assert mix["context"].tolist()[:8] == a["context"].tolist() * 2
    rest = mix["context"].tolist()[8:]
    assert len(set(rest)) == 2 and rest == sorted(rest, key=lambda c: int(c.split("q")[1]))


def test_budgets_give_exact_rows_and_weight_zero_leaves_a_task_out():
    mix = mix_tasks({"a": _task("a", 10), "b": _task("b", 5)}, seed=0, weights={"b": 0}, budgets={"a": 3})
    assert mix["task"].tolist() == ["a"] * 3


def test_same_seed_same_mix_other_seed_other_sample():
    tasks = {"a": _task("a", 50), "b": _task("b", 40)}
    one = mix_tasks(tasks, seed=7, weights={"a": 0.3, "b": 0.5})
    assert one.equals(mix_tasks(tasks, seed=7, weights={"a": 0.3, "b": 0.5}))
    assert not one.equals(mix_tasks(tasks, seed=8, weights={"a": 0.3, "b": 0.5}))
    assert (len(one[one["task"] == "a"]), len(one[one["task"] == "b"])) == (15, 20)


def test_unknown_task_negative_weight_and_both_settings_are_errors():
    tasks = {"a": _task("a", 2)}
    with pytest.raises(ValueError, match=r"unknown tasks \['ab'\]"):
        mix_tasks(tasks, seed=0, weights={"ab": 2})
    with pytest.raises(ValueError, match="weight must be >= 0"):
        target_rows("a", 2, {"a": -1}, {})
    with pytest.raises(ValueError, match="both a weight and a row budget"):
        target_rows("a", 2, {"a": 1}, {"a": 1})


def test_scale_of_an_empty_task_is_empty():
    assert scale(_task("a", 0), 5, seed=0).empty


def test_statistics_per_task():
    mix = mix_tasks({"a": _task("a", 4), "b": _task("b", 3, languages=("fr",))}, seed=0)
    assert task_statistics(mix) == [
        {"task": "a", "rows": 4, "distinct images": 3, "languages": 2, "rows per language": {"en": 2, "de": 2}},
        {"task": "b", "rows": 3, "distinct images": 3, "languages": 1, "rows per language": {"fr": 3}}]
