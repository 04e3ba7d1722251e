"""GPUs: how many this machine has, how a range of language partitions is split over them, and
which device a translation step pinned to one of them loads its model on.

With N GPUs, ``mmassets build`` runs each translation stage as N runs side by side, each over a
contiguous slice of the language partitions (the slices weighted by the work they hold) and tagged
with its GPU (``GPU_TAG``); the translator of a step in such a run loads its model on that GPU
(``pinned_device``). Nothing here imports torch or dagster.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence

GPU_TAG = "mmassets/gpu"
"""Run tag: the index of the GPU the run's translation steps load their model on."""
DEVICE_TAG = "mmassets/device"
"""Op tag of the steps that hold a model on the GPU (``gpu``): one at a time in a run."""
GPUS_VARIABLE = "MMASSETS_GPUS"
"""Overrides the GPUs detected (fewer than the machine has, or a count to plan for)."""


def detected_gpus() -> int:
    """NVIDIA GPUs on this machine, without importing torch (``nvidia-smi -L`` lists one per line)."""
    if not shutil.which("nvidia-smi"):
        return 0
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(line.startswith("GPU ") for line in listed.splitlines())


def gpu_count(env: Mapping[str, str] | None = None) -> int:
    """``MMASSETS_GPUS`` when set (a whole number >= 0), else the GPUs detected."""
    value = (os.environ if env is None else env).get(GPUS_VARIABLE, "").strip()
    if not value:
        return detected_gpus()
    if not value.isdigit():
        raise ValueError(f"{GPUS_VARIABLE}={value!r}: expected a whole number of GPUs >= 0")
    return int(value)


def split_for_gpus(keys: Sequence[str], gpus: int,
                   weight: Callable[[str], float] = lambda _key: 1.0) -> list[tuple[str, ...]]:
    """``keys`` (ordered partition keys) as at most ``gpus`` contiguous, non-empty slices of about
    equal total ``weight``: slice i ends where the running weight first reaches i/gpus of the whole
    (each slice a partition range, so one step per slice). Fewer slices than GPUs when there are
    fewer keys; one slice when there are no GPUs or one."""
    keys = tuple(keys)
    count = max(1, min(gpus, len(keys)))
    if count == 1:
        return [keys] if keys else []
    weights = [max(float(weight(key)), 0.0) for key in keys]
    if sum(weights) <= 0:
        weights = [1.0] * len(keys)
    cumulative = list(itertools.accumulate(weights))
    cuts: list[int] = []
    for i in range(1, count):  # slice i-1 ends after the first key where the running weight reaches i/count
        reached = next((j for j, c in enumerate(cumulative) if c >= cumulative[-1] * i / count), len(keys) - 1)
        lowest, highest = (cuts[-1] if cuts else 0) + 1, len(keys) - (count - i)  # non-empty slices all
        cuts.append(min(max(reached + 1, lowest), highest))
    bounds = [0, *cuts, len(keys)]
    return [keys[a:b] for a, b in itertools.pairwise(bounds)]


def pinned_device(device: str, tags: Mapping[str, str], cuda_available: Callable[[], bool]) -> tuple[str, str | None]:
    """The device a translator set to ``device`` loads on in a run with ``tags``, and a note when the
    pin could not be followed. ``auto`` in a run pinned to GPU k is ``cuda:k``; a device set
    explicitly wins over the pin. Without CUDA (a plan made for GPUs this machine lacks, as in the
    tests) the pin falls back to the CPU and says so."""
    gpu = tags.get(GPU_TAG)
    if device != "auto" or gpu is None:
        return device, None
    if not str(gpu).isdigit():
        raise ValueError(f"run tag {GPU_TAG}={gpu!r}: expected a GPU index")
    if not cuda_available():
        return "cpu", f"pinned to GPU {gpu}, but CUDA is not available here: loaded on the CPU"
    return f"cuda:{gpu}", None
