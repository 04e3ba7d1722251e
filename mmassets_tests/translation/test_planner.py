"""The batch planner: exact under its cost model, never worse than the plain loop, within limits."""

import itertools
import math
import random

import pytest

from mmassets.translation.backend import ADDED_FIELDS, GenerationSettings, resolve_backend
from mmassets.translation.engine import plan_batches
from mmassets.translation.planner import COST_TABLE, CostModel, LengthModel, fit_cost_model, plan

CPU = COST_TABLE[("ctranslate2", "cpu")]
GPU = COST_TABLE[("transformers", "cuda")]


def steps(longest: int) -> int:
    return math.ceil(1.1 * longest)


def plan_cost(batches, lengths, cost):
    return sum(cost.batch_seconds(len(b), max(lengths[i] for i in b), steps(max(lengths[i] for i in b)))
               for b in batches)


def partitions(items):
    """Every partition of ``items`` into non-empty sets (Bell number many)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for smaller in partitions(rest):
        for k in range(len(smaller)):
            yield smaller[:k] + [[first, *smaller[k]]] + smaller[k + 1:]
        yield [[first], *smaller]


@pytest.mark.parametrize("lengths", [[30, 5, 5, 5, 29, 6], [10, 50, 10, 12, 49, 3, 3], [7, 7, 7, 7], [200, 8, 9, 199]])
@pytest.mark.parametrize("cost", [CPU, GPU, CostModel(0.0, 0.0, 1.0, 0.0)], ids=["cpu", "gpu", "rows-only"])
def test_the_plan_is_the_best_of_every_possible_partition(lengths, cost):
    best = min(plan_cost(p, lengths, cost) for p in partitions(list(range(len(lengths))))
               if all(len(b) <= 3 for b in p))
    chosen = plan(lengths, cost, steps, max_batch_size=3)
    assert chosen.predicted_seconds == pytest.approx(best)
    assert plan_cost(chosen.batches, lengths, cost) == pytest.approx(chosen.predicted_seconds)


@pytest.mark.parametrize("seed", range(6))
def test_never_predicted_slower_than_the_plain_loop(seed):
    rng = random.Random(seed)
    lengths = [rng.choice([rng.randint(5, 15), rng.randint(20, 60), rng.randint(100, 220)]) for _ in range(700)]
    for cost, loop_size in itertools.product([CPU, GPU, COST_TABLE[("transformers", "cpu")]], [64, 256]):
        chosen = plan(lengths, cost, steps, max_batch_size=256, loop_batch_size=loop_size)
        assert chosen.predicted_seconds <= chosen.loop_seconds + 1e-9
        assert sorted(i for b in chosen.batches for i in b) == list(range(len(lengths)))


@pytest.mark.parametrize("seed", range(4))
def test_batches_keep_the_token_budget_and_the_row_limit(seed):
    rng = random.Random(seed)
    lengths = [rng.randint(3, 120) for _ in range(500)]
    budget = rng.choice([128, 512, 2048])
    batches = plan_batches(lengths, budget, max_batch_size=16, cost=GPU)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= 16 and len(batch) * max(lengths[i] for i in batch) <= budget
    longest = [max(lengths[i] for i in b) for b in batches]
    assert longest == sorted(longest, reverse=True)  # longest first


def test_a_source_longer_than_the_budget_goes_alone():
    assert plan_batches([10, 50, 10], token_budget=20, max_batch_size=8) == [[1], [0, 2]]


def test_hand_made_lengths_split_where_the_cost_model_says():
    # rows cost everything: no padding is worth it, so equal lengths go together and nothing else does
    rows_only = CostModel(0.0, 0.0, 1.0, 0.0)
    assert plan_batches([5, 30, 5, 30, 5], None, 8, cost=rows_only, steps=lambda n: n) == [[1, 3], [0, 2, 4]]
    # a step costs as much as 1,000 rows: one batch of everything
    steps_only = CostModel(0.0, 1000.0, 1.0, 0.0)
    assert plan_batches([5, 30, 5, 30, 5], None, 8, cost=steps_only, steps=lambda n: n) == [[1, 3, 0, 2, 4]]
    # a step worth 2 rows: three 5s padded to 30 cost 3 × 25 = 75 row-steps, more than a second batch's 2 × 5
    two_rows = CostModel(0.0, 2.0, 1.0, 0.0)
    assert plan_batches([5, 30, 5, 30, 5], None, 8, cost=two_rows, steps=lambda n: n) == [[1, 3], [0, 2, 4]]


def test_on_a_gpu_short_and_long_sources_are_split_by_length():
    lengths = [12] * 200 + [180] * 40
    batches = plan_batches(lengths, 16_384, 256, cost=GPU, steps=steps)
    assert all(len({lengths[i] for i in b}) == 1 for b in batches)


def test_the_fit_recovers_a_known_cost_model():
    truth = CostModel(0.01, 0.05, 0.002, 0.001)
    shapes = [(1, 8, 8), (1, 32, 32), (8, 8, 32), (8, 32, 8), (32, 16, 16), (64, 8, 8)]
    fitted = fit_cost_model([(r, n, s, truth.batch_seconds(r, n, s)) for r, n, s in shapes])
    for name in ("per_batch", "per_step", "per_row_token", "per_source_token"):
        assert getattr(fitted, name) == pytest.approx(getattr(truth, name), rel=1e-6, abs=1e-9)


def test_predicted_steps_follow_the_ratio_within_the_decoding_bounds():
    settings = GenerationSettings(max_length_ratio=1.5, length_margin=0)
    model = LengthModel(1.2, settings.decoding_steps)
    assert model.steps(10) == 12
    assert LengthModel(3.0, settings.decoding_steps).steps(10) == 16  # 1.5 × 10 + the language token
    pinned = GenerationSettings(fixed_length_ratio=1.1)
    assert LengthModel(0.5, pinned.decoding_steps).steps(20) == 23  # pinned: exactly 22 + 1


def test_decoding_settings_change_the_memory_key_and_old_keys_stay():
    base = GenerationSettings()
    keys = {base.key(), GenerationSettings(num_beams=4).key(), GenerationSettings(num_beams=4, patience=2.0).key(),
            GenerationSettings(repetition_penalty=1.2).key(), GenerationSettings(no_repeat_ngram_size=3).key(),
            GenerationSettings(max_output_tokens=64).key(), GenerationSettings(max_length_ratio=1.5).key()}
    assert len(keys) == 7
    # settings added later do not change the key of translations made before they existed
    assert not any(name in base.key() for name in ADDED_FIELDS)


def test_bad_decoding_settings_are_refused():
    with pytest.raises(ValueError, match="num_beams must be at least 1"):
        GenerationSettings(num_beams=0)
    with pytest.raises(ValueError, match="patience must be positive"):
        GenerationSettings(patience=0)


def test_auto_backend_is_ctranslate2_when_installed_else_transformers(monkeypatch):
    import importlib.util

    installed = importlib.util.find_spec("ctranslate2") is not None
    assert resolve_backend("auto") == ("ctranslate2" if installed else "transformers")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ctranslate2" else real_find_spec(name, *a))
    assert resolve_backend("auto") == "transformers"
    assert resolve_backend("ctranslate2") == "ctranslate2"  # asked for by name: loading it says if it is missing
    with pytest.raises(ValueError, match="unknown translation backend 'marian'"):
        resolve_backend("marian")


def test_the_translator_resource_defaults_to_auto():
    from mmassets.defs.common.resources import NLLBTranslator

    translator = NLLBTranslator(model="mmassets-tiny-nllb")
    assert translator.backend == "auto" and translator.backend_name == resolve_backend("auto")


def test_the_context_term_is_fitted_and_makes_long_rows_go_apart():
    truth = CostModel(0.01, 2.0, 0.0025, 0.0015, per_row_context=1e-5)
    shapes = [(1, 8, 8), (1, 48, 48), (8, 8, 32), (8, 32, 8), (32, 16, 16), (64, 8, 8), (64, 40, 44), (16, 96, 104)]
    fitted = fit_cost_model([(r, n, s, truth.batch_seconds(r, n, s)) for r, n, s in shapes])
    assert fitted.per_row_context == pytest.approx(1e-5, rel=1e-6)
    # 8 long answers and 56 short sentences: one batch without the term, the long ones apart with it
    lengths = [200] * 8 + [20] * 56
    steps = LengthModel(1.1, lambda n: (1, 2 * n + 10)).steps
    flat = CostModel(0.01, 2.0, 0.0025, 0.0015)  # a step's fixed cost outweighs the short rows' savings
    assert len(plan(lengths, flat, steps, max_batch_size=256).batches) == 1
    assert [len(b) for b in plan(lengths, truth, steps, max_batch_size=256).batches] == [8, 56]
    chosen = plan(lengths, truth, steps, max_batch_size=256)
    assert chosen.predicted_seconds == pytest.approx(sum(
        truth.batch_seconds(len(b), max(lengths[i] for i in b), steps(max(lengths[i] for i in b)))
        for b in chosen.batches))
