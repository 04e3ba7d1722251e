"""Batch planning by predicted time: a cost model per backend and device, and an exact plan.

A batch of ``rows`` sources whose longest has ``L`` tokens, decoding ``steps`` steps (a batch
decodes until its longest output: transformers and pinned-length runs keep finished rows in
the batch), is predicted to take::

    per_batch + steps × (per_step + per_row_token × rows) + per_source_token × rows × L
              + per_row_context × rows × (steps × L + steps × (steps + 1) / 2)

``per_step`` is what a decoding step costs however few rows it has (every step reads all the
weights and launches every kernel); ``per_row_token`` is the work of one row for one step;
``per_source_token`` the encoder's work per padded source position; ``per_batch`` the fixed
cost of a call (tokenizing, the encoder's launch, Python); ``per_row_context`` what each step of a
row costs per position it attends to (the source's ``L`` and the outputs so far: reading the
key/value caches, which on a CPU makes long rows cost far more than their length suggests —
measured: a batch of 64 answers of 250 steps took 3.5 times what the first four terms predict).
Only the ratios between the terms matter to a plan, so a table of measured ratios serves every
model size on a device kind.

:func:`plan` sorts the sources by length, longest first, and chooses batch boundaries by
dynamic programming over that order: the cheapest partition into contiguous runs, each within
the row limit and the token budget (rows × longest source). Sorted contiguous runs lose nothing:
any partition of the same strings into batches of the same sizes, taken longest-batch first, has
batches whose longest source is at least the sorted run's (see :func:`plan`), and the cost grows
with that length — so the plan is never predicted slower than the plain loop over the same
strings (fixed batches in input order) whenever the loop's batches fit the budget.

Output lengths are predicted from source lengths by :class:`LengthModel`: a ratio per target
language (learned from what the translation memory has stored), clamped to the decoding bounds.

Pure Python and numpy; no torch, no Dagster.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

COEFFICIENTS = ("per_batch", "per_step", "per_row_token", "per_source_token", "per_row_context")


@dataclass(frozen=True)
class CostModel:
    """Seconds per batch as a linear function of its shape (module docstring); ``origin`` says
    where the figures came from (a table entry, or a calibration)."""

    per_batch: float
    per_step: float
    per_row_token: float
    per_source_token: float
    origin: str = "given"
    per_row_context: float = 0.0

    def __post_init__(self):
        values = [getattr(self, name) for name in COEFFICIENTS]
        if any(not math.isfinite(v) or v < 0 for v in values) or not any(values[1:3]):
            raise ValueError(f"a cost model needs finite, non-negative coefficients and a decoding cost: {self}")

    def batch_seconds(self, rows: int, longest_source: int, steps: int) -> float:
        return (self.per_batch + steps * (self.per_step + self.per_row_token * rows)
                + self.per_source_token * rows * longest_source
                + self.per_row_context * rows * attended(longest_source, steps))

    @property
    def rows_per_step_cost(self) -> float:
        """How many rows one step's fixed cost is worth: small on a CPU, hundreds on a GPU."""
        return self.per_step / self.per_row_token if self.per_row_token else math.inf

    def describe(self) -> str:
        return (f"{self.per_batch * 1e3:.3g} ms per batch + steps × ({self.per_step * 1e3:.3g} ms + "
                f"{self.per_row_token * 1e3:.3g} ms × rows) + {self.per_source_token * 1e3:.3g} ms per padded "
                f"source token + {self.per_row_context * 1e6:.3g} µs per row and attended position (one step's fixed cost = "
                f"{self.rows_per_step_cost:.3g} rows; {self.origin})")

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


