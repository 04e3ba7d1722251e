"""Refresh: after a full build, changing one raw file and observing the raw inputs makes the
automation conditions request exactly the assets (and partitions) built from that file."""

import json

import dagster as dg
import pytest

from mmassets.definitions import build_definitions
from mmassets.languages import LanguageTable
from mmassets.settings import Settings

from test_build_sample import run_build


@pytest.fixture(scope="module")
def refreshable(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("refresh") / "data"
    code, out = run_build(data_dir)
    assert code == 0, out
    settings = Settings.from_env({}, data_dir=str(data_dir))
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    return defs, instance, settings.raw_dir, data_dir


def observe(defs, instance) -> None:
    assert defs.resolve_job_def("observe_raw_inputs").execute_in_process(instance=instance).success


def tick(defs, instance, cursor):
    """One evaluation of the automation conditions: {asset: requested subset}, next cursor."""
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    requested = {r.key.to_user_string(): r.true_subset for r in result.results
                 if isinstance(r.key, dg.AssetKey) and r.true_subset.size}
    return requested, result.cursor


def refresh(defs, instance, data_dir, cursor):
    """What the daemon does: tick, run what was requested, tick again, until nothing is requested.
    Returns every asset requested on the way, with its requested partitions, and the cursor."""
    requested_all: dict[str, set[str]] = {}
    for _ in range(6):
        requested, cursor = tick(defs, instance, cursor)
        if not requested:
            return requested_all, cursor
        for key, subset in requested.items():
            requested_all.setdefault(key, set()).update(partitions(subset))
        selection = " or ".join(f'key:"{key}"' for key in requested)
        code, out = run_build(data_dir, "--select", selection)
        assert code == 0, out
    raise AssertionError(f"still requesting after 6 ticks: {requested_all}")


def partitions(subset) -> set[str]:
    return set(subset.expensively_compute_partition_keys()) if subset.is_partitioned else {"-"}


def test_only_what_a_changed_file_feeds_is_recomputed(refreshable):
    defs, instance, raw, data_dir = refreshable
    observe(defs, instance)  # the build observed the raw inputs already: same data versions
    nothing, cursor = tick(defs, instance, None)
    assert nothing == {}  # unchanged raw files: nothing to do

    pope = raw / "pope" / "coco_pope_random.json"
    pope.write_text(pope.read_text(encoding="utf-8").replace('"text": "Is there a', '"text": "Is there any', 1),
                    encoding="utf-8")
    observe(defs, instance)
    requested, cursor = refresh(defs, instance, data_dir, cursor)
    # the POPE folder also holds CHAIR's object file: both benchmarks read the changed dataset
    assert requested == {"eval/pope": {"en"}, "eval/chair": {"en"}}

    coco = raw / "coco" / "dataset_coco.json"
    data = json.loads(coco.read_text(encoding="utf-8"))
    data["images"][0]["sentences"][0]["raw"] = "A completely new caption of the first image."
    coco.write_text(json.dumps(data), encoding="utf-8")
    observe(defs, instance)
    requested, cursor = refresh(defs, instance, data_dir, cursor)
    coco_tasks = {f"{layer}/{task}" for layer in ("english", "translated", "train")
                  for task in ("coco_captions", "caption_matching")}
    assert set(requested) == {"raw/coco_karpathy", *coco_tasks, "mixture/mblip_v1", "mixture/mblip_v2", "eval/coco_karpathy",
                              "eval/chair", "dataoptim/coco", "mixture/dataoptim_all", "dataoptim/submission"}
    assert requested["translated/coco_captions"] == set(LanguageTable.load().codes)  # a new English file: every slice
    # translated/caption_instructions, the other datasets' tasks and benchmarks were not requested: their inputs
    # did not change


def test_schedule_and_sensors_are_defined_and_running(refreshable):
    defs = refreshable[0]
    schedule = defs.resolve_schedule_def("weekly_raw_refresh")
    assert schedule.cron_schedule == "0 4 * * 1"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    for name in ("raw_folder_sensor", "refresh_downstream"):
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING
