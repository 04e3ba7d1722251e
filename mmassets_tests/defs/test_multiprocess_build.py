"""`mmassets build --executor multiprocess` with three GPUs planned (MMASSETS_GPUS=3 on a machine
without any): independent steps run side by side in their own processes, each translation stage is
three runs over contiguous slices of the languages, pinned to GPU 0, 1 and 2, every partition is
materialized once, and what is stored is byte-identical to an in-process build."""

import contextlib
import os
import signal

import dagster as dg
import pytest
from builds import finish, run_build, start_build, wait_for_pool_slot

from mmassets.devices import GPU_TAG
from mmassets.languages import LanguageTable

SELECTION = '+key:"translated/coco_captions" or +key:"translated/vqav2_vqa"'
TRANSLATED = [dg.AssetKey(["translated", "coco_captions"]), dg.AssetKey(["translated", "vqav2_vqa"])]


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    root = tmp_path_factory.mktemp("multiprocess")
    process = start_build(root / "multi", "--select", SELECTION, "--executor", "multiprocess",
                          env={"MMASSETS_GPUS": "3"})
    out = finish(process, 300)
    assert process.returncode == 0, out
    code, in_process_out = run_build(root / "single", "--select", SELECTION)
    assert code == 0, in_process_out
    instance = dg.DagsterInstance.from_config(str(root / "multi" / "dagster_home"))
    return root, out, instance, process.pid


def test_each_translation_stage_is_three_runs_over_contiguous_slices(builds):
    _, out, instance, _ = builds
    assert "executor multiprocess, 3 GPUs" in out
    pinned = instance.get_runs(filters=dg.RunsFilter(tags={GPU_TAG: "0"}))
    assert len(pinned) == 1 and sorted(pinned[0].asset_selection) == TRANSLATED
    languages = LanguageTable.load().codes
    slices = []
    for gpu in "012":
        (run,) = instance.get_runs(filters=dg.RunsFilter(tags={GPU_TAG: gpu}))
        assert run.is_success and f"on GPU {gpu}" in out
        start, end = languages.index(run.tags["dagster/asset_partition_range_start"]), \
            languages.index(run.tags["dagster/asset_partition_range_end"])
        slices.append(languages[start:end + 1])
    assert [code for part in slices for code in part] == languages  # in order, each once


def test_every_partition_is_materialized_once_by_the_run_of_its_slice_on_its_gpu(builds):
    _, _, instance, _ = builds
    for key in TRANSLATED:
        events = instance.fetch_materializations(key, limit=1000).records
        partitions = [e.partition_key for e in events]
        assert sorted(partitions) == sorted(LanguageTable.load().codes)  # each once
        for record in events:
            run = instance.get_run_by_id(record.run_id)
            meta = record.asset_materialization.metadata
            assert meta["pinned GPU"].value == int(run.tags[GPU_TAG])
            if "translation" in meta:  # not English (it passes through), nor a language without rows
                assert meta["translator device"].value == "cpu"  # no CUDA here: the pin falls back, and says so


def test_the_runs_of_the_slices_ran_side_by_side_and_steps_in_their_own_processes(builds):
    _, _, instance, build_pid = builds
    spans = []
    for gpu in "012":
        (run,) = instance.get_runs(filters=dg.RunsFilter(tags={GPU_TAG: gpu}))
        stats = instance.get_run_stats(run.run_id)
        spans.append((stats.start_time, stats.end_time))
    assert max(start for start, _ in spans) < min(end for _, end in spans)  # all three at once
    (first,) = [r for r in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS]))
                if dg.AssetKey(["raw", "coco_karpathy"]) in (r.asset_selection or ())]
    started = instance.all_logs(first.run_id, of_type=dg.DagsterEventType.STEP_START)
    pids = {e.dagster_event.step_key: e.dagster_event.pid for e in started}
    assert len(pids) == 4 and len(set(pids.values())) == 4 and build_pid not in pids.values()


def test_what_is_stored_is_the_same_as_in_process(builds):
    root = builds[0]
    for key in TRANSLATED:
        folder = os.path.join(*key.path)
        multi, single = root / "multi" / "assets" / folder, root / "single" / "assets" / folder
        names = sorted(p.name for p in single.iterdir())
        assert names == sorted(p.name for p in multi.iterdir()) and len(names) == len(LanguageTable.load().codes)
        for name in names:
            assert (multi / name).read_bytes() == (single / name).read_bytes(), f"{folder}/{name}"


def test_ctrl_c_stops_the_runs_side_by_side_in_order(tmp_path):
    """Ctrl-C (SIGINT to the build's process group, as a terminal sends it) while the slices translate:
    the runs' processes are stopped by the build, their runs marked failed, the pool's slots freed,
    the summary printed, exit 130, and no traceback on the console."""
    data = tmp_path / "data"
    process = start_build(data, "--select", SELECTION, "--executor", "multiprocess", env={"MMASSETS_GPUS": "2"})
    wait_for_pool_slot(data, process)
    os.killpg(process.pid, signal.SIGINT)
    out = finish(process, 120, "the build did not stop after Ctrl-C")
    assert process.returncode == 130, out
    assert "interrupted: the build stopped" in out and "Traceback" not in out, out
    instance = dg.DagsterInstance.from_config(str(data / "dagster_home"))
    pinned = [run for gpu in "01" for run in instance.get_runs(filters=dg.RunsFilter(tags={GPU_TAG: gpu}))]
    assert pinned and all(run.status == dg.DagsterRunStatus.FAILURE for run in pinned)  # a slice may not have begun
    assert not instance.event_log_storage.get_concurrency_info("gpu").claimed_slots


def test_a_build_killed_with_sigkill_leaves_no_run_holding_a_gpu(tmp_path):
    """SIGKILL to the build alone (it cannot pass that on): the runs' processes see it gone, stop as
    at Ctrl-C, fail their runs and free the pool's slots, so that the next build does not wait."""
    import time

    data = tmp_path / "data"
    process = start_build(data, "--select", SELECTION, "--executor", "multiprocess", env={"MMASSETS_GPUS": "2"})
    wait_for_pool_slot(data, process)
    process.kill()
    process.communicate()
    instance = dg.DagsterInstance.from_config(str(data / "dagster_home"))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        pinned = [run for gpu in "01" for run in instance.get_runs(filters=dg.RunsFilter(tags={GPU_TAG: gpu}))]
        if pinned and all(run.is_finished for run in pinned) and \
                not instance.event_log_storage.get_concurrency_info("gpu").claimed_slots:
            break
        time.sleep(1)
    assert pinned and all(run.status == dg.DagsterRunStatus.FAILURE for run in pinned), [r.status for r in pinned]
    assert not instance.event_log_storage.get_concurrency_info("gpu").claimed_slots


def _processes() -> dict[int, tuple[int, int]]:
    """pid → (parent pid, process group) of every live process (zombies left out), from /proc."""
    from pathlib import Path

    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] not in ("Z", "X"):
            found[int(entry.name)] = (int(fields[1]), int(fields[2]))
    return found


def _descendants(pid: int) -> set[int]:
    processes = _processes()
    found, new = set(), {pid}
    while new:
        found |= new
        new = {child for child, (parent, _) in processes.items() if parent in new} - found
    return found - {pid}


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="processes are followed through /proc")
def test_a_multiprocess_build_killed_with_sigkill_leaves_no_process_behind(tmp_path):
    """SIGKILL to the build alone while a step runs: its step processes and the server that forks
    them (which would otherwise live for ever, holding memory and the translation memory) die with it."""
    import time

    data = tmp_path / "data"
    process = start_build(data, "--select", '+key:"translated/coco_captions"', "--executor", "multiprocess",
                          env={"MMASSETS_GPUS": "0"})
    try:
        wait_for_pool_slot(data, process)
        left = _descendants(process.pid)
        assert len(left) >= 2, "expected the fork server and a step process"
    finally:
        process.kill()
        process.wait()
        process.stdout.close()  # not read to its end: what outlives the build holds the pipe open
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        alive = {pid for pid, (_, group) in _processes().items() if pid in left or group == process.pid}
        if not alive:
            break
        time.sleep(0.2)
    for pid in alive:  # not left running after the test
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not alive, f"still alive after the build was killed: {sorted(alive)}"