# Measured ratios (seconds are for NLLB-200-distilled-600M shapes; only ratios steer a plan).
# cpu: benchmarks/translate_throughput.py --calibrate on 2 x86_64 cores, 2026-12-03 (nine shapes from
# 1 row × 8 tokens to 128 rows and to 104 steps over 96 source tokens).
# cuda: estimates (weights read once per step at HBM speed, kernel launches, 2 × parameters FLOPs per
# row-token at bf16 tensor-core speed, key/value caches at HBM speed) until benchmarks/gpu.sh measures
# them on a lent GPU.
COST_TABLE: dict[tuple[str, str], CostModel] = {
    ("ctranslate2", "cpu"): CostModel(85.1e-3, 43.5e-3, 2.95e-3, 1.88e-3, "table: ctranslate2 int8 on 2 CPU cores",
                                      per_row_context=17.2e-6),
    ("transformers", "cpu"): CostModel(110e-3, 87.2e-3, 5.49e-3, 5.21e-3, "table: transformers float32 on 2 CPU cores",
                                       per_row_context=15.4e-6),
    ("ctranslate2", "cuda"): CostModel(2e-3, 1.5e-3, 6e-6, 1e-6, "table: ctranslate2 on CUDA (estimated)",
                                       per_row_context=2e-8),
    ("transformers", "cuda"): CostModel(5e-3, 12e-3, 8e-6, 1e-6, "table: transformers bf16 on CUDA (estimated)",
                                        per_row_context=2e-8),
}


def table_cost_model(backend: str, device: str) -> CostModel:
    """The table's cost model for a backend (``ctranslate2`` or ``transformers``) on a device."""
    kind = "cuda" if str(device).startswith("cuda") else "cpu"
    return COST_TABLE[("ctranslate2" if backend.startswith("ct2") or backend == "ctranslate2" else "transformers",
                       kind)]


def fit_cost_model(samples: Sequence[tuple[int, int, int, float]], origin: str = "calibrated") -> CostModel:
    """Least-squares cost model from timed batches ``(rows, longest_source, steps, seconds)``,
    every coefficient non-negative (exact: the best fit over every subset of coefficients)."""
    if len(samples) < len(COEFFICIENTS):
        raise ValueError(f"a cost model needs at least {len(COEFFICIENTS)} timed batches, got {len(samples)}")
    features = np.array([[1.0, steps, steps * rows, rows * longest, rows * attended(longest, steps)]
                         for rows, longest, steps, _ in samples])
    seconds = np.array([s for *_, s in samples], dtype=float)
    # relative error matters (a small batch mispredicted by 2x is as bad as a big one): weight by 1/seconds
    weight = 1.0 / np.maximum(seconds, 1e-9)
    best, best_error = None, math.inf
    for size in range(len(COEFFICIENTS), 0, -1):
        for subset in itertools.combinations(range(len(COEFFICIENTS)), size):
            if 1 not in subset and 2 not in subset:
                continue  # decoding must cost something
            columns = list(subset)
            solution, *_ = np.linalg.lstsq(features[:, columns] * weight[:, None], seconds * weight, rcond=None)
            if (solution < 0).any():
                continue
            coefficients = np.zeros(len(COEFFICIENTS))
            coefficients[columns] = solution
            error = float(((((features @ coefficients) - seconds) * weight) ** 2).sum())
            if error < best_error - 1e-12:
                best, best_error = coefficients, error
    if best is None:
        raise ValueError("no non-negative cost model fits these timings")
    return CostModel(**dict(zip(COEFFICIENTS, map(float, best))), origin=f"{origin} from {len(samples)} timed batches")


def attended(longest_source: int, steps: int) -> float:
    """Positions one row attends to over a batch's decoding: the source at every step, and the
    outputs so far (1, 2, …, steps)."""
    return steps * longest_source + steps * (steps + 1) / 2


def calibrate(time_batch: Callable[[int, int, int], float],
              shapes: Sequence[tuple[int, int, int]] = ((1, 8, 8), (1, 48, 48), (8, 8, 32), (8, 32, 8),
                                                        (32, 16, 16), (64, 8, 8), (128, 16, 16), (64, 40, 44),
                                                        (16, 96, 104)),
              repeats: int = 2, origin: str = "calibrated") -> CostModel:
    """Time batches of the given ``(rows, source tokens, steps)`` shapes with ``time_batch``
    (which translates one such batch and returns its seconds); the fastest of ``repeats`` counts.
    One warm-up batch comes first."""
    time_batch(*shapes[0])
    samples = [(rows, longest, steps, min(time_batch(rows, longest, steps) for _ in range(repeats)))
               for rows, longest, steps in shapes]
    return fit_cost_model(samples, origin)


