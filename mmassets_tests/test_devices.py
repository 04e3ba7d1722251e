"""GPU planning without GPUs: the count (detected or MMASSETS_GPUS), the slices of a language range,
and the device a pinned translation step loads on."""

import pytest

from mmassets.devices import GPU_TAG, gpu_count, pinned_device, split_for_gpus
from mmassets.languages import SOURCE_LANGUAGE, LanguageTable


def test_the_count_comes_from_the_variable_when_set():
    assert gpu_count({"MMASSETS_GPUS": "4"}) == 4
    assert gpu_count({"MMASSETS_GPUS": "0"}) == 0
    with pytest.raises(ValueError, match="MMASSETS_GPUS='two'"):
        gpu_count({"MMASSETS_GPUS": "two"})


def test_slices_are_contiguous_non_empty_and_cover_every_key_once():
    keys = [f"k{i:02d}" for i in range(23)]
    for gpus in range(1, 30):
        slices = split_for_gpus(keys, gpus)
        assert len(slices) == min(gpus, len(keys))
        assert all(slices) and [k for part in slices for k in part] == keys
    assert split_for_gpus(keys, 0) == [tuple(keys)] == split_for_gpus(keys, 1)
    assert split_for_gpus([], 4) == []


def test_slices_balance_the_work_of_the_language_mix():
    table = LanguageTable.load()
    keys = table.codes
    share = table.shares()
    weight = lambda code: 0.0 if code == SOURCE_LANGUAGE else share[code]
    slices = split_for_gpus(keys, 4, weight)
    work = [sum(weight(k) for k in part) for part in slices]
    even = [sum(weight(k) for k in part) for part in split_for_gpus(keys, 4)]  # by count, not by work
    assert max(work) - min(work) < max(even) - min(even)
    heaviest = max(share[k] for k in keys if k != SOURCE_LANGUAGE)
    assert max(work) <= sum(work) / 4 + heaviest  # a slice exceeds its share by less than one language


def test_a_pinned_run_loads_on_its_gpu_and_an_explicit_device_wins():
    assert pinned_device("auto", {GPU_TAG: "2"}, lambda: True) == ("cuda:2", None)
    assert pinned_device("auto", {}, lambda: True) == ("auto", None)
    assert pinned_device("cuda:0", {GPU_TAG: "2"}, lambda: True) == ("cuda:0", None)
    device, note = pinned_device("auto", {GPU_TAG: "1"}, lambda: False)
    assert device == "cpu" and "pinned to GPU 1" in note
    with pytest.raises(ValueError, match="GPU index"):
        pinned_device("auto", {GPU_TAG: "x"}, lambda: True)