class Timer:
    """``time_batch`` for :func:`calibrate` over a backend: synthetic sources of the asked length,
    decoding pinned to the asked number of steps."""

    def __init__(self, backend, src: str, tgt: str, word: str = "house"):
        self.backend, self.src, self.tgt, self.word = backend, src, tgt, word

    def __call__(self, rows: int, longest: int, steps: int) -> float:
        from mmassets.translation.backend import GenerationSettings

        words = max(1, longest - 2)  # the language token and the end token count
        text = " ".join([self.word] * words)
        length = self.backend.token_lengths([text], self.src)[0]
        pinned = GenerationSettings(fixed_length_ratio=steps / length)
        started = time.perf_counter()
        self.backend.translate_batch([text] * rows, self.src, self.tgt, pinned)
        return time.perf_counter() - started


@dataclass(frozen=True)
class LengthModel:
    """Predicted decoding steps of a batch: ``ratio`` × its longest source, clamped to the
    decoding bounds ``(low, high)`` of the settings for that source length."""

    ratio: float
    bounds: Callable[[int], tuple[int, int]]

    def steps(self, longest_source: int) -> int:
        low, high = self.bounds(longest_source)
        return int(min(max(math.ceil(self.ratio * longest_source), low), high))


@dataclass(frozen=True)
class Plan:
    """Batches of indices into the planned lengths, with their predicted seconds, and what the
    plain loop over the same strings is predicted to take."""

    batches: list[list[int]]
    predicted_seconds: float
    loop_seconds: float


def plan(lengths: Sequence[int], cost: CostModel, steps: Callable[[int], int], *, max_batch_size: int,
         token_budget: int | None = None, loop_batch_size: int | None = None) -> Plan:
    """The batches of least predicted time over ``lengths`` (source tokens of each string).

    Sources are sorted longest first (ties in input order) and cut into contiguous runs of at most
    ``max_batch_size`` rows whose padded size (rows × longest) stays within ``token_budget`` (a single
    longer source goes alone). ``dp[j]``, the cheapest cost of the first ``j`` sorted sources, is the
    minimum over the last batch's start ``i`` of ``dp[i] + cost(j - i rows, longest = L[i])``:
    O(n × max_batch_size), vectorised over ``i``.

    Why contiguous runs suffice: take any partition into batches, ordered by their longest source.
    Every source longer than the k-th batch's longest lies in an earlier batch, so the first source
    of the k-th sorted run of the same size is no longer than it. The cost grows with the longest
    source, so the sorted runs cost no more — and the dynamic programme finds the best of them.
    ``loop_seconds`` predicts the plain loop: the same strings in input order, ``loop_batch_size``
    (default ``max_batch_size``) at a time.
    """
    if max_batch_size < 1 or (token_budget is not None and token_budget < 1):
        raise ValueError("max_batch_size and token_budget must be positive")
    n = len(lengths)
    loop_size = loop_batch_size or max_batch_size
    loop = sum(cost.batch_seconds(len(chunk), max(chunk), steps(max(chunk)))
               for chunk in (lengths[s:s + loop_size] for s in range(0, n, loop_size)))
    if n == 0:
        return Plan([], 0.0, 0.0)
    order = sorted(range(n), key=lambda i: -lengths[i])
    sorted_lengths = np.array([lengths[i] for i in order], dtype=np.int64)
    step_counts = np.array([steps(int(length)) for length in sorted_lengths], dtype=float)
    fixed = cost.per_batch + step_counts * cost.per_step          # cost of a batch starting at i, any size
    per_row = (step_counts * cost.per_row_token + sorted_lengths * cost.per_source_token  # + per row
               + cost.per_row_context * (step_counts * sorted_lengths + step_counts * (step_counts + 1) / 2))
    capacity = np.full(n, max_batch_size, dtype=np.int64)
    if token_budget is not None:
        capacity = np.minimum(capacity, np.maximum(1, token_budget // sorted_lengths))
    best = np.zeros(n + 1)
    start = np.zeros(n + 1, dtype=np.int64)
    for j in range(1, n + 1):
        low = max(0, j - max_batch_size)
        rows = j - np.arange(low, j)
        candidates = best[low:j] + fixed[low:j] + per_row[low:j] * rows
        candidates[rows > capacity[low:j]] = np.inf
        k = int(np.argmin(candidates))  # the first minimum: the largest batch among equals
        best[j], start[j] = candidates[k], low + k
    batches: list[list[int]] = []
    j = n
    while j > 0:
        batches.append(order[start[j]:j])
        j = int(start[j])
    batches.reverse()
    return Plan(batches, float(best[n]), float(loop))
